//! A test kit for applications built on `auth-core` and `auth-tower`: tokens that go through
//! the production verifier and layers, never around them.
//!
//! - [`TestAuthority`]: a fresh key (HS256, RS256, ES256, EdDSA), an issuer, an audience and a
//!   [`ManualClock`](clock::ManualClock); mints tokens with a builder ([`TokenBuilder`]) and
//!   gives the matching [`JwtVerifier`](auth_core::jwt::JwtVerifier) and
//!   [`VerificationKey`](auth_core::jwt::VerificationKey).
//! - Negative presets ([`BadToken`]): `expired`, `not_yet_valid`, `wrong_audience`,
//!   `wrong_issuer`, `alg_none`, `wrong_key`, `tampered`, `missing_claim(name)`, each with the
//!   [`ErrorCode`](auth_core::ErrorCode) the layer answers.
//! - [`MockOidcProvider`]: an OpenID Provider on loopback (discovery, JWKS with rotation and
//!   fault injection, a token endpoint for client credentials and the code flow with PKCE).
//! - [`assert_rejected`]: status, `WWW-Authenticate` and JSON code checked together.
//! - [`TestApiKeys`]: API keys in a memory store, created in one line.
//!
//! Add it to `[dev-dependencies]` only: it makes forged and expired tokens on purpose.
//!
//! # Example: testing a handler behind `BearerLayer`
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use auth_core::{ErrorCode, Principal};
//! use auth_test::{TestAuthority, assert_rejected};
//! use auth_tower::bearer::BearerLayer;
//! use axum::{Extension, Router, body::Body, routing::get};
//! use tower::ServiceExt as _;
//!
//! async fn me(Extension(p): Extension<Principal>) -> String {
//!     p.subject().to_owned()
//! }
//!
//! let authority = TestAuthority::rs256().with_audience("orders-api");
//! // The application's own layer configuration, with the authority's verifier.
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .layer(BearerLayer::new(authority.verifier()));
//!
//! let request = |auth: String| {
//!     http::Request::get("/me").header("authorization", auth).body(Body::empty()).unwrap()
//! };
//! let ok = app.clone().oneshot(request(authority.token().subject("alice").bearer())).await.unwrap();
//! assert_eq!(ok.status(), 200);
//!
//! let expired = authority.expired();
//! let res = app.oneshot(request(expired.bearer())).await.unwrap();
//! assert_rejected(res, ErrorCode::TokenExpired).await;
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod api_key;
mod assert;
mod authority;
pub mod capture;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod key;
mod presets;
pub mod provider;
mod token;

pub use api_key::{DEFAULT_PREFIX, TestApiKeys};
pub use assert::{assert_rejected, assert_rejected_parts};
pub use authority::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_KID, DEFAULT_START, TestAuthority};
pub use key::{SUPPORTED_ALGORITHMS, TestKey};
pub use presets::{BadToken, OUTSIDE_WINDOW, WRONG_AUDIENCE, WRONG_ISSUER};
pub use provider::MockOidcProvider;
pub use token::{DEFAULT_LIFETIME, DEFAULT_SUBJECT, TokenBuilder};

/// The injectable clock, re-exported: build your application with a
/// [`ManualClock`](clock::ManualClock) shared with the [`TestAuthority`]
/// ([`TestAuthority::with_clock`]) and move time with `advance` instead of sleeping.
pub mod clock {
    pub use auth_core::clock::{Clock, ManualClock, SystemClock, UnixTime};
}
