//! Tower layers for API authentication that serve axum, plain hyper and tonic alike.
//!
//! - [`bearer::BearerLayer`]: JWT bearer tokens (`Authorization: Bearer`, optionally a cookie).
//!   With feature `dpop`, DPoP-bound tokens (RFC 9449) too; [`resource_metadata`] serves RFC
//!   9728 protected resource metadata and points every challenge at it.
//! - [`scope::ScopeLayer`]: scopes, roles and permissions required of the principal (403).
//! - `api_key::ApiKeyLayer` (feature `api-key`): API keys from `X-API-Key`, verified by hash
//!   lookup with `auth_core::api_key`.
//! - `brute_force::BruteForceLayer` (feature `brute-force`): login brute-force and
//!   credential-stuffing protection (429 with `Retry-After`, progressive lockouts).
//! - `csrf::CsrfLayer` (feature `csrf`): CSRF protection for cookie-authenticated unsafe
//!   requests (403 `CSRF_REJECTED`). It goes after (inside) the authentication layers and reads
//!   their [`CredentialSource`] record of which credential authenticated the request.
//! - `step_up::StepUpLayer` (feature `step-up`): RFC 9470 step-up, requiring an `amr` or
//!   `acr` value and a recent `auth_time` (401 `insufficient_user_authentication`).
//! - `client::AccessTokenLayer` (feature `client`): the other direction: OAuth 2.0
//!   client-credentials tokens on *outgoing* requests (any `Service<http::Request<B>>`: a
//!   `hyper-util` client, or `reqwest` through `client::ReqwestService` with feature `reqwest`),
//!   renewed ahead of expiry and once on a downstream `401`.
//! - [`cookies::SessionCookies`]: `Set-Cookie` values for browser sessions (access, refresh and
//!   CSRF cookies, and clearing them).
//! - `grpc::PrincipalExt` (feature `tonic`): the verified principal in tonic handlers
//!   (`request.require_principal()?`); with `scope::GrpcMethods`, a scope requirement per gRPC
//!   method.
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
// Shared plumbing is only used by the layers; builds with no layer feature need not warn.
#![cfg_attr(
    not(any(
        feature = "bearer",
        feature = "scope",
        feature = "api-key",
        feature = "step-up"
    )),
    allow(dead_code, unused_macros)
)]

#[macro_use]
mod macros;

#[cfg(any(feature = "scope", feature = "csrf", feature = "step-up"))]
mod check_future;

#[cfg(feature = "api-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
pub mod api_key;
pub mod audit;
#[cfg(feature = "bearer")]
#[cfg_attr(docsrs, doc(cfg(feature = "bearer")))]
pub mod bearer;
#[cfg(feature = "brute-force")]
#[cfg_attr(docsrs, doc(cfg(feature = "brute-force")))]
pub mod brute_force;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
pub mod cookies;
mod credential_source;
#[cfg(any(feature = "bearer", feature = "csrf"))]
mod credentials;
#[cfg(feature = "csrf")]
#[cfg_attr(docsrs, doc(cfg(feature = "csrf")))]
pub mod csrf;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub mod grpc;
mod rejection;
#[cfg(feature = "bearer")]
#[cfg_attr(docsrs, doc(cfg(feature = "bearer")))]
pub mod resource_metadata;
pub mod response;
#[cfg(feature = "scope")]
#[cfg_attr(docsrs, doc(cfg(feature = "scope")))]
pub mod scope;
#[cfg(feature = "settings")]
#[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
pub mod settings;
#[cfg(feature = "step-up")]
#[cfg_attr(docsrs, doc(cfg(feature = "step-up")))]
pub mod step_up;

pub use credential_source::CredentialSource;
pub use rejection::Rejection;

/// Compiles this crate's README examples as doctests so they cannot drift.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "bearer", feature = "scope", feature = "axum"))]
pub struct ReadmeDoctests;
