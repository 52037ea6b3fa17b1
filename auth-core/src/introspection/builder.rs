//! [`IntrospectorBuilder`]: the settings of an [`Introspector`], validated by `build`.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use super::introspector::{Endpoint, Introspector, Settings};
use crate::client_auth::ClientAuth;
use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::jwks::{HttpClient, url};
use crate::jwt::{DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, MAX_LEEWAY};

/// How long an active answer is cached at most (the revocation delay): 60 s.
pub const DEFAULT_ACTIVE_TTL: Duration = Duration::from_secs(60);
/// How long an inactive (or refused) answer is cached: 5 s.
pub const DEFAULT_INACTIVE_TTL: Duration = Duration::from_secs(5);
/// How many answers are cached at most by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;
/// How many distinct tokens may be introspected at once by default; past that, a request for
/// yet another token answers 503 instead of queueing without bound.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1_024;
/// The default timeout of an introspection request: 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default largest introspection response read: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds an [`Introspector`]; created by [`Introspector::builder`].
#[must_use]
pub struct IntrospectorBuilder {
    auth: ClientAuth,
    issuer: String,
    endpoint: Option<String>,
    audiences: Option<Vec<String>>,
    http: Option<Arc<dyn HttpClient>>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    max_body_bytes: usize,
    leeway: Duration,
    active_ttl: Duration,
    inactive_ttl: Duration,
    capacity: NonZeroUsize,
    max_in_flight: NonZeroUsize,
    allow_plain_http: bool,
}

impl fmt::Debug for IntrospectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectorBuilder")
            .field("auth", &self.auth)
            .field("issuer", &self.issuer)
            .field("endpoint", &self.endpoint)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

impl IntrospectorBuilder {
    pub(crate) fn new(auth: ClientAuth, issuer: String) -> Self {
        Self {
            auth,
            issuer,
            endpoint: None,
            audiences: None,
            http: None,
            clock: Arc::new(SystemClock),
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            leeway: DEFAULT_LEEWAY,
            active_ttl: DEFAULT_ACTIVE_TTL,
            inactive_ttl: DEFAULT_INACTIVE_TTL,
            capacity: NonZeroUsize::new(DEFAULT_CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN),
            max_in_flight: NonZeroUsize::new(DEFAULT_MAX_IN_FLIGHT).unwrap_or(NonZeroUsize::MIN),
            allow_plain_http: false,
        }
    }

    /// The introspection endpoint. Without it, the `introspection_endpoint` of the issuer's
    /// OpenID Connect metadata is used (read on the first introspection, then kept).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Accepts tokens whose `aud` contains `audience` (call again for more); without any, `aud`
    /// is not checked.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences
            .get_or_insert_with(Vec::new)
            .push(audience.into());
        self
    }

    /// The HTTP client (default: reqwest, with the `jwks-reqwest` feature).
    pub fn http_client(mut self, client: impl HttpClient) -> Self {
        self.http = Some(Arc::new(client));
        self
    }

    /// The clock for `exp`/`nbf`/`iat` and the cache's lifetimes (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock, shared with other components.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Timeout of one introspection request (default 5 s); past it the request answers 503.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body read (default 64 KiB).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat` (default 30 s, at most 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How long an active answer is cached at most (default 60 s; never past the token's
    /// `exp`). This is the **revocation delay**: a token revoked at the server is still
    /// accepted for up to this long. Zero turns the cache of active answers off.
    pub fn active_ttl(mut self, ttl: Duration) -> Self {
        self.active_ttl = ttl;
        self
    }

    /// How long an inactive or refused answer is cached (default 5 s), so a flood of one bad
    /// token costs one request per interval. Zero turns it off.
    pub fn inactive_ttl(mut self, ttl: Duration) -> Self {
        self.inactive_ttl = ttl;
        self
    }

    /// How many answers are cached at most (default 10 000; S3-FIFO eviction).
    pub fn cache_capacity(mut self, capacity: NonZeroUsize) -> Self {
        self.capacity = capacity;
        self
    }

    /// How many distinct tokens may be introspected at once (default 1 024).
    pub fn max_in_flight(mut self, max: NonZeroUsize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// Accepts `http` URLs to any host, not just loopback. **Dangerous**: the client's
    /// credentials and the tokens then travel in clear text; for tests only.
    pub fn dangerous_allow_plain_http(mut self) -> Self {
        self.allow_plain_http = true;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] for an unacceptable issuer or endpoint (not `https`, or
    /// `http` to a host other than loopback), [`ConfigError::Input`] for an empty audience,
    /// [`ConfigError::OutOfRange`] for a zero timeout, a leeway over 300 s or a body limit under
    /// 1 KiB, [`ConfigError::MissingSetting`] without an HTTP client when `jwks-reqwest` is off.
    pub fn build(self) -> Result<Introspector, ConfigError> {
        url::check(&self.issuer, self.allow_plain_http)?;
        let endpoint = match self.endpoint {
            Some(e) => {
                url::check(&e, self.allow_plain_http)?;
                Endpoint::Fixed(Arc::from(e))
            }
            None => Endpoint::Discover,
        };
        if self
            .audiences
            .as_ref()
            .is_some_and(|a| a.iter().any(String::is_empty))
        {
            return Err(ConfigError::Input("an audience is empty".into()));
        }
        let range = |m: &str| Err(ConfigError::OutOfRange(m.to_owned()));
        if self.timeout.is_zero() {
            return range("introspection timeout must be positive");
        }
        if self.leeway > MAX_LEEWAY {
            return range("leeway must be at most 300 s");
        }
        if self.max_body_bytes < 1024 {
            return range("body limit must be at least 1 KiB");
        }
        let http = match self.http {
            Some(c) => c,
            None => crate::jwks::http::default_client()?,
        };
        Introspector::from_settings(Settings {
            auth: self.auth,
            issuer: Arc::from(self.issuer),
            endpoint,
            audiences: self.audiences,
            http,
            clock: self.clock,
            timeout: self.timeout,
            max_body_bytes: self.max_body_bytes,
            leeway: self.leeway,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            allow_plain_http: self.allow_plain_http,
            active_ttl: self.active_ttl,
            inactive_ttl: self.inactive_ttl,
            capacity: self.capacity.get(),
            max_in_flight: self.max_in_flight.get(),
        })
    }
}
