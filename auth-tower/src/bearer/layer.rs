use std::fmt;
use std::sync::Arc;

#[cfg(feature = "introspection")]
use auth_core::introspection::Introspector;
use auth_core::jwt::JwtVerifier;
#[cfg(feature = "token-cache")]
use auth_core::jwt::TokenCache;
#[cfg(feature = "revocation")]
use auth_core::revocation::RevocationStore;
use auth_core::{AuthError, ConfigError, Principal};
use serde::de::DeserializeOwned;
use tower_layer::Layer;

#[cfg(feature = "dpop")]
use super::dpop::{Dpop, DpopMode};
use super::service::Bearer;
use crate::rejection::{ChallengeExtras, Realm, Schemes};
use crate::resource_metadata::{ProtectedResource, ResourceMetadata};
use crate::response::DefaultRejection;

pub(crate) type ClaimsInserter = fn(&Principal, &mut http::Extensions) -> Result<(), AuthError>;

fn insert_claims<C>(p: &Principal, ext: &mut http::Extensions) -> Result<(), AuthError>
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    ext.insert(p.verified_claims::<C>()?);
    Ok(())
}

/// Validated, shared configuration of a [`BearerLayer`].
#[derive(Clone)]
pub(crate) struct BearerConfig {
    pub(crate) verifier: JwtVerifier,
    pub(crate) realm: Realm,
    pub(crate) cookie: Option<Box<str>>,
    pub(crate) optional: bool,
    pub(crate) insert_claims: Option<ClaimsInserter>,
    #[cfg(feature = "revocation")]
    pub(crate) revocation: Option<Arc<dyn RevocationStore>>,
    #[cfg(feature = "token-cache")]
    pub(crate) cache: Option<TokenCache>,
    /// Opaque (not JWT-shaped) tokens go to the issuer's introspection endpoint.
    #[cfg(feature = "introspection")]
    pub(crate) introspector: Option<Introspector>,
    /// DPoP: proofs, modes per issuer, replay store.
    #[cfg(feature = "dpop")]
    pub(crate) dpop: Option<Dpop>,
    /// The RFC 9728 description of the API, if any.
    pub(crate) resource: Option<ProtectedResource>,
    /// The schemes challenged (`Bearer` unless DPoP is required everywhere, `DPoP` when on).
    pub(crate) schemes: Schemes,
    /// The challenges' `algs` and `resource_metadata`.
    pub(crate) extras: ChallengeExtras,
}

impl BearerConfig {
    /// Whether `Authorization: DPoP` is read at all.
    #[inline]
    pub(crate) fn accepts_dpop(&self) -> bool {
        #[cfg(feature = "dpop")]
        return self.dpop.as_ref().is_some_and(Dpop::any_dpop);
        #[cfg(not(feature = "dpop"))]
        false
    }

    /// Verifies `token`, through the verified-token cache when one is configured.
    #[inline]
    pub(crate) fn verify(&self, token: &str) -> auth_core::jwt::Verify {
        #[cfg(feature = "introspection")]
        if let Some(introspector) = &self.introspector
            && !auth_core::introspection::is_jwt_shaped(token)
        {
            tracing::trace!(target: "auth::decision", method = "bearer", verification = "introspection");
            return introspector.verify(token);
        }
        #[cfg(feature = "token-cache")]
        if let Some(cache) = &self.cache {
            return cache.verify(&self.verifier, token);
        }
        self.verifier.verify(token)
    }
}

impl fmt::Debug for BearerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BearerConfig");
        d.field("verifier", &self.verifier)
            .field("realm", &self.realm)
            .field("cookie", &self.cookie)
            .field("optional", &self.optional)
            .field("typed_claims", &self.insert_claims.is_some());
        #[cfg(feature = "token-cache")]
        d.field("token_cache", &self.cache);
        #[cfg(feature = "introspection")]
        d.field("introspector", &self.introspector);
        d.finish_non_exhaustive()
    }
}

/// Layer that authenticates requests with JWT bearer tokens. See the [module docs](super).
///
/// `R` is the responder that renders rejections (default: [`DefaultRejection`]).
#[derive(Clone, Debug)]
#[must_use]
pub struct BearerLayer<R = DefaultRejection> {
    config: Arc<BearerConfig>,
    responder: R,
}

impl BearerLayer {
    /// A layer with the default settings: realm `api`, header only, authentication required.
    pub fn new(verifier: JwtVerifier) -> Self {
        Self {
            config: Arc::new(BearerConfig {
                verifier,
                realm: Realm::default(),
                cookie: None,
                optional: false,
                insert_claims: None,
                #[cfg(feature = "revocation")]
                revocation: None,
                #[cfg(feature = "token-cache")]
                cache: None,
                #[cfg(feature = "introspection")]
                introspector: None,
                #[cfg(feature = "dpop")]
                dpop: None,
                resource: None,
                schemes: Schemes::BEARER,
                extras: ChallengeExtras::default(),
            }),
            responder: DefaultRejection,
        }
    }

    /// A builder for the realm, a cookie source and optional mode.
    pub fn builder(verifier: JwtVerifier) -> BearerLayerBuilder {
        BearerLayerBuilder {
            verifier,
            realm: None,
            cookie: None,
            optional: false,
            #[cfg(feature = "revocation")]
            revocation: None,
            #[cfg(feature = "token-cache")]
            cache: None,
            #[cfg(feature = "introspection")]
            introspector: None,
            #[cfg(feature = "dpop")]
            dpop: None,
            resource: None,
        }
    }
}

impl<R> BearerLayer<R> {
    /// Also deserializes the verified claims into `C` and inserts
    /// [`VerifiedClaims<C>`](auth_core::VerifiedClaims) into the request extensions. A token
    /// whose claims do not fit `C` is rejected as `INVALID_TOKEN`.
    pub fn with_claims<C>(mut self) -> Self
    where
        C: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).insert_claims = Some(insert_claims::<C>);
        self
    }

    /// The RFC 9728 metadata service of the API this layer protects, when the builder was given
    /// a [`ProtectedResource`]: the document at the very URL this layer's challenges name in
    /// `resource_metadata`, with the authorization servers (by default the verifier's issuers),
    /// the scopes, `bearer_methods_supported` (`header`) and, with DPoP, the proof algorithms
    /// and whether DPoP-bound tokens are required. See [`crate::resource_metadata`].
    #[must_use]
    pub fn resource_metadata(&self) -> Option<ResourceMetadata> {
        let c = &*self.config;
        let resource = c.resource.as_ref()?;
        #[allow(unused_mut)]
        let mut issuers = c.verifier.trusted_issuers();
        #[cfg(feature = "introspection")]
        if let Some(i) = &c.introspector
            && !issuers.contains(&i.issuer())
        {
            issuers.push(i.issuer());
        }
        #[allow(unused_mut)]
        let mut dpop = crate::resource_metadata::DpopFacts::default();
        #[cfg(feature = "dpop")]
        if let Some(d) = c.dpop.as_ref().filter(|d| d.any_dpop()) {
            dpop.algorithms = Some(d.verifier.algorithms_value());
            dpop.required = d.required_everywhere();
        }
        Some(ResourceMetadata::new(resource, &issuers, &["header"], dpop))
    }

    /// Replaces the responder that renders rejections.
    pub fn responder<R2>(self, responder: R2) -> BearerLayer<R2> {
        BearerLayer {
            config: self.config,
            responder,
        }
    }
}

impl<S, R: Clone> Layer<S> for BearerLayer<R> {
    type Service = Bearer<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Bearer::from_parts(inner, Arc::clone(&self.config), self.responder.clone())
    }
}

/// Builds a [`BearerLayer`]; created by [`BearerLayer::builder`].
#[derive(Debug)]
#[must_use]
pub struct BearerLayerBuilder {
    verifier: JwtVerifier,
    realm: Option<String>,
    cookie: Option<String>,
    optional: bool,
    #[cfg(feature = "revocation")]
    revocation: Option<Arc<dyn RevocationStore>>,
    #[cfg(feature = "token-cache")]
    cache: Option<TokenCache>,
    #[cfg(feature = "introspection")]
    introspector: Option<Introspector>,
    #[cfg(feature = "dpop")]
    dpop: Option<Dpop>,
    resource: Option<ProtectedResource>,
}

impl BearerLayerBuilder {
    /// Accepts DPoP-bound tokens (RFC 9449): `Authorization: DPoP <token>` with a `DPoP` proof
    /// header, checked by `dpop` (per issuer: off, allowed or required; see [`Dpop`]). Tokens
    /// bound to a key (`cnf.jkt`) are refused as `Bearer`, with or without this. Failures
    /// answer 401 with `WWW-Authenticate: DPoP algs="..", error="invalid_dpop_proof"` (code
    /// `INVALID_DPOP_PROOF`), or `use_dpop_nonce` and a `DPoP-Nonce` header (`USE_DPOP_NONCE`)
    /// when the verifier requires nonces; a failing replay store answers 503.
    ///
    /// ```
    /// use auth_core::dpop::{DpopVerifier, ExternalOrigin};
    /// use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
    /// use auth_tower::bearer::{BearerLayer, Dpop, DpopMode};
    ///
    /// let verifier = JwtVerifier::builder()
    ///     .key(VerificationKey::hmac(Algorithm::HS256, [7u8; 32])?)
    ///     .audience("api")
    ///     .build()?;
    /// let dpop = Dpop::new(DpopVerifier::builder().build()?, ExternalOrigin::parse("https://api.example")?)
    ///     .mode(DpopMode::Required);
    /// let layer = BearerLayer::builder(verifier).dpop(dpop).build()?;
    /// # let _ = layer;
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    #[cfg(feature = "dpop")]
    #[cfg_attr(docsrs, doc(cfg(feature = "dpop")))]
    pub fn dpop(mut self, dpop: Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// Describes the protected API (RFC 9728): every challenge then carries
    /// `resource_metadata="<its metadata URL>"`, and [`BearerLayer::resource_metadata`] serves
    /// the document there. See [`crate::resource_metadata`].
    pub fn protected_resource(mut self, resource: ProtectedResource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// The realm named in `WWW-Authenticate` (default `api`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Also reads the token from this cookie when no `Authorization` header is sent.
    ///
    /// Cookie-authenticated requests are exposed to CSRF: pair this with CSRF protection for
    /// unsafe methods.
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie = Some(name.into());
        self
    }

    /// Optional mode: requests without credentials pass through without a principal; a present
    /// but invalid token is still rejected.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Consults `store` after every successful verification: a token revoked by `jti`, or
    /// issued at or before its subject's revocation instant, is rejected with 401
    /// `TOKEN_REVOKED`; a store that fails answers 503 `AUTH_BACKEND_UNAVAILABLE` (fail
    /// closed). Stores that answer synchronously (the in-memory default) add no boxed future.
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
    /// use auth_core::revocation::MemoryRevocationStore;
    /// use auth_tower::bearer::BearerLayer;
    /// use std::sync::Arc;
    ///
    /// let verifier = JwtVerifier::builder()
    ///     .key(VerificationKey::hmac(Algorithm::HS256, [7u8; 32])?)
    ///     .audience("api")
    ///     .build()?;
    /// let store = Arc::new(MemoryRevocationStore::new());
    /// let layer = BearerLayer::builder(verifier).revocation(store).build()?;
    /// # let _ = layer;
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    #[cfg(feature = "revocation")]
    #[cfg_attr(docsrs, doc(cfg(feature = "revocation")))]
    pub fn revocation(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocation = Some(store);
        self
    }

    /// Remembers verified tokens in `cache`, so a token seen before skips the header decoding,
    /// the signature check and the claim parsing. On every request, hit or not, the time
    /// claims (`exp`, `nbf`, `iat` with the verifier's leeway) are checked against the
    /// verifier's clock and the revocation store (if any) is consulted; failures are never
    /// cached. See [`TokenCache`] for the bounds and the trade-offs (entries outlive the removal
    /// of a key by at most the cache's `max_ttl`).
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, JwtVerifier, TokenCache, VerificationKey};
    /// use auth_tower::bearer::BearerLayer;
    /// use std::num::NonZeroUsize;
    /// use std::time::Duration;
    ///
    /// let verifier = JwtVerifier::builder()
    ///     .key(VerificationKey::hmac(Algorithm::HS256, [7u8; 32])?)
    ///     .audience("api")
    ///     .build()?;
    /// let cache = TokenCache::new(NonZeroUsize::new(100_000).unwrap(), Duration::from_secs(300));
    /// let layer = BearerLayer::builder(verifier).token_cache(cache).build()?;
    /// # let _ = layer;
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    #[cfg(feature = "token-cache")]
    #[cfg_attr(docsrs, doc(cfg(feature = "token-cache")))]
    pub fn token_cache(mut self, cache: TokenCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Introspects opaque tokens (RFC 7662): a token that is not JWT-shaped (three
    /// dot-separated parts) is sent to `introspector`'s authorization server, whose answer is
    /// cached (see [`auth_core::introspection`]: active answers until `exp`, at most the
    /// introspector's `active_ttl`, by default 60 s, which is the revocation delay). JWT-shaped
    /// tokens are still verified locally by the layer's [`JwtVerifier`]. An inactive token
    /// answers 401 `INVALID_TOKEN`; a server that fails or times out, 503
    /// `AUTH_BACKEND_UNAVAILABLE`. The revocation store and DPoP checks apply to introspected
    /// tokens as to JWTs.
    ///
    /// ```
    /// use auth_core::client_auth::ClientAuth;
    /// use auth_core::introspection::Introspector;
    /// use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
    /// use auth_tower::bearer::BearerLayer;
    /// # #[derive(Debug)] struct Http;
    /// # impl auth_core::jwks::HttpClient for Http {
    /// #     fn get(&self, _: auth_core::jwks::FetchRequest) -> auth_core::jwt::BoxFuture<'static,
    /// #         Result<auth_core::jwks::HttpResponse, auth_core::jwks::HttpError>> {
    /// #         Box::pin(async { Err(auth_core::jwks::HttpError::Timeout) })
    /// #     }
    /// # }
    ///
    /// let verifier = JwtVerifier::builder()
    ///     .key(VerificationKey::hmac(Algorithm::HS256, [7u8; 32])?)
    ///     .issuer("https://as.example")
    ///     .audience("api")
    ///     .build()?;
    /// let introspector = Introspector::builder(
    ///     ClientAuth::client_secret_basic("api", "s3cr3t")?,
    ///     "https://as.example",
    /// )
    /// .audience("api")
    /// .http_client(Http)
    /// .build()?;
    /// let layer = BearerLayer::builder(verifier).introspection(introspector).build()?;
    /// # let _ = layer;
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    #[cfg(feature = "introspection")]
    #[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
    pub fn introspection(mut self, introspector: Introspector) -> Self {
        self.introspector = Some(introspector);
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] when the realm is empty or holds quotes, backslashes
    /// or control characters, or the cookie name is not an RFC 6265 token.
    pub fn build(self) -> Result<BearerLayer, ConfigError> {
        let realm = match &self.realm {
            Some(r) => Realm::new(r)?,
            None => Realm::default(),
        };
        if let Some(c) = &self.cookie {
            let token = !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            if !token {
                return Err(ConfigError::InvalidHeaderValue {
                    what: "cookie name",
                });
            }
        }
        #[allow(unused_mut)]
        let mut schemes = Schemes::BEARER;
        #[allow(unused_mut)]
        let mut extras = ChallengeExtras {
            dpop_algs: None,
            resource_metadata: self.resource.as_ref().map(|r| Arc::from(r.metadata_url())),
        };
        #[cfg(feature = "dpop")]
        if let Some(d) = self.dpop.as_ref().filter(|d| d.any_dpop()) {
            schemes.dpop = true;
            schemes.bearer = !d.required_everywhere();
            extras.dpop_algs = Some(Arc::from(d.verifier.algorithms_value()));
        }
        #[cfg(feature = "dpop")]
        if self.dpop.as_ref().is_some_and(|d| {
            d.mode == DpopMode::Off && d.issuers.iter().all(|(_, m)| *m == DpopMode::Off)
        }) {
            tracing::warn!(target: "auth::dpop", "dpop configured with every issuer off");
        }
        Ok(BearerLayer {
            config: Arc::new(BearerConfig {
                verifier: self.verifier,
                realm,
                cookie: self.cookie.map(String::into_boxed_str),
                optional: self.optional,
                insert_claims: None,
                #[cfg(feature = "revocation")]
                revocation: self.revocation,
                #[cfg(feature = "token-cache")]
                cache: self.cache,
                #[cfg(feature = "introspection")]
                introspector: self.introspector,
                #[cfg(feature = "dpop")]
                dpop: self.dpop,
                resource: self.resource,
                schemes,
                extras,
            }),
            responder: DefaultRejection,
        })
    }
}
