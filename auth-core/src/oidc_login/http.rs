//! The HTTP seam of the login flow: [`LoginHttpClient`] is an [`HttpClient`] (discovery and the
//! JWK Set are `GET`s through it) that can also [`send`](LoginHttpClient::send) a request with a
//! method, headers and a body: the token request (`POST`, form body, client authentication)
//! and the userinfo request (`GET` with a bearer token).
//!
//! [`ReqwestClient`](crate::jwks::ReqwestClient) implements it with the `jwks-reqwest` feature.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::jwks::{HttpClient, HttpError, HttpResponse};
use crate::jwt::BoxFuture;

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

/// A request with a method, headers and a body, for [`LoginHttpClient::send`].
///
/// `Debug` shows the method, the URL, the header *names* and the body length only: token
/// requests carry the authorization code, the PKCE verifier and client secrets.
///
/// ```
/// use auth_core::oidc_login::{HttpRequest, Method};
/// use std::time::Duration;
///
/// let req = HttpRequest::new(Method::Post, "https://idp.example/token", Duration::from_secs(5), 64 * 1024)
///     .header("authorization", "Basic c2VjcmV0")
///     .form_body("grant_type=authorization_code&code=abc");
/// let shown = format!("{req:?}");
/// assert!(shown.contains("authorization") && !shown.contains("c2VjcmV0") && !shown.contains("abc"));
/// assert_eq!(req.header_value("Content-Type"), Some("application/x-www-form-urlencoded"));
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

/// An [`HttpClient`] that can also send a request with a method, headers and a body.
///
/// Implementations follow [`HttpClient`]'s rules: honour the timeout and the body limit,
/// follow no redirects (a `3xx` is returned as it is), do not retry.
pub trait LoginHttpClient: HttpClient {
    /// Sends `request`.
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>>;
}

impl<C: LoginHttpClient + ?Sized> LoginHttpClient for Arc<C> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        LoginHttpClient::send(&**self, request)
    }
}

#[cfg(feature = "jwks-reqwest")]
impl LoginHttpClient for crate::jwks::ReqwestClient {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let client = self.reqwest().clone();
        Box::pin(async move {
            let transport = |e: reqwest::Error| {
                if e.is_timeout() {
                    HttpError::Timeout
                } else {
                    HttpError::Transport(e.to_string())
                }
            };
            let method = match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
            };
            let mut builder = client
                .request(method, &request.url)
                .timeout(request.timeout);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if !request.body.is_empty() {
                builder = builder.body(request.body);
            }
            let mut response = builder.send().await.map_err(transport)?;
            let status = response.status().as_u16();
            let limit = request.max_body_bytes;
            if response
                .content_length()
                .is_some_and(|len| len > limit as u64)
            {
                return Err(HttpError::BodyTooLarge { limit });
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport)? {
                if body.len().saturating_add(chunk.len()) > limit {
                    return Err(HttpError::BodyTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse::new(status, body))
        })
    }
}
