//! The HTTP seam: [`HttpClient`] fetches one URL (and, through [`HttpClient::send`], sends a
//! request with a method, headers and a form body, as an OAuth token request needs); everything
//! else (caching, cooldown, single-flight, parsing) lives in [`JwksSource`](super::JwksSource)
//! and the OAuth client's token manager.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ConfigError;
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
    /// The client cannot send this kind of request (e.g. a `POST` through an implementation
    /// that only provides [`HttpClient::get`]).
    Unsupported(&'static str),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("request timed out"),
            Self::Transport(m) => write!(f, "transport error: {m}"),
            Self::BodyTooLarge { limit } => write!(f, "response body exceeds {limit} bytes"),
            Self::Unsupported(what) => write!(f, "unsupported request: {what}"),
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

    /// Sends `request` (any [`Method`], headers, body), under the same rules as
    /// [`get`](Self::get): honour the timeout and the body limit, follow no redirects, do not
    /// retry. The OAuth client's token requests (`POST` with a form body) come through here.
    ///
    /// The default implementation serves a `GET` without a body and without headers (other
    /// than `accept`) through [`get`](Self::get), and answers anything else with
    /// [`HttpError::Unsupported`] (rather than dropping a header such as a userinfo request's
    /// bearer token), so clients written for the JWKS cache keep working there;
    /// [`ReqwestClient`](super::ReqwestClient) implements it fully.
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        if request.method == Method::Get
            && request.body.is_empty()
            && request.headers.iter().all(|(name, _)| name == "accept")
        {
            self.get(FetchRequest::new(
                request.url,
                request.timeout,
                request.max_body_bytes,
            ))
        } else {
            Box::pin(async {
                Err(HttpError::Unsupported(
                    "this HttpClient only implements get; implement HttpClient::send",
                ))
            })
        }
    }
}

impl<C: HttpClient + ?Sized> HttpClient for Arc<C> {
    fn get(&self, request: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        (**self).get(request)
    }

    fn send(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        (**self).send(request)
    }
}

/// The client a builder uses when none is configured: [`ReqwestClient`](super::ReqwestClient)
/// with the `jwks-reqwest` feature, otherwise a configuration error.
#[cfg(feature = "jwks-reqwest")]
pub(crate) fn default_client() -> Result<Arc<dyn HttpClient>, ConfigError> {
    Ok(Arc::new(super::ReqwestClient::new()?))
}

/// The client a builder uses when none is configured: without the `jwks-reqwest` feature,
/// none (a configuration error).
#[cfg(not(feature = "jwks-reqwest"))]
pub(crate) fn default_client() -> Result<Arc<dyn HttpClient>, ConfigError> {
    Err(ConfigError::MissingSetting(
        "an http client (call http_client, or enable the jwks-reqwest feature)",
    ))
}

/// The method of an [`HttpRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl Method {
    /// The method's name, e.g. `"POST"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// A request with a method, headers and a body, for [`HttpClient::send`].
///
/// `Debug` shows the method, the URL, the header *names* and the body length only: token
/// requests carry client secrets in the `Authorization` header or the form body.
///
/// ```
/// use auth_core::jwks::{HttpRequest, Method};
/// use std::time::Duration;
///
/// let req = HttpRequest::new(Method::Post, "https://idp.example/token", Duration::from_secs(5), 64 * 1024)
///     .header("authorization", "Basic c2VjcmV0")
///     .form_body("grant_type=client_credentials");
/// let shown = format!("{req:?}");
/// assert!(shown.contains("authorization") && !shown.contains("c2VjcmV0"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL (already checked: `https`, or `http` to a loopback host).
    pub url: String,
    /// Request headers as (lower-case name, value) pairs.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// The whole exchange (connect, request, response body) must finish within this time.
    pub timeout: Duration,
    /// Read at most this many response body bytes; more is an [`HttpError::BodyTooLarge`].
    pub max_body_bytes: usize,
}

impl HttpRequest {
    /// A request with no headers and no body.
    #[must_use]
    pub fn new(
        method: Method,
        url: impl Into<String>,
        timeout: Duration,
        max_body_bytes: usize,
    ) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout,
            max_body_bytes,
        }
    }

    /// Adds a header (the name is lower-cased).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut name: String = name.into();
        name.make_ascii_lowercase();
        self.headers.push((name, value.into()));
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body (and its `Content-Type`).
    #[must_use]
    pub fn form_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// The value of header `name` (case-insensitive), if set.
    #[must_use]
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Implements only `get`, answering 200 with the URL it was asked for.
    #[derive(Debug)]
    struct GetOnly;

    impl HttpClient for GetOnly {
        fn get(&self, req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
            Box::pin(async move { Ok(HttpResponse::new(200, req.url)) })
        }
    }

    fn get(url: &str) -> HttpRequest {
        HttpRequest::new(Method::Get, url, Duration::from_secs(1), 1024)
    }

    #[tokio::test]
    async fn the_default_send_serves_a_plain_get_through_get() {
        let answer = GetOnly
            .send(get("https://idp.example/jwks").header("Accept", "application/json"))
            .await
            .unwrap();
        assert_eq!(answer.body, b"https://idp.example/jwks");
    }

    // The login's userinfo request is a GET with a bearer token: served through `get`, the
    // token would be dropped silently.
    #[tokio::test]
    async fn the_default_send_refuses_what_get_cannot_carry() {
        for request in [
            get("https://idp.example/me").header("authorization", "Bearer at"),
            get("https://idp.example/me").form_body("a=b"),
            HttpRequest::new(
                Method::Post,
                "https://idp.example/token",
                Duration::from_secs(1),
                1024,
            ),
        ] {
            let answer = GetOnly.send(request).await;
            assert!(
                matches!(answer, Err(HttpError::Unsupported(_))),
                "{answer:?}"
            );
        }
    }
}
