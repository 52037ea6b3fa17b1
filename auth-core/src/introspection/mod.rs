//! Token introspection (RFC 7662): opaque access tokens verified by asking the authorization
//! server, behind the same [`Verify`](crate::jwt::Verify) seam as JWT verification.
//!
//! [`Introspector::verify`] POSTs `token=<token>&token_type_hint=access_token` to the
//! introspection endpoint (configured, or the `introspection_endpoint` of the issuer's OpenID
//! Connect metadata), authenticated as the client of the client-credentials work
//! ([`ClientAuth`](crate::client_auth::ClientAuth): `client_secret_basic`, `client_secret_post`
//! or `private_key_jwt`), and reads the answer as RFC 7662 section 2.2 says:
//!
//! - `active` must be the JSON boolean `true`: a string `"true"`, a number or a missing
//!   `active` is an inactive token (`INVALID_TOKEN`);
//! - `exp` is required and checked with the leeway against the injected clock, as are `nbf`
//!   and `iat`; `iss`, when present, must be the configured issuer; `aud` must contain a
//!   configured audience (if any is configured); `scope` becomes the principal's scopes; a
//!   `token_type` other than `Bearer` or `DPoP` (a refresh token) is refused;
//! - the subject is `sub`, or `client_id` for a client-credentials token without one; `cnf.jkt`
//!   binds the token to a DPoP key as in a JWT.
//!
//! # Cache and coalescing
//!
//! Answers are cached under a keyed digest of the token (HMAC-SHA-256 with a random key drawn
//! when the introspector is built), never the token itself:
//!
//! - an active token until the lesser of its `exp` and [`IntrospectorBuilder::active_ttl`]
//!   (default 60 s). **That bound is the revocation delay**: a token revoked at the server
//!   stays accepted here for up to that long;
//! - an inactive or refused token for [`IntrospectorBuilder::inactive_ttl`] (default 5 s);
//! - a failure (the server unreachable, an error status, a timeout, a body that is no JSON
//!   object) never: it answers 503 `AUTH_BACKEND_UNAVAILABLE`, and the next request asks
//!   again.
//!
//! Concurrent requests with one token share one introspection request. The cache is bounded
//! (S3-FIFO, [`IntrospectorBuilder::cache_capacity`]) and a lookup costs one HMAC and one hash
//! probe whatever the number of cached tokens.
//!
//! # Security considerations
//!
//! - Configure an audience ([`IntrospectorBuilder::audience`]): some servers (npm
//!   `oidc-provider` among them) report a refresh token as active without a `token_type`, and
//!   only the audience check keeps such a token from passing as an access token here.
//! - The revocation delay is the price of the cache: keep `active_ttl` as short as the load on
//!   the server allows (zero asks on every request that is not coalesced).
//! - Tokens longer than 8 KiB are refused before any request; the token is never logged, and
//!   the `auth::introspection` tracing events carry the outcome and subject only.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "jwks-reqwest")] {
//! use auth_core::client_auth::ClientAuth;
//! use auth_core::introspection::Introspector;
//! use std::time::Duration;
//!
//! let introspector = Introspector::builder(
//!     ClientAuth::client_secret_basic("orders-api", "s3cr3t")?,
//!     "https://as.example",
//! )
//! .endpoint("https://as.example/token/introspection")
//! .audience("orders-api")
//! .active_ttl(Duration::from_secs(30)) // revocation delay
//! .build()?;
//! assert_eq!(introspector.issuer(), "https://as.example");
//! # }
//! # Ok::<(), auth_core::ConfigError>(())
//! ```

mod builder;
mod introspector;
mod response;
#[cfg(test)]
mod tests;

pub use builder::{
    DEFAULT_ACTIVE_TTL, DEFAULT_CACHE_CAPACITY, DEFAULT_INACTIVE_TTL, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUT, IntrospectorBuilder,
};
pub use introspector::Introspector;

/// Whether `token` has the shape of a JWS compact serialization (three dot-separated parts):
/// such a token is verified locally, any other is introspected.
#[must_use]
pub fn is_jwt_shaped(token: &str) -> bool {
    let mut parts = token.split('.');
    parts.next().is_some()
        && parts.next().is_some()
        && parts.next().is_some()
        && parts.next().is_none()
}
