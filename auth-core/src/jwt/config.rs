//! [`JwtVerifierBuilder`]: every setting is checked in [`build`](JwtVerifierBuilder::build),
//! never per request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::claims::ClaimNames;
use super::key::VerificationKey;
use super::key_set::KeySet;
use super::mapping::ClaimMapping;
use super::resolver::{KeyResolver, StaticKeys};
use super::trusted_issuer::TrustedIssuer;
use super::verifier::{ClaimCheck, ClaimRules, JwtVerifier, Tenant, VerifierInner};
use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::principal::Principal;

/// The default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// The largest leeway a verifier accepts.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The default maximum token length, checked before anything is decoded.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
/// How many keys a token without `kid` is tried against by default, when the key set has no
/// key without `kid` for its algorithm (see [`JwtVerifierBuilder::keys_tried_without_kid`]).
pub const DEFAULT_KEYS_TRIED_WITHOUT_KID: usize = 2;
/// The largest [`JwtVerifierBuilder::keys_tried_without_kid`] accepted.
pub const MAX_KEYS_TRIED_WITHOUT_KID: usize = 8;

const REGISTERED: [&str; 7] = ["sub", "iss", "aud", "exp", "nbf", "iat", "jti"];

/// Builds a [`JwtVerifier`]. Created by [`JwtVerifier::builder`].
///
/// Defaults: 30 s leeway, 8 KiB maximum token length, `exp` and `sub` required, scopes from
/// `scope` (space-delimited) and `scp` (space-delimited or array), roles from `roles` (see
/// [`claim_mapping`](Self::claim_mapping) for providers that put them elsewhere), the system
/// clock. An audience is required unless [`dangerous_accept_any_audience`] is called.
///
/// [`dangerous_accept_any_audience`]: JwtVerifierBuilder::dangerous_accept_any_audience
#[must_use]
pub struct JwtVerifierBuilder {
    keys: Vec<VerificationKey>,
    resolver: Option<Arc<dyn KeyResolver>>,
    trusted: Vec<TrustedIssuer>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    any_audience: bool,
    leeway: Duration,
    required_typ: Option<String>,
    max_token_len: usize,
    keys_tried_without_kid: usize,
    names: ClaimNames,
    mapping: Option<ClaimMapping>,
    clock: Arc<dyn Clock>,
    checks: Vec<ClaimCheck>,
}

impl fmt::Debug for JwtVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifierBuilder")
            .field("keys", &self.keys)
            .field("resolver", &self.resolver)
            .field("trusted", &self.trusted)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl Default for JwtVerifierBuilder {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            resolver: None,
            trusted: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            any_audience: false,
            leeway: DEFAULT_LEEWAY,
            required_typ: None,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            keys_tried_without_kid: DEFAULT_KEYS_TRIED_WITHOUT_KID,
            names: ClaimNames::default(),
            mapping: None,
            clock: Arc::new(SystemClock),
            checks: Vec::new(),
        }
    }
}

impl JwtVerifierBuilder {
    /// Adds a verification key.
    pub fn key(mut self, key: VerificationKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds several verification keys.
    pub fn keys(mut self, keys: impl IntoIterator<Item = VerificationKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// Uses a custom key source instead of (or, if keys were added, in place of) a static set.
    pub fn key_resolver(mut self, resolver: impl KeyResolver) -> Self {
        self.resolver = Some(Arc::new(resolver));
        self
    }

    /// Keys from a JWK Set ([`JwksSource`](crate::jwks::JwksSource)). When the source was
    /// built from an OpenID issuer, tokens' `iss` must also equal that issuer.
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    pub fn jwks(mut self, source: crate::jwks::JwksSource) -> Self {
        if let Some(iss) = source.oidc_issuer() {
            self.issuers.push(iss.to_owned());
        }
        self.resolver = Some(Arc::new(source));
        self
    }

    /// Trusts tokens from one more issuer, with its own keys and audiences (multi-tenant).
    ///
    /// With trusted issuers, the token's `iss` (read before verification, then verified)
    /// selects the issuer's key source and audience rules; a token whose `iss` is not in the
    /// list is rejected as `INVALID_TOKEN` without any key lookup or fetch. Verifier-wide
    /// [`key`](Self::key), [`key_resolver`](Self::key_resolver), [`jwks`](Self::jwks) and
    /// [`issuer`](Self::issuer) cannot be combined with this; verifier-wide
    /// [`audience`](Self::audience)s and [`require_type`](Self::require_type) apply to trusted
    /// issuers that set none.
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, JwtVerifier, TrustedIssuer, VerificationKey};
    /// use auth_core::ErrorCode;
    ///
    /// let secret = b"an example secret of at least thirty-two bytes";
    /// let verifier = JwtVerifier::builder()
    ///     .trusted_issuer(
    ///         TrustedIssuer::with_keys("https://ours.example", [VerificationKey::hmac(Algorithm::HS256, secret)?])?
    ///             .audience("orders-api"),
    ///     )
    ///     // .trusted_issuer(TrustedIssuer::jwks(JwksSource::from_oidc_issuer(..).build()?)?.audience(..))
    ///     .build()?;
    ///
    /// let claims = serde_json::json!({"sub": "x", "iss": "https://evil.example", "aud": "orders-api", "exp": u32::MAX});
    /// let token = jsonwebtoken::encode(&Default::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))?;
    /// assert_eq!(verifier.verify_sync(&token).unwrap_err().code(), ErrorCode::InvalidToken);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trusted_issuer(mut self, issuer: TrustedIssuer) -> Self {
        self.trusted.push(issuer);
        self
    }

    /// Requires `iss` to equal this value (call again to accept several issuers).
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuers.push(iss.into());
        self
    }

    /// Requires `aud` to contain this value (call again to accept several audiences).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// Accepts tokens whatever their `aud`.
    ///
    /// **Protection lost:** a token minted by the same issuer for any other service is accepted
    /// here too (RFC 9068 section 4 requires resource servers to check `aud`).
    pub fn dangerous_accept_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat` (default 30 s, at most 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires the header `typ` to be this media type, e.g. `"at+jwt"` (RFC 9068), compared
    /// as RFC 7515 says (case-insensitively, `application/` optional).
    ///
    /// With [`trusted_issuer`](Self::trusted_issuer)s, this is the default for the issuers
    /// that set none with [`TrustedIssuer::require_type`].
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.required_typ = Some(typ.into());
        self
    }

    /// Maximum token length in bytes, enforced before any decoding (default 8 KiB).
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// How many keys a token **without** `kid` is tried against when the key set has no key
    /// without `kid` for the token's `alg`: the first `n` keys pinned to that `alg`, in the
    /// set's order (default 2, from 1 to 8). When the set does have keys without `kid` for the
    /// `alg`, a token without `kid` is tried against those only. Tokens with a `kid` are not
    /// affected: a `kid` selects its key.
    ///
    /// The bound keeps an unauthenticated token from costing one signature check per key of a
    /// large JWK Set; issuers that sign without `kid` normally publish a single key.
    pub fn keys_tried_without_kid(mut self, n: usize) -> Self {
        self.keys_tried_without_kid = n;
        self
    }

    /// Name of the space-delimited scope claim (default `scope`).
    pub fn scope_claim(mut self, name: impl Into<String>) -> Self {
        self.names.scope = name.into();
        self
    }

    /// Name of the array scope claim (default `scp`).
    pub fn scp_claim(mut self, name: impl Into<String>) -> Self {
        self.names.scp = name.into();
        self
    }

    /// Name of the roles claim, an array of strings (default `roles`).
    pub fn roles_claim(mut self, name: impl Into<String>) -> Self {
        self.names.roles = name.into();
        self
    }

    /// Reads roles and scopes where a [`ClaimMapping`] says (e.g. [`ClaimMapping::keycloak`])
    /// instead of the top-level `scope`, `scp` and `roles` claims.
    ///
    /// With [`trusted_issuer`](Self::trusted_issuer)s, this is the default for the issuers
    /// that set none with [`TrustedIssuer::claim_mapping`]. It cannot be combined with
    /// [`scope_claim`](Self::scope_claim), [`scp_claim`](Self::scp_claim) or
    /// [`roles_claim`](Self::roles_claim) (name those claims in the mapping instead).
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, ClaimMapping, JwtVerifier, VerificationKey};
    ///
    /// let secret = b"an example secret of at least thirty-two bytes";
    /// let verifier = JwtVerifier::builder()
    ///     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
    ///     .audience("account")
    ///     .claim_mapping(ClaimMapping::keycloak("orders-api")?)
    ///     .build()?;
    ///
    /// let claims = serde_json::json!({"sub": "f3c1", "aud": "account", "exp": u32::MAX,
    ///     "realm_access": {"roles": ["offline_access"]},
    ///     "resource_access": {"orders-api": {"roles": ["refunds"]}, "account": {"roles": ["view-profile"]}},
    ///     "scope": "openid email"});
    /// let token = jsonwebtoken::encode(&Default::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))?;
    /// let principal = verifier.verify_sync(&token)?;
    /// assert_eq!(principal.roles(), ["offline_access", "refunds"]);
    /// assert!(principal.has_scope("email"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claim_mapping(mut self, mapping: ClaimMapping) -> Self {
        self.mapping = Some(mapping);
        self
    }

    /// The clock every time check reads (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds a custom check run on every token after all built-in checks passed. Return
    /// `Err(reason)` to reject the token as `INVALID_TOKEN`; the reason goes to logs only.
    pub fn check<F>(mut self, f: F) -> Self
    where
        F: Fn(&Principal) -> Result<(), String> + Send + Sync + 'static,
    {
        self.checks.push(Arc::new(f));
        self
    }

    /// Validates the configuration and builds the verifier.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when no keys are configured, two keys share a `kid`, no audience is set
    /// (and the dangerous opt-out was not used), the leeway exceeds 300 s, the maximum token
    /// length is zero, the keys tried without `kid` are not from 1 to 8, or an issuer,
    /// audience or claim name is empty or invalid, or a claim mapping is combined with claim
    /// names.
    pub fn build(self) -> Result<JwtVerifier, ConfigError> {
        if self.mapping.is_some() && self.names != ClaimNames::default() {
            return Err(ConfigError::InvalidClaimMapping(
                "scope_claim, scp_claim and roles_claim do not apply with a claim mapping; \
                 name those claims in the mapping instead"
                    .into(),
            ));
        }
        let claims = match &self.mapping {
            Some(m) => ClaimRules::Mapping(m.clone().compile()),
            None => ClaimRules::Names(self.names.clone()),
        };
        let by_issuer = !self.trusted.is_empty();
        let tenants = if by_issuer {
            if !self.keys.is_empty() || self.resolver.is_some() || !self.issuers.is_empty() {
                return Err(ConfigError::MixedIssuerConfig);
            }
            let mut tenants: Vec<Tenant> = Vec::with_capacity(self.trusted.len());
            for t in self.trusted {
                if t.issuer.is_empty() {
                    return Err(ConfigError::EmptyValue("issuer"));
                }
                if tenants.iter().any(|x| x.issuers.contains(&t.issuer)) {
                    return Err(ConfigError::DuplicateIssuer(t.issuer));
                }
                let audiences = if !t.audiences.is_empty() {
                    Some(t.audiences)
                } else if !self.audiences.is_empty() {
                    Some(self.audiences.clone())
                } else if self.any_audience {
                    None
                } else {
                    return Err(ConfigError::MissingAudience);
                };
                if audiences.iter().flatten().any(String::is_empty) {
                    return Err(ConfigError::EmptyValue("audience"));
                }
                let required_typ = t.required_typ.or_else(|| self.required_typ.clone());
                if required_typ.as_ref().is_some_and(String::is_empty) {
                    return Err(ConfigError::EmptyValue("required type"));
                }
                let claims = match t.mapping {
                    Some(m) => ClaimRules::Mapping(m.compile()),
                    None => claims.clone(),
                };
                tenants.push(Tenant {
                    resolver: t.resolver,
                    issuers: vec![t.issuer],
                    audiences,
                    required_typ,
                    claims,
                });
            }
            tenants
        } else {
            let resolver: Arc<dyn KeyResolver> = match self.resolver {
                Some(r) => r,
                None => Arc::new(StaticKeys::new(KeySet::new(self.keys)?)),
            };
            if self.audiences.is_empty() && !self.any_audience {
                return Err(ConfigError::MissingAudience);
            }
            vec![Tenant {
                resolver,
                issuers: self.issuers.clone(),
                audiences: if self.any_audience {
                    None
                } else {
                    Some(self.audiences.clone())
                },
                required_typ: self.required_typ.clone(),
                claims,
            }]
        };
        if self.issuers.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyValue("issuer"));
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyValue("audience"));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge {
                secs: self.leeway.as_secs(),
                max: MAX_LEEWAY.as_secs(),
            });
        }
        if self.max_token_len == 0 {
            return Err(ConfigError::ZeroMaxTokenLength);
        }
        if !(1..=MAX_KEYS_TRIED_WITHOUT_KID).contains(&self.keys_tried_without_kid) {
            return Err(ConfigError::OutOfRange(format!(
                "keys tried without kid is {}; it must be from 1 to {MAX_KEYS_TRIED_WITHOUT_KID}",
                self.keys_tried_without_kid
            )));
        }
        if self.required_typ.as_ref().is_some_and(String::is_empty) {
            return Err(ConfigError::EmptyValue("required type"));
        }
        for n in [&self.names.scope, &self.names.scp, &self.names.roles] {
            if n.is_empty() || REGISTERED.contains(&n.as_str()) {
                return Err(ConfigError::InvalidClaimName(n.clone()));
            }
        }
        Ok(JwtVerifier::from_inner(VerifierInner {
            tenants,
            by_issuer,
            leeway: self.leeway,
            max_token_len: self.max_token_len,
            keys_tried_without_kid: self.keys_tried_without_kid,
            clock: self.clock,
            checks: self.checks,
            names: Default::default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Algorithm;

    fn key() -> VerificationKey {
        VerificationKey::hmac(Algorithm::HS256, [5u8; 32]).unwrap()
    }

    fn trusted(iss: &str) -> TrustedIssuer {
        TrustedIssuer::with_keys(iss, [key()]).unwrap()
    }

    #[test]
    fn trusted_issuers_cannot_be_mixed_with_verifier_wide_keys_or_issuers() {
        let mixed = [
            JwtVerifier::builder().key(key()),
            JwtVerifier::builder().issuer("a"),
            JwtVerifier::builder().key_resolver(StaticKeys::new(KeySet::new(vec![key()]).unwrap())),
        ];
        for b in mixed {
            let err = b
                .trusted_issuer(trusted("x"))
                .audience("aud")
                .build()
                .unwrap_err();
            assert_eq!(err, ConfigError::MixedIssuerConfig);
        }
    }

    #[test]
    fn each_trusted_issuer_needs_an_audience_and_a_distinct_name() {
        assert_eq!(
            JwtVerifier::builder()
                .trusted_issuer(trusted("x"))
                .build()
                .unwrap_err(),
            ConfigError::MissingAudience
        );
        assert!(
            JwtVerifier::builder()
                .trusted_issuer(trusted("x"))
                .audience("shared")
                .build()
                .is_ok()
        );
        assert_eq!(
            JwtVerifier::builder()
                .trusted_issuer(trusted("x").audience("a"))
                .trusted_issuer(trusted("x").audience("b"))
                .build()
                .unwrap_err(),
            ConfigError::DuplicateIssuer("x".into())
        );
        assert_eq!(
            JwtVerifier::builder()
                .trusted_issuer(trusted("").audience("a"))
                .build()
                .unwrap_err(),
            ConfigError::EmptyValue("issuer")
        );
    }
}
