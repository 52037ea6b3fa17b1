use std::fmt;
use std::sync::Arc;

use auth_core::jwt::JwtVerifier;
#[cfg(feature = "token-cache")]
use auth_core::jwt::TokenCache;
#[cfg(feature = "revocation")]
use auth_core::revocation::RevocationStore;
use auth_core::{AuthError, ConfigError, Principal};
use serde::de::DeserializeOwned;
use tower_layer::Layer;

use super::service::Bearer;
use crate::rejection::Realm;
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
}

impl BearerConfig {
    /// Verifies `token`, through the verified-token cache when one is configured.
    #[inline]
    pub(crate) fn verify(&self, token: &str) -> auth_core::jwt::Verify {
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
}

impl BearerLayerBuilder {
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
            }),
            responder: DefaultRejection,
        })
    }
}
