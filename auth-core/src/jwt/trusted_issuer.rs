//! [`TrustedIssuer`]: one issuer of a multi-issuer verifier, with its own keys and rules.

use std::fmt;
use std::sync::Arc;

use super::key::VerificationKey;
use super::key_set::KeySet;
use super::mapping::ClaimMapping;
use super::resolver::{KeyResolver, StaticKeys};
use crate::error::ConfigError;

/// One issuer a multi-issuer verifier trusts: its exact `iss`, where its keys come from, the
/// audiences its tokens must carry and the header `typ` they must have. Added with
/// [`JwtVerifierBuilder::trusted_issuer`](super::JwtVerifierBuilder::trusted_issuer).
#[must_use]
pub struct TrustedIssuer {
    pub(super) issuer: String,
    pub(super) resolver: Arc<dyn KeyResolver>,
    pub(super) audiences: Vec<String>,
    pub(super) required_typ: Option<String>,
    pub(super) mapping: Option<ClaimMapping>,
}

impl fmt::Debug for TrustedIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedIssuer")
            .field("issuer", &self.issuer)
            .field("resolver", &self.resolver)
            .field("audiences", &self.audiences)
            .field("required_typ", &self.required_typ)
            .field("mapping", &self.mapping)
            .finish()
    }
}

impl TrustedIssuer {
    /// Tokens with `iss` equal to `issuer` are verified with keys from `resolver`.
    pub fn new(issuer: impl Into<String>, resolver: impl KeyResolver) -> Self {
        Self {
            issuer: issuer.into(),
            resolver: Arc::new(resolver),
            audiences: Vec::new(),
            required_typ: None,
            mapping: None,
        }
    }

    /// Tokens with `iss` equal to `issuer` are verified with these fixed keys.
    ///
    /// # Errors
    ///
    /// As [`KeySet::new`]: no keys, or two keys sharing a `kid`.
    pub fn with_keys(
        issuer: impl Into<String>,
        keys: impl IntoIterator<Item = VerificationKey>,
    ) -> Result<Self, ConfigError> {
        let set = KeySet::new(keys.into_iter().collect())?;
        Ok(Self::new(issuer, StaticKeys::new(set)))
    }

    /// The OpenID Provider a [`JwksSource`](crate::jwks::JwksSource) was built for
    /// (with [`from_oidc_issuer`](crate::jwks::JwksSource::from_oidc_issuer)), with its keys.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingSetting`] when the source was built from a plain JWKS URL (use
    /// [`TrustedIssuer::new`] with the issuer then).
    #[cfg(feature = "jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
    pub fn jwks(source: crate::jwks::JwksSource) -> Result<Self, ConfigError> {
        let issuer = source
            .oidc_issuer()
            .ok_or(ConfigError::MissingSetting(
                "an oidc issuer (JwksSource::from_oidc_issuer) for TrustedIssuer::jwks",
            ))?
            .to_owned();
        Ok(Self::new(issuer, source))
    }

    /// Requires `aud` to contain this value (call again to accept several).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// Requires this issuer's tokens to carry the header `typ` given, e.g. `"at+jwt"` (RFC
    /// 9068), compared as RFC 7515 says (case-insensitively, `application/` optional). Without
    /// it, the verifier-wide [`JwtVerifierBuilder::require_type`](super::JwtVerifierBuilder::require_type) applies, if any.
    ///
    /// The token's `iss` picks the issuer first, so an unknown `iss` is still refused before
    /// any `typ` check, key lookup or fetch.
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, JwtVerifier, TrustedIssuer, VerificationKey};
    /// use auth_core::ErrorCode;
    ///
    /// let secret = b"an example secret of at least thirty-two bytes";
    /// let key = || VerificationKey::hmac(Algorithm::HS256, secret);
    /// let verifier = JwtVerifier::builder()
    ///     .trusted_issuer(TrustedIssuer::with_keys("https://ours.example", [key()?])?.require_type("at+jwt"))
    ///     .trusted_issuer(TrustedIssuer::with_keys("https://legacy.example", [key()?])?)
    ///     .audience("orders-api")
    ///     .build()?;
    ///
    /// let sign = |iss: &str| {
    ///     let claims = serde_json::json!({"sub": "x", "iss": iss, "aud": "orders-api", "exp": u32::MAX});
    ///     let header = jsonwebtoken::Header::default(); // `typ: JWT`
    ///     jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret))
    /// };
    /// let ours = sign("https://ours.example")?;
    /// assert_eq!(verifier.verify_sync(&ours).unwrap_err().code(), ErrorCode::InvalidToken);
    /// assert!(verifier.verify_sync(&sign("https://legacy.example")?).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.required_typ = Some(typ.into());
        self
    }

    /// Reads this issuer's roles and scopes where `mapping` says, e.g.
    /// [`ClaimMapping::entra`] for a Microsoft Entra ID tenant. Without it, the verifier-wide
    /// [`JwtVerifierBuilder::claim_mapping`](super::JwtVerifierBuilder::claim_mapping) applies,
    /// or else the verifier-wide claim names (`scope`, `scp`, `roles` by default).
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, ClaimMapping, JwtVerifier, TrustedIssuer, VerificationKey};
    ///
    /// let secret = b"an example secret of at least thirty-two bytes";
    /// let key = || VerificationKey::hmac(Algorithm::HS256, secret);
    /// let verifier = JwtVerifier::builder()
    ///     .trusted_issuer(TrustedIssuer::with_keys("https://ours.example", [key()?])?)
    ///     .trusted_issuer(TrustedIssuer::with_keys("https://okta.example", [key()?])?.claim_mapping(ClaimMapping::okta()))
    ///     .audience("api")
    ///     .build()?;
    ///
    /// let sign = |claims: serde_json::Value| {
    ///     jsonwebtoken::encode(&Default::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))
    /// };
    /// let ours = sign(serde_json::json!({"sub": "a", "iss": "https://ours.example", "aud": "api",
    ///     "exp": u32::MAX, "roles": ["admin"]}))?;
    /// let okta = sign(serde_json::json!({"sub": "b", "iss": "https://okta.example", "aud": "api",
    ///     "exp": u32::MAX, "groups": ["admin"], "roles": ["ignored"]}))?;
    /// assert_eq!(verifier.verify_sync(&ours)?.roles(), ["admin"]);
    /// assert_eq!(verifier.verify_sync(&okta)?.roles(), ["admin"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claim_mapping(mut self, mapping: ClaimMapping) -> Self {
        self.mapping = Some(mapping);
        self
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}
