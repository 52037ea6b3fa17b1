//! Framework-agnostic building blocks for API authentication.
//!
//! - [`Principal`]: the authenticated caller (subject, roles, scopes, how it authenticated).
//! - [`jwt`]: pinned-algorithm JWT verification ([`jwt::JwtVerifier`]).
//! - [`AuthError`] / [`ErrorCode`]: per-request outcomes with stable codes and the one table
//!   that maps them to HTTP, gRPC and RFC 6750; [`ConfigError`] for build-time mistakes.
//! - [`clock`]: the injectable clock every time decision reads.
//! - [`jwks`] (feature `jwks`): keys from identity providers (JWK Sets over HTTP, OpenID
//!   Connect discovery), cached, refreshed ahead of expiry, with a fetch cooldown and
//!   single-flight; feature `jwks-reqwest` adds the default HTTP client.
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
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod clock;
mod error;
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub mod jwks;
#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub mod jwt;
mod principal;
pub mod scope;

pub use error::{AuthError, ConfigError, ErrorCode, InvalidRequest, InvalidToken};
pub use principal::{AuthMethod, Principal, VerifiedClaims};
