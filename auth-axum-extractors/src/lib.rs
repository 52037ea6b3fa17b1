//! Axum extractors for what `auth-tower` layers authenticate.
//!
//! - [`Authenticated`]: the authenticated caller, dereferencing to [`auth_core::Principal`];
//!   `Option<Authenticated>` for routes that also serve anonymous callers (with the layer in
//!   optional mode). It has its own name so that `Principal` always means the `auth-core` type
//!   (see [why](Authenticated#why-it-is-not-called-principal)).
//! - [`Claims<C>`]: the verified token's claims as your own type.
//! - [`RequireScope<S>`]: the principal, only if it holds the scopes that the marker type `S`
//!   declares (see [`scopes!`]), so a handler's requirement shows in its signature.
//! - `oidc_login` (feature `oidc-login`): the sign-in routes for OpenID Providers (begin and
//!   callback) over `auth_core::oidc_login`, mounted with one `nest_service`.
//! - `openapi` (feature `utoipa`): the security schemes for a utoipa document, and
//!   `SecuredRoutes`, which declares each route's requirement once for both its `ScopeLayer` and
//!   its operation's `security`.
//!
//! The extractors read request extensions only (never the body). Their rejections render like
//! the layers' (same JSON codes and `WWW-Authenticate`), except that a route without any auth
//! layer is a 500 [`MissingAuthLayer`](rejection::MissingAuthLayer) telling how to fix it.
//!
//! # Example
//!
//! ```
//! use auth_axum_extractors::Authenticated;
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_tower::bearer::BearerLayer;
//! use axum::{Router, routing::get, body::Body};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, b"an example secret of at least thirty-two bytes")?)
//!     .audience("orders-api")
//!     .build()?;
//!
//! let app = Router::new()
//!     .route("/me", get(|p: Authenticated| async move { p.subject().to_owned() }))
//!     .layer(BearerLayer::new(verifier));
//!
//! let res = app.oneshot(Request::get("/me").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
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

#[macro_use]
mod macros;

mod claims;
#[cfg(feature = "oidc-login")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc-login")))]
pub mod oidc_login;
#[cfg(feature = "utoipa")]
#[cfg_attr(docsrs, doc(cfg(feature = "utoipa")))]
pub mod openapi;
mod principal;
pub mod rejection;
mod require;

pub use claims::Claims;
pub use principal::Authenticated;
pub use require::{RequireScope, ScopeSpec};

/// Compiles the README's Rust examples as doctests so they cannot drift.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Compiles this crate's README examples as doctests so they cannot drift.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct CrateReadmeDoctests;
