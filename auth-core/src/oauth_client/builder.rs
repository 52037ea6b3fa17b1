//! [`TokenManagerBuilder`]: validated configuration of a [`TokenManager`].

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::fetch::{Client, Endpoint, Policy};
use super::manager::TokenManager;
use super::params::TokenParams;
use super::response::{DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME, MIN_TOKEN_LIFETIME};
use crate::client_auth::ClientAuth;
use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::jwks::http::default_client;
use crate::jwks::{DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, HttpClient, url};

/// How long after a failed token request no new one is started automatically (30 s).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);
/// The most a renewal starts ahead of expiry (60 s; at most half the token's lifetime).
pub const DEFAULT_RENEW_AHEAD: Duration = Duration::from_secs(60);
/// Attempts per token request (the first and two retries) for transport errors, timeouts and
/// `5xx` answers.
pub const DEFAULT_MAX_ATTEMPTS: NonZeroU32 = match NonZeroU32::new(3) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};
/// Wait before the first retry; doubled for each further one (at most 8 times this).
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(250);

/// Which `aud` a `private_key_jwt` client assertion carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertionAudience {
    /// The authorization server's issuer identifier (RFC 7523 section 3 allows it, and recent
    /// guidance prefers it); the token endpoint URL when no issuer is configured.
    #[default]
    Issuer,
    /// The token endpoint URL (what older servers require).
    TokenEndpoint,
}

/// Builds a [`TokenManager`]; created by [`TokenManager::builder`].
///
/// Required: the token endpoint ([`token_endpoint`](Self::token_endpoint)) or the issuer to
/// discover it from ([`issuer`](Self::issuer)). Defaults: no scope, resource or audience; a
/// 30 s cooldown after failures; renewal up to 60 s ahead of expiry (at most half the
/// lifetime); three attempts per request with 250 ms doubling backoff; a 5 s timeout and a
/// 512 KiB body limit per exchange (as the JWKS client); the system clock; and, with the
/// `jwks-reqwest` feature, [`ReqwestClient`](crate::jwks::ReqwestClient).
#[must_use]
pub struct TokenManagerBuilder {
    auth: ClientAuth,
    token_endpoint: Option<String>,
    issuer: Option<String>,
    assertion_audience: AssertionAudience,
    params: TokenParams,
    http: Option<Arc<dyn HttpClient>>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    max_body_bytes: usize,
    max_attempts: NonZeroU32,
    backoff: Duration,
    cooldown: Duration,
    renew_ahead: Duration,
    default_lifetime: Duration,
    allow_plain_http: bool,
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("auth", &self.auth)
            .field("token_endpoint", &self.token_endpoint)
            .field("issuer", &self.issuer)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    pub(crate) fn new(auth: ClientAuth) -> Self {
        Self {
            auth,
            token_endpoint: None,
            issuer: None,
            assertion_audience: AssertionAudience::Issuer,
            params: TokenParams::new(),
            http: None,
            clock: Arc::new(SystemClock),
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: DEFAULT_RETRY_BACKOFF,
            cooldown: DEFAULT_COOLDOWN,
            renew_ahead: DEFAULT_RENEW_AHEAD,
            default_lifetime: DEFAULT_TOKEN_LIFETIME,
            allow_plain_http: false,
        }
    }

    /// The token endpoint URL (`https`, or `http` to a loopback host).
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// The authorization server's issuer identifier. Without a
    /// [`token_endpoint`](Self::token_endpoint), the endpoint is discovered from its metadata
    /// on the first request (`/.well-known/openid-configuration`, then RFC 8414's
    /// `/.well-known/oauth-authorization-server`; the document's `issuer` must match exactly).
    /// It is also the default `aud` of `private_key_jwt` assertions.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Which `aud` `private_key_jwt` assertions carry (default: the issuer when configured,
    /// else the token endpoint).
    pub fn assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.assertion_audience = audience;
        self
    }

    /// Scopes to request (space-separated values are split).
    pub fn scope(mut self, scope: &str) -> Self {
        self.params = self.params.scope(scope);
        self
    }

    /// Scopes to request.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.params = self.params.scopes(scopes);
        self
    }

    /// A resource indicator to request the token for (RFC 8707).
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.params = self.params.resource(resource);
        self
    }

    /// The `audience` parameter.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.params = self.params.audience(audience);
        self
    }

    /// All token parameters at once (replacing scopes, resources and audience set so far).
    pub fn params(mut self, params: TokenParams) -> Self {
        self.params = params;
        self
    }

    /// The HTTP client (required unless the `jwks-reqwest` feature provides the default). It
    /// must implement [`HttpClient::send`].
    pub fn http_client(mut self, client: impl HttpClient) -> Self {
        self.http = Some(Arc::new(client));
        self
    }

    /// The clock every expiry, renewal and cooldown decision reads (default: system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Timeout of one HTTP exchange (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body read (default 512 KiB, at least 1 KiB).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Attempts per token request for retryable failures (default 3: the first and two
    /// retries).
    pub fn max_attempts(mut self, attempts: NonZeroU32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Wait before the first retry, doubled for each further one (default 250 ms).
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// After a failed token request (retries included), how long callers without an unexpired
    /// token get that error at once instead of a new request (default 30 s, at least 1 s).
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The most a renewal starts ahead of expiry (default 60 s; at most half the lifetime is
    /// used, minus a random jitter of up to a tenth of it).
    pub fn renew_ahead(mut self, margin: Duration) -> Self {
        self.renew_ahead = margin;
        self
    }

    /// Lifetime of tokens whose response has no usable `expires_in` and that are not JWTs
    /// with an `exp` (default 5 min; within 10 s ..= 24 h).
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Accepts `http://` token endpoints and issuers on hosts other than loopback.
    ///
    /// **Protection lost:** the client secret (or assertion) and the tokens travel in clear
    /// text; anyone on the path can read them and act as this client. Loopback `http` is
    /// accepted without this switch.
    pub fn dangerous_allow_plain_http(mut self) -> Self {
        self.allow_plain_http = true;
        self
    }

    /// Validates the settings and builds the manager. Nothing is requested yet: the first
    /// call (or [`TokenManager::refresh_now`]) does.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingSetting`] without a token endpoint or issuer, or without an HTTP
    /// client when the `jwks-reqwest` feature is off; [`ConfigError::InvalidUrl`] for an
    /// unacceptable endpoint or issuer; [`ConfigError::Input`] for an invalid scope, resource
    /// or audience; [`ConfigError::OutOfRange`] for a zero timeout, a cooldown under 1 s, a
    /// body limit under 1 KiB or a default lifetime outside 10 s ..= 24 h.
    pub fn build(self) -> Result<TokenManager, ConfigError> {
        let endpoint = match (self.token_endpoint, self.issuer) {
            (Some(url_), issuer) => {
                url::check(&url_, self.allow_plain_http)?;
                if let Some(i) = &issuer {
                    url::check(i, self.allow_plain_http)?;
                }
                Endpoint::Fixed {
                    url: Arc::from(url_),
                    issuer: issuer.map(Arc::from),
                }
            }
            (None, Some(issuer)) => {
                url::check(&issuer, self.allow_plain_http)?;
                Endpoint::Discover {
                    issuer: Arc::from(issuer),
                }
            }
            (None, None) => {
                return Err(ConfigError::MissingSetting(
                    "a token endpoint or an issuer to discover it from",
                ));
            }
        };
        self.params.validate()?;
        let range = |m: &str| Err(ConfigError::OutOfRange(m.to_owned()));
        if self.timeout.is_zero() {
            return range("timeout must be positive");
        }
        if self.cooldown < Duration::from_secs(1) {
            return range("cooldown must be at least 1 s");
        }
        if self.max_body_bytes < 1024 {
            return range("body limit must be at least 1 KiB");
        }
        if !(MIN_TOKEN_LIFETIME..=MAX_TOKEN_LIFETIME).contains(&self.default_lifetime) {
            return range("default token lifetime must be within 10 s ..= 24 h");
        }
        let http = match self.http {
            Some(c) => c,
            None => default_client()?,
        };
        let policy = Policy {
            timeout: self.timeout,
            max_body_bytes: self.max_body_bytes,
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            cooldown: self.cooldown,
            renew_ahead: self.renew_ahead,
            default_lifetime: self.default_lifetime,
            allow_plain_http: self.allow_plain_http,
        };
        let client = Client::new(
            self.auth,
            endpoint,
            self.assertion_audience,
            http,
            self.clock,
            policy,
        );
        Ok(TokenManager::from_client(client, self.params))
    }
}
