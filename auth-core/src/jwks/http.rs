//! The HTTP seam: [`HttpClient`] fetches one URL; everything else (caching, cooldown,
//! single-flight, parsing) lives in [`JwksSource`](super::JwksSource).

use std::fmt;
use std::time::Duration;

use crate::jwt::BoxFuture;

/// What [`JwksSource`](super::JwksSource) asks an [`HttpClient`] to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchRequest {
    /// The absolute URL to `GET` (already checked: `https`, or `http` to a loopback host).
    pub url: String,
    /// The whole exchange (connect, request, response body) must finish within this time.
    pub timeout: Duration,
    /// Read at most this many body bytes; a longer body is an [`HttpError::BodyTooLarge`].
    pub max_body_bytes: usize,
}

impl FetchRequest {
    /// A request for `url` with the given limits.
    #[must_use]
    pub fn new(url: impl Into<String>, timeout: Duration, max_body_bytes: usize) -> Self {
        Self {
            url: url.into(),
            timeout,
            max_body_bytes,
        }
    }
}

/// What an [`HttpClient`] returns: the status, the `Cache-Control` header and the body.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Cache-Control` header value, if present (several headers joined with `", "`).
    pub cache_control: Option<String>,
    /// The response body (at most [`FetchRequest::max_body_bytes`] long).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with `status` and `body` and no `Cache-Control`.
    #[must_use]
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            cache_control: None,
            body: body.into(),
        }
    }

    /// Sets the `Cache-Control` value.
    #[must_use]
    pub fn with_cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("cache_control", &self.cache_control)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Why an [`HttpClient`] could not produce a response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// The exchange did not finish within [`FetchRequest::timeout`].
    Timeout,
    /// Connecting, TLS or the request itself failed.
    Transport(String),
    /// The body is longer than [`FetchRequest::max_body_bytes`].
    BodyTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("request timed out"),
            Self::Transport(m) => write!(f, "transport error: {m}"),
            Self::BodyTooLarge { limit } => write!(f, "response body exceeds {limit} bytes"),
        }
    }
}

impl std::error::Error for HttpError {}

/// An asynchronous HTTP `GET`, pluggable so the JWKS cache is independent of any one HTTP
/// stack (and testable with a fake that counts requests).
///
/// Implementations must honour [`FetchRequest::timeout`] and
/// [`FetchRequest::max_body_bytes`], must not follow redirects to another origin silently
/// (the default client follows none), and should not retry: retries are the cache's job,
/// bounded by its cooldown.
///
/// With the `jwks-reqwest` feature, [`ReqwestClient`](super::ReqwestClient) is the default.
///
/// ```
/// use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpResponse};
/// use auth_core::jwt::BoxFuture;
///
/// /// Serves one fixed document, whatever the URL.
/// #[derive(Debug)]
/// struct Fixed(&'static str);
///
/// impl HttpClient for Fixed {
///     fn get(&self, _req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
///         let body = self.0;
///         Box::pin(async move {
///             Ok(HttpResponse::new(200, body).with_cache_control("max-age=300"))
///         })
///     }
/// }
/// # let _ = Fixed(r#"{"keys":[]}"#);
/// ```
pub trait HttpClient: fmt::Debug + Send + Sync + 'static {
    /// Fetches `request.url` with a `GET`.
    fn get(&self, request: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>>;
}

impl<C: HttpClient + ?Sized> HttpClient for std::sync::Arc<C> {
    fn get(&self, request: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        (**self).get(request)
    }
}
