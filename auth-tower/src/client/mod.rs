//! Outbound authentication with OAuth 2.0 client credentials: [`AccessTokenLayer`] puts an
//! access token from an [`auth_core::oauth_client::TokenManager`] on every request an HTTP
//! client sends, and handles a downstream `401` once.
//!
//! It wraps any `Service<http::Request<B>>`: a `hyper-util` client, an axum `Router` in
//! tests, a tonic `Channel`, or a `reqwest::Client` through [`ReqwestService`] (feature
//! `reqwest`).
//!
//! - Every request gets `Authorization: Bearer <token>` (replacing any it had, marked
//!   sensitive). The token comes from the manager's cache without waiting; only when no
//!   unexpired token exists does the request wait for the one token request in flight.
//! - **Never without credentials.** When no token can be had, the request is not sent: the
//!   future fails with [`OutboundError::Token`] and the typed
//!   [`TokenError`](auth_core::oauth_client::TokenError).
//! - **A downstream `401`** whose `WWW-Authenticate` says `error="invalid_token"`, or carries
//!   no error attribute (configurable with [`RenewOn`](auth_core::oauth_client::RenewOn)),
//!   renews the token **only if the token that failed is still the current one** (a hundred
//!   concurrent `401`s for one token cause one renewal), then retries the request once when
//!   its body can be replayed ([`ReplayBody`]). A second `401`, a `403`, a `401` for another
//!   reason, or a `401` for a request whose body is a stream is returned as it is (the body
//!   is never sent twice).
//!
//! Errors of the inner service come back as [`OutboundError::Service`].
//!
//! # Example
//!
//! ```
//! # use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
//! # use auth_core::jwt::BoxFuture;
//! # use std::sync::atomic::{AtomicUsize, Ordering};
//! # #[derive(Debug, Default)]
//! # struct AuthServer { n: AtomicUsize }
//! # impl HttpClient for AuthServer {
//! #     fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         Box::pin(async { Ok(HttpResponse::new(404, "")) })
//! #     }
//! #     fn send(&self, _: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
//! #         Box::pin(async move { Ok(HttpResponse::new(200, format!(r#"{{"access_token":"token-{n}","token_type":"Bearer","expires_in":600}}"#))) })
//! #     }
//! # }
//! use auth_core::oauth_client::{ClientAuth, TokenManager};
//! use auth_tower::client::{AccessTokenLayer, OutboundError};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Empty;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = TokenManager::builder(ClientAuth::client_secret_basic("reports", "s3cr3t")?)
//!     .token_endpoint("https://auth.example/oauth/token")
//!     .scope("orders:read")
//! #   .http_client(AuthServer::default())
//!     .build()?;
//!
//! // The downstream API: it has revoked token-1.
//! let orders = service_fn(|req: Request<Empty<Bytes>>| async move {
//!     let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok());
//!     let status = match auth {
//!         Some("Bearer token-1") | None => StatusCode::UNAUTHORIZED,
//!         Some(_) => StatusCode::OK,
//!     };
//!     let mut res = Response::new(Empty::<Bytes>::new());
//!     *res.status_mut() = status;
//!     res.headers_mut().insert("www-authenticate", r#"Bearer error="invalid_token""#.parse().unwrap());
//!     Ok::<_, Infallible>(res)
//! });
//! let client = ServiceBuilder::new()
//!     .layer(AccessTokenLayer::new(tokens))
//!     .service(orders);
//!
//! // token-1 is refused: the layer renews once and retries; the caller sees the 200.
//! let res = client.clone().oneshot(Request::get("https://orders.example/o/1").body(Empty::new())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! - The layer sends the token to whatever the request's URI names: build the inner client
//!   so that it only reaches the API the token is meant for, and do not let it follow
//!   redirects to other origins.
//! - Requests are never sent without a token, so a failing authorization server shows up as
//!   [`OutboundError::Token`], not as an unauthenticated call the downstream might treat
//!   differently.

mod body;
mod error;
mod future;
mod layer;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
mod reqwest;
mod service;

pub use body::ReplayBody;
pub use error::OutboundError;
pub use future::ResponseFuture;
pub use layer::AccessTokenLayer;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest::ReqwestService;
pub use service::AccessToken;
