//! Framework-agnostic building blocks for API authentication.
//!
//! - [`Principal`]: the authenticated caller (subject, roles, scopes, how it authenticated).
//! - [`jwt`]: pinned-algorithm JWT verification ([`jwt::JwtVerifier`]).
//! - [`AuthError`] / [`ErrorCode`]: per-request outcomes with stable codes and the one table
//!   that maps them to HTTP, gRPC and RFC 6750; [`ConfigError`] for build-time mistakes.
//! - [`clock`]: the injectable clock every time decision reads.
//! - [`metrics`]: counters and histograms via the `metrics` facade (feature `metrics`).
//! - [`audit`]: the audit trail, one `INFO` event per authentication or authorization decision.
//! - `api_key` (feature `api-key`): API keys generated with a checksum, stored as digests,
//!   verified by hash lookup, revoked and rotated with a grace period.
//! - `brute_force` (feature `brute-force`): login brute-force and credential-stuffing
//!   protection: sliding-window rate limit, progressive lockouts per client and per account.
//! - Token lifecycle (features `issuer`, `refresh`, `revocation`, `password`): signing access
//!   tokens with rotating keys (`jwt::TokenIssuer`, `jwt::KeyRing`), opaque refresh tokens with
//!   rotation and reuse detection (`refresh`), revocation by `jti` or subject (`revocation`),
//!   Argon2id password hashing (`password`).
//! - [`constant_time`]: the one place secrets are compared; [`store`]: what storage-backed
//!   features share.
//! - `mfa` (feature `mfa`): TOTP second factors with replay prevention and throttling,
//!   recovery codes, two-step logins, `amr`/`acr`/`auth_time` authentication contexts.
//! - [`jwks`] (feature `jwks`): keys from identity providers (JWK Sets over HTTP, OpenID
//!   Connect discovery), cached, refreshed ahead of expiry, with a fetch cooldown and
//!   single-flight; feature `jwks-reqwest` adds the default HTTP client.
//! - [`oauth_client`] (feature `oauth-client`): OAuth 2.0 client credentials for outbound
//!   calls: a token manager that caches tokens and renews them ahead of expiry, in one flight.
//! - `introspection` (feature `introspection`): opaque access tokens verified at the
//!   authorization server (RFC 7662), cached under a keyed digest, concurrent requests coalesced.
//! - `dpop` (feature `dpop`): DPoP (RFC 9449) proofs, thumbprints, nonces and the
//!   one-time-use store that refuses replays, for sender-constrained tokens.
//! - `settings` (feature `settings`): configuration as data, serde settings for the bearer
//!   verifier, API keys, brute force and scope rules per route, with field paths in errors.
//! - `oidc_login` (feature `oidc-login`): sign in with an OpenID Provider (authorization code
//!   with PKCE, a sealed per-attempt login transaction, ID-token validation) and the
//!   `(issuer, subject)` identity store that links providers to local accounts.
//!
//! This crate has no HTTP or tower dependency; `auth-tower` turns it into middleware and
//! `auth-axum-extractors` into axum extractors.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "jwt")] {
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_core::ErrorCode;
//!
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, b"an example secret of at least thirty-two bytes")?)
//!     .issuer("https://issuer.example")
//!     .audience("orders-api")
//!     .build()?;
//!
//! let err = verifier.verify_sync("not-a-jwt").unwrap_err();
//! assert_eq!(err.code(), ErrorCode::InvalidToken);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! Items that need a feature carry a badge naming it on docs.rs.
#![cfg_attr(
    feature = "document-features",
    doc = "",
    doc = document_features::document_features!()
)]
#![cfg_attr(
    not(feature = "document-features"),
    doc = "The table of features is built from `Cargo.toml` (`cargo doc --all-features`)."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

#[cfg(feature = "api-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
pub mod api_key;
pub mod audit;
#[cfg(feature = "brute-force")]
#[cfg_attr(docsrs, doc(cfg(feature = "brute-force")))]
pub mod brute_force;
#[cfg(any(feature = "oauth-client", feature = "oidc-login"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "oauth-client", feature = "oidc-login")))
)]
pub mod client_auth;
pub mod clock;
pub mod constant_time;
#[cfg(feature = "dpop")]
#[cfg_attr(docsrs, doc(cfg(feature = "dpop")))]
pub mod dpop;
mod dpop_error;
mod error;
#[cfg(any(feature = "oauth-client", feature = "oidc-login"))]
mod form;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "introspection")]
#[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
pub mod introspection;
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub mod jwks;
#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub mod jwt;
pub mod metrics;
#[cfg(feature = "mfa")]
#[cfg_attr(docsrs, doc(cfg(feature = "mfa")))]
pub mod mfa;
#[cfg(feature = "oauth-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "oauth-client")))]
pub mod oauth_client;
#[cfg(feature = "oidc-login")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc-login")))]
pub mod oidc_login;
#[cfg(feature = "password")]
#[cfg_attr(docsrs, doc(cfg(feature = "password")))]
pub mod password;
mod principal;
#[cfg(feature = "refresh")]
#[cfg_attr(docsrs, doc(cfg(feature = "refresh")))]
pub mod refresh;
#[cfg(feature = "revocation")]
#[cfg_attr(docsrs, doc(cfg(feature = "revocation")))]
pub mod revocation;
pub mod scope;
#[cfg(any(feature = "mfa", feature = "oidc-login"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "mfa", feature = "oidc-login"))))]
pub mod seal;
#[cfg(feature = "settings")]
#[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
pub mod settings;
pub mod store;

pub use dpop_error::InvalidDpopProof;
pub use error::{AuthError, ConfigError, CsrfFailure, ErrorCode, InvalidRequest, InvalidToken};
pub use principal::{AuthMethod, Principal, VerifiedClaims};

/// Compiles this crate's README examples as doctests so they cannot drift.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "jwt"))]
pub struct ReadmeDoctests;
