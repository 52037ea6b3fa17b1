//! [`ReqwestClient`]: the default [`HttpClient`], on `reqwest` with rustls.

use reqwest::header::{ACCEPT, CACHE_CONTROL};

use super::http::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse, Method};
use crate::error::ConfigError;
use crate::jwt::BoxFuture;

/// The default [`HttpClient`]: `reqwest` with rustls (on aws-lc-rs, the crypto backend the
/// verifier already uses) and the platform's certificate verifier, no redirects, no system
/// proxy, no idle connection kept between fetches.
///
/// Requires a Tokio runtime when fetching (as every `reqwest` client does).
///
/// ```
/// use auth_core::jwks::{JwksSource, ReqwestClient};
///
/// let client = ReqwestClient::new()?;
/// let source = JwksSource::from_oidc_issuer("https://idp.example")
///     .http_client(client) // the same as the default
///     .build()?;
/// # let _ = source;
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReqwestClient {
    client: reqwest::Client,
}

impl ReqwestClient {
    /// A client with the settings above.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] when the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            // A redirect could point anywhere (including plain http); JWKS and discovery
            // URLs are configured or discovered exactly.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("auth-core/", env!("CARGO_PKG_VERSION")))
            // Fetches are minutes apart; an idle pooled connection would usually have been
            // closed by the server (or its load balancer) by the next one, and reusing it
            // fails that fetch. A fresh connection per fetch costs one handshake.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| ConfigError::Input(format!("http client: {e}")))?;
        Ok(Self { client })
    }

    /// Wraps a `reqwest::Client` you configured (proxy, roots, ...). Per-request timeouts and
    /// body limits still apply; configure it not to follow redirects.
    #[must_use]
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

fn transport(e: &reqwest::Error) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout
    } else {
        HttpError::Transport(e.to_string())
    }
}

/// Reads status, `Cache-Control` and at most `limit` body bytes.
async fn read(mut response: reqwest::Response, limit: usize) -> Result<HttpResponse, HttpError> {
    let status = response.status().as_u16();
    let values: Vec<&str> = response
        .headers()
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let cache_control = (!values.is_empty()).then(|| values.join(", "));
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(HttpError::BodyTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(&e))? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(HttpError::BodyTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        cache_control,
        body,
    })
}

impl HttpClient for ReqwestClient {
    fn get(&self, request: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let client = self.client.clone();
        Box::pin(async move {
            // reqwest applies this timeout to the whole exchange, body included.
            let response = client
                .get(&request.url)
                .timeout(request.timeout)
                .header(ACCEPT, "application/json, application/jwk-set+json")
                .send()
                .await
                .map_err(|e| transport(&e))?;
            read(response, request.max_body_bytes).await
        })
    }

    /// Sends the request with its headers and body; redirects are not followed (a `3xx` is
    /// returned as it is), and the body limit and timeout apply as for [`get`](Self::get).
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let client = self.client.clone();
        Box::pin(async move {
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
            let response = builder.send().await.map_err(|e| transport(&e))?;
            read(response, request.max_body_bytes).await
        })
    }
}
