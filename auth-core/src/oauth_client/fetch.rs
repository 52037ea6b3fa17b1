//! One token request, with the discovery of the token endpoint and the bounded retries of a
//! flight; everything a flight needs, detached from the cache.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use super::builder::AssertionAudience;
use super::error::TokenError;
use super::params::TokenParams;
use super::response::{self, Issued};
use crate::client_auth::ClientAuth;
use crate::clock::{Clock, UnixTime};
use crate::form::Form;
use crate::jwks::discovery::{metadata, openid_configuration};
use crate::jwks::url;
use crate::jwks::{FetchError, HttpClient, HttpError, HttpRequest, Method};

/// Extra time granted past the HTTP timeout before an attempt is abandoned (a client that
/// ignores its timeout must not hold a flight forever).
const TIMEOUT_GRACE: Duration = Duration::from_secs(1);

/// Where the token endpoint is.
#[derive(Clone, Debug)]
pub(crate) enum Endpoint {
    /// Configured; `issuer` (if known) is the default assertion audience.
    Fixed {
        url: Arc<str>,
        issuer: Option<Arc<str>>,
    },
    /// Read from the issuer's metadata on the first request.
    Discover { issuer: Arc<str> },
}

/// Timeouts, limits, retry and renewal settings.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) timeout: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_attempts: NonZeroU32,
    pub(crate) backoff: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) renew_ahead: Duration,
    pub(crate) default_lifetime: Duration,
    pub(crate) allow_plain_http: bool,
}

/// Why a flight runs (for logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// No token yet.
    Initial,
    /// The cached token expired before a renewal landed.
    Expired,
    /// Ahead of expiry, in the background.
    RenewAhead,
    /// The downstream answered 401 for the current token.
    Rejected,
    /// Asked for explicitly (`refresh_now`).
    Requested,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Expired => "expired",
            Self::RenewAhead => "renew_ahead",
            Self::Rejected => "rejected_downstream",
            Self::Requested => "requested",
        }
    }
}

/// The client side of the token endpoint: credentials, endpoint, HTTP client, clock, policy.
pub(crate) struct Client {
    pub(crate) auth: ClientAuth,
    pub(crate) endpoint: Endpoint,
    pub(crate) assertion_audience: AssertionAudience,
    pub(crate) http: Arc<dyn HttpClient>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: Policy,
    discovered: Mutex<Option<Arc<str>>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("auth", &self.auth)
            .field("endpoint", &self.endpoint)
            .field("policy", &self.policy)
            .field("http", &self.http)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(
        auth: ClientAuth,
        endpoint: Endpoint,
        assertion_audience: AssertionAudience,
        http: Arc<dyn HttpClient>,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Self {
        Self {
            auth,
            endpoint,
            assertion_audience,
            http,
            clock,
            policy,
            discovered: Mutex::new(None),
        }
    }

    pub(crate) fn client_id(&self) -> &str {
        self.auth.client_id()
    }

    /// The configured token endpoint, or the configured issuer (before discovery).
    pub(crate) fn location(&self) -> &str {
        match &self.endpoint {
            Endpoint::Fixed { url, .. } => url,
            Endpoint::Discover { issuer } => issuer,
        }
    }

    fn issuer(&self) -> Option<&str> {
        match &self.endpoint {
            Endpoint::Fixed { issuer, .. } => issuer.as_deref(),
            Endpoint::Discover { issuer } => Some(issuer),
        }
    }

    fn discovered(&self) -> std::sync::MutexGuard<'_, Option<Arc<str>>> {
        self.discovered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets a discovered endpoint, so the next flight reads the metadata again.
    pub(crate) fn forget_discovered(&self) {
        if matches!(self.endpoint, Endpoint::Discover { .. }) {
            *self.discovered() = None;
        }
    }

    async fn token_endpoint(&self) -> Result<Arc<str>, TokenError> {
        let issuer = match &self.endpoint {
            Endpoint::Fixed { url, .. } => return Ok(Arc::clone(url)),
            Endpoint::Discover { issuer } => issuer,
        };
        if let Some(url) = self.discovered().clone() {
            return Ok(url);
        }
        let found: Arc<str> = Arc::from(discover_token_endpoint(self, issuer).await?);
        tracing::info!(
            target: "auth::oauth_client",
            client_id = self.client_id(),
            issuer = &**issuer,
            token_endpoint = &*found,
            "token endpoint discovered",
        );
        *self.discovered() = Some(Arc::clone(&found));
        Ok(found)
    }

    /// One token request, no retry. Returns what was issued and when the request was sent.
    async fn request_once(&self, params: &TokenParams) -> Result<(Issued, UnixTime), TokenError> {
        let endpoint = self.token_endpoint().await?;
        let requested_at = self.clock.now();
        let mut form = Form::default();
        form.pair("grant_type", "client_credentials");
        if let Some(scope) = params.scope_string() {
            form.pair("scope", &scope);
        }
        for resource in params.resources() {
            form.pair("resource", resource);
        }
        if let Some(audience) = params.audience_value() {
            form.pair("audience", audience);
        }
        let assertion_aud = match (self.assertion_audience, self.issuer()) {
            (AssertionAudience::Issuer, Some(issuer)) => issuer,
            _ => &endpoint,
        };
        let authorization = self
            .auth
            .apply(&mut form, assertion_aud, requested_at)
            .map_err(TokenError::ClientAssertion)?;
        let p = &self.policy;
        let mut request = HttpRequest::new(Method::Post, &*endpoint, p.timeout, p.max_body_bytes)
            .header("accept", "application/json")
            .form_body(form.into_bytes());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let sent = self.http.send(request);
        let response =
            match tokio::time::timeout(p.timeout.saturating_add(TIMEOUT_GRACE), sent).await {
                Err(_elapsed) => return Err(TokenError::Timeout),
                Ok(Err(e)) => return Err(http_error(e)),
                Ok(Ok(r)) => r,
            };
        if response.body.len() > p.max_body_bytes {
            return Err(http_error(HttpError::BodyTooLarge {
                limit: p.max_body_bytes,
            }));
        }
        let issued = response::parse(&response, requested_at, p.default_lifetime)?;
        Ok((issued, requested_at))
    }

    /// A flight's work: up to `max_attempts` requests, with doubling backoff between retryable
    /// failures. Every attempt and its outcome is a `tracing` event.
    pub(crate) async fn fetch(
        &self,
        params: &TokenParams,
        reason: Reason,
    ) -> Result<(Issued, UnixTime), TokenError> {
        let max = self.policy.max_attempts.get();
        let mut attempt = 1u32;
        loop {
            tracing::debug!(
                target: "auth::oauth_client",
                client_id = self.client_id(),
                endpoint = self.location(),
                reason = reason.as_str(),
                attempt,
                "requesting access token",
            );
            match self.request_once(params).await {
                Ok(done) => return Ok(done),
                Err(error) if error.is_retryable() && attempt < max => {
                    let wait = backoff(self.policy.backoff, attempt);
                    tracing::warn!(
                        target: "auth::oauth_client",
                        client_id = self.client_id(),
                        outcome = "retry",
                        reason = error.class(),
                        %error,
                        attempt,
                        retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "token request failed; retrying",
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// `base * 2^(attempt - 1)`, at most `base * 8`.
fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1 << attempt.saturating_sub(1).min(3))
}

fn http_error(e: HttpError) -> TokenError {
    match e {
        HttpError::Timeout => TokenError::Timeout,
        HttpError::BodyTooLarge { limit } => {
            TokenError::Malformed(format!("response body exceeds {limit} bytes"))
        }
        other => TokenError::Transport(other.to_string()),
    }
}

fn fetch_error(e: FetchError) -> TokenError {
    match e {
        FetchError::Http { error, .. } => http_error(error),
        other => TokenError::Discovery(other.to_string()),
    }
}

/// The RFC 8414 metadata URL: `/.well-known/oauth-authorization-server` inserted between the
/// issuer's origin and its path.
fn rfc8414_url(issuer: &str) -> Option<String> {
    let scheme_end = issuer.find("://")? + 3;
    let rest = issuer.get(scheme_end..)?;
    let path_start = rest.find('/').map_or(issuer.len(), |i| scheme_end + i);
    let origin = issuer.get(..path_start)?;
    let path = issuer.get(path_start..)?.trim_end_matches('/');
    Some(format!(
        "{origin}/.well-known/oauth-authorization-server{path}"
    ))
}

/// The issuer's `token_endpoint`, from its OpenID Connect metadata, or (when that is not
/// found) its RFC 8414 authorization server metadata. The document's `issuer` must equal the
/// configured one, and the endpoint must be `https` (or `http` to a loopback host).
async fn discover_token_endpoint(client: &Client, issuer: &str) -> Result<String, TokenError> {
    let p = &client.policy;
    let doc = match openid_configuration(
        &*client.http,
        issuer,
        p.timeout,
        p.max_body_bytes,
        p.allow_plain_http,
    )
    .await
    {
        Ok(doc) => doc,
        Err(FetchError::Status { status: 404, .. }) => {
            let rfc8414 = rfc8414_url(issuer)
                .ok_or_else(|| TokenError::Discovery(format!("`{issuer}` is not a url")))?;
            metadata(
                &*client.http,
                issuer,
                &rfc8414,
                p.timeout,
                p.max_body_bytes,
                p.allow_plain_http,
            )
            .await
            .map_err(fetch_error)?
        }
        Err(e) => return Err(fetch_error(e)),
    };
    let endpoint = doc
        .get("token_endpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| TokenError::Discovery("metadata has no token_endpoint".into()))?;
    url::check(endpoint, p.allow_plain_http).map_err(|e| TokenError::Discovery(e.to_string()))?;
    Ok(endpoint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8414_metadata_url_inserts_the_well_known_segment_before_the_path() {
        assert_eq!(
            rfc8414_url("https://as.example").as_deref(),
            Some("https://as.example/.well-known/oauth-authorization-server")
        );
        assert_eq!(
            rfc8414_url("https://as.example/tenant/1/").as_deref(),
            Some("https://as.example/.well-known/oauth-authorization-server/tenant/1")
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_millis(100);
        assert_eq!(backoff(b, 1), Duration::from_millis(100));
        assert_eq!(backoff(b, 2), Duration::from_millis(200));
        assert_eq!(backoff(b, 4), Duration::from_millis(800));
        assert_eq!(backoff(b, 40), Duration::from_millis(800));
    }
}
