//! [`JwksSource`]: a cached, self-refreshing [`KeyResolver`] over a remote JWK Set.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::Shared;

use super::cache_control;
use super::discovery::discover_with;
use super::document::{self, DocumentError};
use super::error::FetchError;
use super::http::{FetchRequest, HttpClient};
use super::url;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::error::{AuthError, ConfigError};
use crate::jwt::{Algorithm, BoxFuture, KeyResolver, KeySet};

/// Lower bound on the cache lifetime, whatever `Cache-Control` says.
pub const DEFAULT_MIN_TTL: Duration = Duration::from_secs(60);
/// Upper bound on the cache lifetime, whatever `Cache-Control` says.
pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Cache lifetime when the response has no `Cache-Control: max-age`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);
/// How long before expiry a background refresh starts (at most half the lifetime).
pub const DEFAULT_REFRESH_AHEAD: Duration = Duration::from_secs(2 * 60);
/// Minimum time between two fetches started automatically (unknown `kid`, refresh-ahead,
/// retry after a failure).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);
/// How long after expiry the last good key set stays in use while refreshes fail.
pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(60 * 60);
/// Timeout of one HTTP exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JWK Set (or discovery document) body read.
pub const DEFAULT_MAX_BODY_BYTES: usize = 512 * 1024;
/// The algorithms keys may be used with unless configured otherwise: every asymmetric one.
/// Symmetric (`HS*`) keys are never taken from a URL.
pub const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[derive(Clone, Debug)]
enum Location {
    JwksUri(String),
    Issuer(String),
}

#[derive(Debug)]
struct Settings {
    location: Location,
    algorithms: Vec<Algorithm>,
    min_ttl: Duration,
    max_ttl: Duration,
    default_ttl: Duration,
    refresh_ahead: Duration,
    cooldown: Duration,
    max_stale: Duration,
    timeout: Duration,
    max_body_bytes: usize,
    allow_plain_http: bool,
}

/// What a flight (one fetch, shared by everyone waiting for it) yields.
type FlightResult = Result<Arc<KeySet>, FetchError>;
type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// Everything one fetch needs, detached from the cache so the fetch holds no reference to it.
#[derive(Clone, Debug)]
struct Fetcher {
    client: Arc<dyn HttpClient>,
    settings: Arc<Settings>,
}

struct Fetched {
    keys: Arc<KeySet>,
    ttl: Duration,
    jwks_uri: String,
}

impl Fetcher {
    async fn run(self, known_uri: Option<String>) -> Result<Fetched, FetchError> {
        let s = &*self.settings;
        let jwks_uri = match (&s.location, known_uri) {
            (Location::JwksUri(u), _) => u.clone(),
            (Location::Issuer(_), Some(u)) => u,
            (Location::Issuer(iss), None) => {
                discover_with(
                    &*self.client,
                    iss,
                    s.timeout,
                    s.max_body_bytes,
                    s.allow_plain_http,
                )
                .await?
                .jwks_uri
            }
        };
        tracing::debug!(target: "auth::jwks", url = %jwks_uri, "fetching jwk set");
        let response = self
            .client
            .get(FetchRequest::new(&jwks_uri, s.timeout, s.max_body_bytes))
            .await
            .map_err(|error| FetchError::Http {
                url: jwks_uri.clone(),
                error,
            })?;
        if response.status != 200 {
            return Err(FetchError::Status {
                url: jwks_uri,
                status: response.status,
            });
        }
        if response.body.len() > s.max_body_bytes {
            return Err(FetchError::Http {
                url: jwks_uri,
                error: super::HttpError::BodyTooLarge {
                    limit: s.max_body_bytes,
                },
            });
        }
        let parsed = document::parse(&response.body, &s.algorithms).map_err(|e| {
            FetchError::Document {
                url: jwks_uri.clone(),
                reason: match e {
                    DocumentError::NotJson => "not json",
                    DocumentError::NoKeysArray => "no keys array",
                },
            }
        })?;
        for skipped in &parsed.skipped {
            tracing::warn!(
                target: "auth::jwks",
                url = %jwks_uri,
                kid = ?skipped.kid,
                reason = %skipped.reason,
                "skipping unusable jwk",
            );
        }
        let skipped = parsed.skipped.len();
        let keys = document::key_set(parsed.keys).ok_or_else(|| FetchError::NoUsableKeys {
            url: jwks_uri.clone(),
            skipped,
        })?;
        let ttl = cache_control::max_age(response.cache_control.as_deref())
            .unwrap_or(s.default_ttl)
            .clamp(s.min_ttl, s.max_ttl);
        Ok(Fetched {
            keys: Arc::new(keys),
            ttl,
            jwks_uri,
        })
    }
}

struct InFlight {
    id: u64,
    started: UnixTime,
    flight: Flight,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: UnixTime,
    ttl: Duration,
    last_start: Option<UnixTime>,
    inflight: Option<InFlight>,
    next_id: u64,
    jwks_uri: Option<String>,
}

struct Inner {
    fetcher: Fetcher,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl Inner {
    fn settings(&self) -> &Settings {
        &self.fetcher.settings
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data updated in single assignments; a panic elsewhere cannot
        // leave it half-written, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn location(&self) -> &str {
        match &self.settings().location {
            Location::JwksUri(u) | Location::Issuer(u) => u,
        }
    }

    /// When the cached keys stop being usable at all (expiry plus the stale window).
    fn usable_until(&self, st: &State) -> UnixTime {
        st.fetched_at
            .saturating_add(st.ttl)
            .saturating_add(self.settings().max_stale)
    }

    fn usable_keys(&self, now: UnixTime) -> Option<Arc<KeySet>> {
        let st = self.lock();
        if now < self.usable_until(&st) {
            st.keys.clone()
        } else {
            None
        }
    }

    /// The flight still running, unless it outlived its timeout by a whole cooldown (a
    /// client that ignores its timeout must not block refreshes forever).
    fn live_flight(&self, st: &State, now: UnixTime) -> Option<Flight> {
        let s = self.settings();
        st.inflight
            .as_ref()
            .filter(|f| now < f.started.saturating_add(s.timeout).saturating_add(s.cooldown))
            .map(|f| f.flight.clone())
    }

    fn cooldown_over(&self, st: &State, now: UnixTime) -> bool {
        st.last_start
            .is_none_or(|t| now >= t.saturating_add(self.settings().cooldown))
    }

    /// Joins the running fetch, or starts one if `force` or the cooldown allows.
    fn join_or_start(
        self: &Arc<Self>,
        st: &mut State,
        now: UnixTime,
        force: bool,
    ) -> Option<Flight> {
        if let Some(flight) = self.live_flight(st, now) {
            return Some(flight);
        }
        if force || self.cooldown_over(st, now) {
            return Some(self.start(st, now));
        }
        None
    }

    fn start(self: &Arc<Self>, st: &mut State, now: UnixTime) -> Flight {
        st.last_start = Some(now);
        st.next_id = st.next_id.wrapping_add(1);
        let id = st.next_id;
        let fetcher = self.fetcher.clone();
        let known_uri = st.jwks_uri.clone();
        let weak: Weak<Self> = Arc::downgrade(self);
        let fetch: BoxFuture<'static, FlightResult> = Box::pin(async move {
            let result = fetcher.run(known_uri).await;
            match weak.upgrade() {
                Some(inner) => inner.complete(id, result),
                None => Err(FetchError::SourceDropped),
            }
        });
        let flight = fetch.shared();
        st.inflight = Some(InFlight {
            id,
            started: now,
            flight: flight.clone(),
        });
        flight
    }

    /// Records a finished fetch; runs once per flight, inside the shared future.
    fn complete(&self, id: u64, result: Result<Fetched, FetchError>) -> FlightResult {
        let now = self.clock.now();
        let mut st = self.lock();
        if st.inflight.as_ref().is_some_and(|f| f.id == id) {
            st.inflight = None;
        }
        match result {
            Ok(fetched) => {
                tracing::info!(
                    target: "auth::jwks",
                    url = %fetched.jwks_uri,
                    keys = fetched.keys.keys().len(),
                    ttl_secs = fetched.ttl.as_secs(),
                    "jwk set refreshed",
                );
                st.keys = Some(Arc::clone(&fetched.keys));
                st.fetched_at = now;
                st.ttl = fetched.ttl;
                st.jwks_uri = Some(fetched.jwks_uri);
                Ok(fetched.keys)
            }
            Err(error) => {
                if matches!(self.settings().location, Location::Issuer(_)) {
                    // Rediscover next time: the provider may have moved its keys.
                    st.jwks_uri = None;
                }
                let until = self.usable_until(&st);
                if st.keys.is_some() && now < until {
                    tracing::warn!(
                        target: "auth::jwks",
                        source = self.location(),
                        %error,
                        age_secs = now.saturating_duration_since(st.fetched_at).as_secs(),
                        usable_for_secs = until.saturating_duration_since(now).as_secs(),
                        "jwk set refresh failed; still using the last good key set",
                    );
                } else {
                    tracing::error!(
                        target: "auth::jwks",
                        source = self.location(),
                        %error,
                        "jwk set fetch failed and no usable keys are cached; \
                         requests are answered 503 until a fetch succeeds",
                    );
                }
                Err(error)
            }
        }
    }
}

/// Runs a refresh in the background on the current Tokio runtime, if there is one.
fn spawn_background(flight: Flight) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            drop(handle.spawn(async move {
                let _ = flight.await;
            }));
        }
        Err(_) => tracing::debug!(
            target: "auth::jwks",
            "no tokio runtime: the refresh runs when a request next waits for keys",
        ),
    }
}

/// Verification keys from a remote JWK Set (RFC 7517), cached and refreshed in the
/// background; a [`KeyResolver`] for [`JwtVerifier`](crate::jwt::JwtVerifier).
///
/// See the [module documentation](super) for the caching rules. Cheap to clone (one reference
/// count); clones share one cache.
///
/// # Example
///
/// ```
/// # use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpResponse};
/// # use auth_core::jwt::BoxFuture;
/// # #[derive(Debug)]
/// # struct Idp;
/// # impl HttpClient for Idp {
/// #     fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
/// #         Box::pin(async { Ok(HttpResponse::new(200, r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)) })
/// #     }
/// # }
/// use auth_core::clock::ManualClock;
/// use auth_core::jwks::JwksSource;
/// use auth_core::jwt::{JwtVerifier, KeyResolver};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::starting_now();
/// let keys = JwksSource::from_jwks_uri("https://idp.example/.well-known/jwks.json")
///     .http_client(Idp) // or, with the `jwks-reqwest` feature, the default client
///     .cooldown(Duration::from_secs(30))
///     .clock(clock.clone())
///     .build()?;
///
/// // Optional: fetch once at start-up so the first request does not wait.
/// keys.refresh_now().await?;
/// assert_eq!(keys.current().map(|k| k.keys().len()), Some(1));
///
/// let verifier = JwtVerifier::builder()
///     .key_resolver(keys)
///     .issuer("https://idp.example")
///     .audience("orders-api")
///     .clock(clock)
///     .build()?;
/// # let _ = verifier;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct JwksSource {
    inner: Arc<Inner>,
}

impl fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("JwksSource")
            .field("location", &self.inner.settings().location)
            .field("keys", &st.keys.as_ref().map_or(0, |k| k.keys().len()))
            .field("fetched_at", &st.fetched_at)
            .field("ttl", &st.ttl)
            .field("client", &self.inner.fetcher.client)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl JwksSource {
    /// Keys from a JWK Set at a fixed URL (`https`, or `http` to a loopback host).
    pub fn from_jwks_uri(url: impl Into<String>) -> JwksSourceBuilder {
        JwksSourceBuilder::new(Location::JwksUri(url.into()))
    }

    /// Keys of an OpenID Provider: on the first fetch, read
    /// `{issuer}/.well-known/openid-configuration`, check that its `issuer` equals `issuer`
    /// exactly and take its `jwks_uri` (see [`discover`](super::discover)).
    ///
    /// [`JwtVerifierBuilder::jwks`](crate::jwt::JwtVerifierBuilder::jwks) and
    /// [`TrustedIssuer::jwks`](crate::jwt::TrustedIssuer::jwks) also require tokens' `iss` to
    /// be this issuer.
    pub fn from_oidc_issuer(issuer: impl Into<String>) -> JwksSourceBuilder {
        JwksSourceBuilder::new(Location::Issuer(issuer.into()))
    }

    /// The OpenID issuer this source was built for, if built with
    /// [`from_oidc_issuer`](Self::from_oidc_issuer).
    #[must_use]
    pub fn oidc_issuer(&self) -> Option<&str> {
        match &self.inner.settings().location {
            Location::Issuer(i) => Some(i),
            Location::JwksUri(_) => None,
        }
    }

    /// The JWK Set URL: the configured one, or the discovered one once known.
    #[must_use]
    pub fn jwks_uri(&self) -> Option<String> {
        match &self.inner.settings().location {
            Location::JwksUri(u) => Some(u.clone()),
            Location::Issuer(_) => self.inner.lock().jwks_uri.clone(),
        }
    }

    /// When the cached key set expires (fetch time plus its lifetime), or `None` before the
    /// first successful fetch. Refresh-ahead starts before this; the keys stay usable for the
    /// stale window after it.
    #[must_use]
    pub fn expires_at(&self) -> Option<UnixTime> {
        let st = self.inner.lock();
        st.keys
            .as_ref()
            .map(|_| st.fetched_at.saturating_add(st.ttl))
    }

    /// The algorithms keys from this source may be used with.
    #[must_use]
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.settings().algorithms
    }

    /// Fetches now, ignoring the cooldown (joining a fetch already running rather than
    /// starting a second one), and resolves when it is done.
    ///
    /// Useful at start-up (so the first request does not wait and configuration mistakes show
    /// at once) and in tests, to wait for a background refresh that [`current`] started.
    ///
    /// # Errors
    ///
    /// The [`FetchError`] of the fetch; the cache then still holds its previous keys.
    ///
    /// [`current`]: KeyResolver::current
    pub fn refresh_now(&self) -> impl Future<Output = Result<(), FetchError>> + Send + 'static {
        let now = self.inner.clock.now();
        let flight = {
            let mut st = self.inner.lock();
            self.inner.join_or_start(&mut st, now, true)
        };
        async move {
            match flight {
                Some(f) => f.await.map(|_| ()),
                None => Ok(()),
            }
        }
    }
}

impl KeyResolver for JwksSource {
    /// The cached keys, while usable. Starts a background refresh (on the current Tokio
    /// runtime) once `now` is within the refresh-ahead margin of expiry, at most once per
    /// cooldown; past expiry plus the stale window the keys are dropped and this returns
    /// `None`.
    fn current(&self) -> Option<Arc<KeySet>> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let mut st = inner.lock();
        let keys = st.keys.clone()?;
        if now >= inner.usable_until(&st) {
            st.keys = None;
            tracing::error!(
                target: "auth::jwks",
                source = inner.location(),
                "cached jwk set is past its stale window and no longer used; \
                 requests are answered 503 until a fetch succeeds",
            );
            return None;
        }
        let ahead = inner.settings().refresh_ahead.min(st.ttl / 2);
        let refresh_at = st.fetched_at.saturating_add(st.ttl).saturating_sub(ahead);
        if now >= refresh_at
            && inner.live_flight(&st, now).is_none()
            && inner.cooldown_over(&st, now)
        {
            tracing::debug!(target: "auth::jwks", source = inner.location(), "refreshing ahead of expiry");
            let flight = inner.start(&mut st, now);
            drop(st);
            spawn_background(flight);
        }
        Some(keys)
    }

    /// A token named a key the cache does not hold: join the fetch in flight, or start one if
    /// the cooldown allows; otherwise `None` (the token is rejected as unknown, or 503 when no
    /// keys are usable at all). Algorithms this source does not allow never cause a fetch.
    fn refresh(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Option<BoxFuture<'static, Result<Arc<KeySet>, AuthError>>> {
        let inner = &self.inner;
        if !inner.settings().algorithms.contains(&alg) {
            tracing::debug!(target: "auth::jwks", %alg, "algorithm not allowed for this key source; no fetch");
            return None;
        }
        let now = inner.clock.now();
        let flight = {
            let mut st = inner.lock();
            inner.join_or_start(&mut st, now, false)
        };
        let Some(flight) = flight else {
            tracing::debug!(
                target: "auth::jwks",
                ?kid,
                source = inner.location(),
                "unknown key; refetch suppressed by the cooldown",
            );
            return None;
        };
        tracing::debug!(target: "auth::jwks", ?kid, source = inner.location(), "unknown key; waiting for a fetch");
        let weak = Arc::downgrade(inner);
        Some(Box::pin(async move {
            match flight.await {
                Ok(keys) => Ok(keys),
                Err(error) => {
                    // The provider is down: the token's key stays unknown, but the cached keys
                    // (if still usable) decide, so the answer is 401 rather than 503.
                    let fallback = weak
                        .upgrade()
                        .and_then(|i| i.usable_keys(i.clock.now()));
                    fallback.ok_or_else(|| {
                        AuthError::BackendUnavailable(format!("no usable keys: {error}"))
                    })
                }
            }
        }))
    }
}

/// Builds a [`JwksSource`]; created by [`JwksSource::from_jwks_uri`] or
/// [`JwksSource::from_oidc_issuer`].
///
/// Defaults: lifetime from `Cache-Control: max-age` bounded to 1 min ..= 24 h (10 min when
/// absent), refresh 2 min ahead of expiry (at most half the lifetime), 30 s cooldown, 1 h
/// stale window, 5 s timeout, 512 KiB body limit, every asymmetric algorithm, the system
/// clock, and (with the `jwks-reqwest` feature) [`ReqwestClient`](super::ReqwestClient).
#[must_use]
pub struct JwksSourceBuilder {
    location: Location,
    client: Option<Arc<dyn HttpClient>>,
    clock: Arc<dyn Clock>,
    algorithms: Vec<Algorithm>,
    min_ttl: Duration,
    max_ttl: Duration,
    default_ttl: Duration,
    refresh_ahead: Duration,
    cooldown: Duration,
    max_stale: Duration,
    timeout: Duration,
    max_body_bytes: usize,
    allow_plain_http: bool,
}

impl fmt::Debug for JwksSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksSourceBuilder")
            .field("location", &self.location)
            .field("algorithms", &self.algorithms)
            .field("cooldown", &self.cooldown)
            .finish_non_exhaustive()
    }
}

impl JwksSourceBuilder {
    fn new(location: Location) -> Self {
        Self {
            location,
            client: None,
            clock: Arc::new(SystemClock),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            min_ttl: DEFAULT_MIN_TTL,
            max_ttl: DEFAULT_MAX_TTL,
            default_ttl: DEFAULT_TTL,
            refresh_ahead: DEFAULT_REFRESH_AHEAD,
            cooldown: DEFAULT_COOLDOWN,
            max_stale: DEFAULT_MAX_STALE,
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            allow_plain_http: false,
        }
    }

    /// The HTTP client (required unless the `jwks-reqwest` feature provides the default).
    pub fn http_client(mut self, client: impl HttpClient) -> Self {
        self.client = Some(Arc::new(client));
        self
    }

    /// The clock every expiry, refresh and cooldown decision reads (default: system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Only keys for these algorithms are used; a JWK whose `alg` is not among them is
    /// skipped, and tokens with another `alg` never cause a fetch. `HS*` is refused.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algs.into_iter().collect();
        self
    }

    /// Bounds applied to `Cache-Control: max-age` (default 1 min ..= 24 h).
    pub fn ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_ttl = min;
        self.max_ttl = max;
        self
    }

    /// Lifetime when the response has no usable `max-age` (default 10 min).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// Start a background refresh this long before expiry (default 2 min; at most half the
    /// lifetime is used).
    pub fn refresh_ahead(mut self, margin: Duration) -> Self {
        self.refresh_ahead = margin;
        self
    }

    /// Minimum time between automatically started fetches (default 30 s, at least 1 s). This
    /// is what bounds the fetches a flood of tokens with random `kid`s can cause.
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// How long after expiry the last good key set stays in use while refreshes fail
    /// (default 1 h). After that, requests are answered 503 until a fetch succeeds.
    pub fn max_stale(mut self, window: Duration) -> Self {
        self.max_stale = window;
        self
    }

    /// Timeout for one HTTP exchange (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest body read (default 512 KiB, at least 1 KiB).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Accepts `http://` URLs to hosts other than loopback.
    ///
    /// **Protection lost:** anyone on the network path can replace the key set and so sign
    /// tokens this verifier accepts. Loopback `http` is accepted without this switch.
    pub fn dangerous_allow_plain_http(mut self) -> Self {
        self.allow_plain_http = true;
        self
    }

    /// Validates the settings and builds the source. Nothing is fetched yet: the first
    /// request (or [`JwksSource::refresh_now`]) does.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] for an unacceptable URL, [`ConfigError::EmptyValue`] for
    /// an empty issuer, [`ConfigError::KeyAlgorithmMismatch`] for an `HS*` algorithm,
    /// [`ConfigError::NoKeys`] for an empty algorithm list, [`ConfigError::OutOfRange`] for
    /// inconsistent durations (`min <= default <= max`, `min >= 1 s`, cooldown `>= 1 s`,
    /// timeout `> 0`) or a body limit under 1 KiB, and [`ConfigError::MissingSetting`] when no
    /// HTTP client is given and the `jwks-reqwest` feature is off.
    pub fn build(self) -> Result<JwksSource, ConfigError> {
        match &self.location {
            Location::Issuer(i) if i.is_empty() => return Err(ConfigError::EmptyValue("issuer")),
            Location::Issuer(u) | Location::JwksUri(u) => url::check(u, self.allow_plain_http)?,
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        if let Some(a) = self.algorithms.iter().find(|a| a.hmac_algorithm().is_some()) {
            return Err(ConfigError::KeyAlgorithmMismatch { alg: a.as_str() });
        }
        let range = |m: &str| Err(ConfigError::OutOfRange(m.to_owned()));
        if self.min_ttl < Duration::from_secs(1) {
            return range("minimum ttl must be at least 1 s");
        }
        if !(self.min_ttl <= self.default_ttl && self.default_ttl <= self.max_ttl) {
            return range("ttls must satisfy min <= default <= max");
        }
        if self.cooldown < Duration::from_secs(1) {
            return range("cooldown must be at least 1 s");
        }
        if self.timeout.is_zero() {
            return range("timeout must be positive");
        }
        if self.max_body_bytes < 1024 {
            return range("body limit must be at least 1 KiB");
        }
        let client = match self.client {
            Some(c) => c,
            None => default_client()?,
        };
        let mut algorithms = self.algorithms;
        algorithms.dedup();
        let settings = Settings {
            location: self.location,
            algorithms,
            min_ttl: self.min_ttl,
            max_ttl: self.max_ttl,
            default_ttl: self.default_ttl,
            refresh_ahead: self.refresh_ahead,
            cooldown: self.cooldown,
            max_stale: self.max_stale,
            timeout: self.timeout,
            max_body_bytes: self.max_body_bytes,
            allow_plain_http: self.allow_plain_http,
        };
        Ok(JwksSource {
            inner: Arc::new(Inner {
                fetcher: Fetcher {
                    client,
                    settings: Arc::new(settings),
                },
                clock: self.clock,
                state: Mutex::new(State::default()),
            }),
        })
    }
}

#[cfg(feature = "jwks-reqwest")]
fn default_client() -> Result<Arc<dyn HttpClient>, ConfigError> {
    Ok(Arc::new(super::ReqwestClient::new()?))
}

#[cfg(not(feature = "jwks-reqwest"))]
fn default_client() -> Result<Arc<dyn HttpClient>, ConfigError> {
    Err(ConfigError::MissingSetting(
        "an http client (call http_client, or enable the jwks-reqwest feature)",
    ))
}
