//! CSRF protection for cookie-authenticated unsafe requests.
//!
//! A browser attaches cookies to cross-site requests, so once an access token travels in a
//! cookie (`BearerLayer::builder(v).cookie("access_token")`), another site can make the
//! victim's browser send authenticated `POST`s. [`CsrfLayer`] refuses those, with 403
//! `CSRF_REJECTED` (a JSON body, gRPC status 7 for gRPC calls, no `WWW-Authenticate`):
//!
//! - **Double-submit token**: a random value in a *readable* cookie (set it with
//!   [`SessionCookies::csrf`](crate::cookies::SessionCookies::csrf) and [`generate_token`]) that
//!   the page's script echoes in an `X-CSRF-Token` header. Another site can make the browser
//!   send the cookie but cannot read it, so it cannot produce the header. Compared in constant
//!   time ([`auth_core::constant_time::secrets_equal`]).
//! - **`Origin` allow-list**: the request's `Origin` must be one of the configured origins.
//!
//! Configure either or both (both must then pass). Only unsafe methods (`POST`, `PUT`,
//! `PATCH`, `DELETE`, anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) are checked, and of those
//! only the ones an ambient cookie may have authenticated:
//!
//! - A request an authentication layer authenticated carries its
//!   [`CredentialSource`](crate::CredentialSource) record: exempt when a **header** credential
//!   (`Authorization: Bearer`, the API-key header) authenticated it, checked when the cookie
//!   (or the query string) did. The presence of a header proves nothing by itself: a
//!   `BearerLayer` that reads a cookie authenticates `Authorization: Basic ..` plus the cookie
//!   from the cookie, so that request is checked.
//! - A request without a record (anonymous, or on a route with no authentication layer that
//!   verifies cookies itself, e.g. a refresh or logout endpoint) is checked when it carries one
//!   of the [`session_cookie`](CsrfLayerBuilder::session_cookie)s, and exempt when it carries
//!   none; with no session cookie configured, it is always checked.
//!
//! # Layer order
//!
//! The record is written by the authentication layers when they accept a request, so the
//! `CsrfLayer` must run **after** (inside) them: with `ServiceBuilder`, add it after the
//! `BearerLayer`/`ApiKeyLayer`; with axum's `Router::route_layer`, which wraps what came
//! before, call it *before* theirs. In the wrong order it never sees a record and, failing
//! safe, checks every unsafe request that carries a session cookie, header-authenticated ones
//! included.
//!
//! ```
//! # #[cfg(feature = "bearer")] {
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_tower::bearer::BearerLayer;
//! use auth_tower::csrf::CsrfLayer;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let secret = b"an example secret of at least thirty-two bytes";
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
//!     .audience("orders-api")
//!     .build()?;
//! let svc = ServiceBuilder::new()
//!     // Authentication first (outside): it records where the credential was found...
//!     .layer(BearerLayer::builder(verifier).cookie("access_token").build()?)
//!     // ...then the CSRF check (inside), which reads that record.
//!     .layer(CsrfLayer::builder().double_submit("csrf_token").session_cookie("access_token").build()?)
//!     .service(service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::from("done")))
//!     }));
//!
//! # let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 60;
//! # let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(),
//! #     &serde_json::json!({"sub": "alice", "aud": "orders-api", "exp": exp}),
//! #     &jsonwebtoken::EncodingKey::from_secret(secret))?;
//! // The session cookie authenticated this POST (a `Basic` header is not a bearer token), and it
//! // has no CSRF token: 403 CSRF_REJECTED.
//! let forged = Request::post("/api/orders")
//!     .header(header::COOKIE, format!("access_token={token}"))
//!     .header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")
//!     .body(Full::default())?;
//! assert_eq!(svc.clone().oneshot(forged).await?.status(), StatusCode::FORBIDDEN);
//!
//! // A bearer token in the header authenticated this one: exempt.
//! let api_call = Request::post("/api/orders")
//!     .header(header::AUTHORIZATION, format!("Bearer {token}"))
//!     .body(Full::default())?;
//! assert_eq!(svc.oneshot(api_call).await?.status(), StatusCode::OK);
//! # Ok(())
//! # }
//! # }
//! ```
//!
//! # Example: a route that verifies its cookie itself
//!
//! No authentication layer runs, so the session-cookie rule decides: requests carrying
//! `access_token` are checked.
//!
//! ```
//! use auth_tower::csrf::CsrfLayer;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let svc = ServiceBuilder::new()
//!     .layer(
//!         CsrfLayer::builder()
//!             .double_submit("csrf_token")
//!             .allowed_origin("https://app.example.com")
//!             .session_cookie("access_token")
//!             .build()?,
//!     )
//!     .service(service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::from("done")))
//!     }));
//!
//! let token = auth_tower::csrf::generate_token()?;
//! let post = |echo: &str| {
//!     Request::post("/api/orders")
//!         .header(header::ORIGIN, "https://app.example.com")
//!         .header(header::COOKIE, format!("access_token=eyJ...; csrf_token={token}"))
//!         .header("x-csrf-token", echo)
//!         .body(Full::default())
//! };
//! // The page echoed the cookie: allowed.
//! assert_eq!(svc.clone().oneshot(post(&token)?).await?.status(), StatusCode::OK);
//! // A forged request cannot know the cookie's value: 403 CSRF_REJECTED.
//! let res = svc.oneshot(post("guess")?).await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! - Put the layer after (inside) the authentication layers; see [Layer order](#layer-order).
//!   No header exempts a request by its mere presence (there is no list of "exempt headers"):
//!   only the record of the credential that authenticated it does.
//! - Double-submit relies on other sites being unable to *write* your cookies. A sibling
//!   subdomain can (cookie tossing); name the CSRF cookie with the `__Host-` prefix (which
//!   forbids `Domain` and requires `Secure` and `Path=/`) where you serve over HTTPS, and prefer
//!   combining it with the `Origin` allow-list. A cookie sent twice counts as missing.
//! - The exemption for header-authenticated requests is sound because browsers only attach
//!   `Authorization` or custom headers to cross-site requests that CORS allowed; do not allow
//!   credentialed CORS from arbitrary origins.
//! - `SameSite=Lax` on the access cookie (as [`SessionCookies`](crate::cookies::SessionCookies)
//!   sets it) already stops most cross-site `POST`s; this layer is the defense that does not
//!   depend on the browser's SameSite support.

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::{CsrfLayer, CsrfLayerBuilder, DEFAULT_CSRF_HEADER};
pub use service::Csrf;

/// A fresh CSRF token: 256 random bits from the operating system, base64url (43 characters),
/// safe as a cookie value and a header value.
///
/// ```
/// let t = auth_tower::csrf::generate_token()?;
/// assert_eq!(t.len(), 43);
/// assert_ne!(t, auth_tower::csrf::generate_token()?);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// When the operating system's random source fails.
pub fn generate_token() -> Result<String, std::io::Error> {
    use base64::Engine as _;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(std::io::Error::other)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}
