//! Authenticate requests with JWT bearer tokens.
//!
//! [`BearerLayer`] reads `Authorization: Bearer <token>` (scheme case-insensitive; optionally a
//! named cookie when no header is sent), verifies the token with an
//! [`auth_core::jwt::JwtVerifier`] and, on success, puts the [`Principal`](auth_core::Principal)
//! (and, with [`BearerLayer::with_claims`], the typed
//! [`VerifiedClaims<C>`](auth_core::VerifiedClaims)) into the request's extensions before
//! calling the inner service. On failure the inner service is not called; the response is a
//! 401 (400 for a malformed header) with an RFC 6750 `WWW-Authenticate` challenge and a JSON
//! body with a stable code, or a gRPC status for gRPC calls.
//!
//! The layer never changes the inner service's error type: rejections are responses.
//!
//! # Example
//!
//! ```
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_core::Principal;
//! use auth_tower::bearer::BearerLayer;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"an example secret of at least thirty-two bytes";
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
//!     .audience("orders-api")
//!     .build()?;
//!
//! let svc = ServiceBuilder::new()
//!     .layer(BearerLayer::new(verifier))
//!     .service(service_fn(|req: Request<Full<Bytes>>| async move {
//!         let who = req.extensions().get::<Principal>().map(|p| p.subject().to_owned());
//!         Ok::<_, Infallible>(Response::new(Full::from(who.unwrap_or_default())))
//!     }));
//!
//! # let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 60;
//! # let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(),
//! #     &serde_json::json!({"sub": "alice", "aud": "orders-api", "exp": exp}),
//! #     &jsonwebtoken::EncodingKey::from_secret(secret))?;
//! // With a valid token the handler runs and sees the principal.
//! let req = Request::get("/").header(header::AUTHORIZATION, format!("Bearer {token}"))
//!     .body(Full::default())?;
//! let res = svc.clone().oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//!
//! // Without one: 401 with an RFC 6750 challenge.
//! let res = svc.oneshot(Request::get("/").body(Full::default())?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(res.headers()[header::WWW_AUTHENTICATE], "Bearer realm=\"api\"");
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! - Tokens are never read from the query string (RFC 6750 section 5.3), never echoed in a
//!   response and never logged; `Authorization` values are marked sensitive.
//! - Two `Authorization` headers, an empty token, or a value that is not `token68` is a
//!   400 `INVALID_REQUEST` rather than a guess at which one was meant.
//! - In optional mode, an anonymous request carries a `MISSING_CREDENTIALS`
//!   [`Rejection`](crate::Rejection) in its extensions, so a handler or extractor that needs a
//!   principal after all can answer with this layer's challenge.
//! - When both a header and the configured cookie are present, the header wins; a cookie that
//!   appears twice is refused.
//! - The layer never replaces a principal an earlier layer (e.g. an `ApiKeyLayer`) put into
//!   the request: a token next to it is
//!   a second credential, refused with 400 `INVALID_REQUEST` ("more than one credential was
//!   presented"); without a token the request passes untouched, in required mode too.
//! - With [`BearerLayerBuilder::dpop`] (feature `dpop`), DPoP-bound tokens (RFC 9449) are
//!   accepted as `Authorization: DPoP` with a proof, per issuer off, allowed or required; a
//!   token bound to a key (`cnf.jkt`) is never accepted as `Bearer`, with DPoP on or off.
//! - With [`BearerLayerBuilder::protected_resource`], every challenge carries the RFC 9728
//!   `resource_metadata` URL, and [`BearerLayer::resource_metadata`] serves the document.
//! - Client messages are coarse; the precise reason goes to the `auth::decision` tracing
//!   target at debug level.

#[cfg(feature = "dpop")]
mod dpop;
mod future;
mod layer;
mod service;

#[cfg(feature = "dpop")]
#[cfg_attr(docsrs, doc(cfg(feature = "dpop")))]
pub use dpop::{Dpop, DpopMode};
pub use future::ResponseFuture;
pub use layer::{BearerLayer, BearerLayerBuilder};
pub use service::Bearer;
