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
//! `PATCH`, `DELETE`, anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) are checked, and only
//! cookie-authenticated ones: a request with an `Authorization` header (a bearer token) or an
//! API-key header was not authenticated by an ambient cookie and is exempt. With
//! [`session_cookie`](CsrfLayerBuilder::session_cookie), requests without the session cookie are
//! exempt too.
//!
//! # Example
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
//! - Put the layer in front of (outside) the cookie-reading `BearerLayer`, or anywhere before
//!   the handlers: it only reads headers.
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
