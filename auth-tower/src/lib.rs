//! Tower layers for API authentication that serve axum, plain hyper and tonic alike.
//!
//! - [`bearer::BearerLayer`]: JWT bearer tokens (`Authorization: Bearer`, optionally a cookie).
//! - [`scope::ScopeLayer`]: scopes, roles and permissions required of the principal (403).
//!
//! Every layer is generic over request and response bodies, never changes the inner service's
//! error type (rejections are responses), forwards `poll_ready`, puts the authenticated
//! [`Principal`](auth_core::Principal) into request extensions and a [`Rejection`] into the
//! extensions of every rejected response. Rejections are rendered by a pluggable
//! [`RejectionResponse`](response::RejectionResponse): JSON with a stable code and an RFC 6750
//! challenge for HTTP, a gRPC status for gRPC calls.
//!
//! Every decision is a `tracing` event with target `auth::decision` and fields `outcome`,
//! `method`, `code`/`reason` or `subject`, and `path`; tokens are never logged.
//!
//! # Example: axum
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_tower::bearer::BearerLayer;
//! use axum::{Extension, Router, routing::get};
//!
//! # fn build() -> Result<Router, Box<dyn std::error::Error>> {
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, b"an example secret of at least thirty-two bytes")?)
//!     .issuer("https://issuer.example")
//!     .audience("orders-api")
//!     .build()?;
//!
//! let app = Router::new()
//!     .route("/me", get(|Extension(p): Extension<auth_core::Principal>| async move {
//!         p.subject().to_owned()
//!     }))
//!     .layer(BearerLayer::new(verifier));
//! # Ok(app) }
//! # build().unwrap();
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
// Shared plumbing is only used by the layers; builds with no layer feature need not warn.
#![cfg_attr(
    not(any(feature = "bearer", feature = "scope")),
    allow(dead_code, unused_macros)
)]

#[macro_use]
mod macros;

#[cfg(feature = "bearer")]
#[cfg_attr(docsrs, doc(cfg(feature = "bearer")))]
pub mod bearer;
#[cfg(feature = "bearer")]
mod credentials;
mod rejection;
pub mod response;
#[cfg(feature = "scope")]
#[cfg_attr(docsrs, doc(cfg(feature = "scope")))]
pub mod scope;

pub use rejection::Rejection;
