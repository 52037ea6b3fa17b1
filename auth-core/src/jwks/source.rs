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
use super::http::{FetchRequest, HttpClient, default_client};
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
/// Minimum time between two fetches caused by tokens with an unknown `kid`, between two
/// caused by requests while no keys are usable, and between refresh-ahead attempts. The
/// start-up fetch and scheduled refreshes do not start the unknown-`kid` cooldown, so a key
/// rotated in right after them is learned at once.
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
        let parsed =
            document::parse(&response.body, &s.algorithms).map_err(|e| FetchError::Document {
                url: jwks_uri.clone(),
                reason: match e {
                    DocumentError::NotJson => "not json",
                    DocumentError::NoKeysArray => "no keys array",
                },
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
    /// When the last fetch of any kind started (spaces refresh-ahead retries).
    last_start: Option<UnixTime>,
    /// When the last fetch caused by a token with an unknown `kid` started: that cooldown
    /// counts from here only, so neither the start-up fetch nor a scheduled refresh delays
    /// learning a rotated key.
    last_unknown_kid_start: Option<UnixTime>,
    /// When the last fetch caused by a request while no keys were usable started (the lazy
    /// first fetch, or retries while the provider is down).
    last_keyless_start: Option<UnixTime>,
    inflight: Option<InFlight>,
    next_id: u64,
    jwks_uri: Option<String>,
}

/// Why a fetch is wanted (refresh-ahead is decided in [`KeyResolver::current`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    /// [`JwksSource::refresh_now`]: start-up or an explicit call; ignores every cooldown.
    Forced,
    /// A token named a key the usable cached set lacks: at most one such fetch per cooldown.
    UnknownKid,
    /// A request needs keys and none are usable (never fetched, or past the stale window):
    /// at most one such fetch per cooldown.
    NoKeys,
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
            .filter(|f| {
                now < f
                    .started
                    .saturating_add(s.timeout)
                    .saturating_add(s.cooldown)
            })
            .map(|f| f.flight.clone())
    }

    /// Whether a cooldown counted from `since` is over (or never started).
    fn cooldown_over(&self, since: Option<UnixTime>, now: UnixTime) -> bool {
        since.is_none_or(|t| now >= t.saturating_add(self.settings().cooldown))
    }

    /// Joins the running fetch, or starts one if `why` allows: always for a forced refresh;
    /// for a request, at most once per cooldown counted from the last fetch with the same
    /// cause (so fetches nobody's token caused never delay one that a token needs).
    fn join_or_start(
        self: &Arc<Self>,
        st: &mut State,
        now: UnixTime,
        why: Trigger,
    ) -> Option<Flight> {
        if let Some(flight) = self.live_flight(st, now) {
            return Some(flight);
        }
        let last = match why {
            Trigger::Forced => return Some(self.start(st, now)),
            Trigger::UnknownKid => &mut st.last_unknown_kid_start,
            Trigger::NoKeys => &mut st.last_keyless_start,
        };
        if !self.cooldown_over(*last, now) {
            return None;
        }
        *last = Some(now);
        Some(self.start(st, now))
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
        crate::metrics::jwks_fetch(result.is_ok());
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
    /// starting a second one), and resolves when it is done. It does not start the unknown-`kid`
    /// cooldown: a token signed with a key published right after it still causes a refetch.
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
            self.inner.join_or_start(&mut st, now, Trigger::Forced)
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
    /// cooldown after any fetch; past expiry plus the stale window the keys are dropped and this returns
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
            && inner.cooldown_over(st.last_start, now)
        {
            tracing::debug!(target: "auth::jwks", source = inner.location(), "refreshing ahead of expiry");
            let flight = inner.start(&mut st, now);
            drop(st);
            spawn_background(flight);
        }
        Some(keys)
    }

    /// A token named a key the cache does not hold: join the fetch in flight, or start one if
    /// no other fetch with the same cause (an unknown `kid`, or no usable keys at all) started
    /// within the cooldown; the start-up fetch and refresh-ahead do not count. Otherwise
    /// `None`: the token is rejected as unknown, or 503 when no keys are usable at all.
    /// Algorithms this source does not allow never cause a fetch.
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
            let why = if st.keys.is_some() && now < inner.usable_until(&st) {
                Trigger::UnknownKid
            } else {
                Trigger::NoKeys
            };
            inner.join_or_start(&mut st, now, why)
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
                    let fallback = weak.upgrade().and_then(|i| i.usable_keys(i.clock.now()));
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

    /// Minimum time between two fetches caused by tokens with an unknown `kid` (default 30 s,
    /// at least 1 s). This is what bounds the fetches a flood of tokens with random `kid`s can
    /// cause. It counts from the last such fetch only: the start-up fetch (eager with
    /// [`JwksSource::refresh_now`], or lazy on the first request) and refresh-ahead do not
    /// start it. The same interval separates fetches requests cause while no keys are usable
    /// (provider down) and refresh-ahead attempts (counted from the last fetch of any kind).
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
        if let Some(a) = self
            .algorithms
            .iter()
            .find(|a| a.hmac_algorithm().is_some())
        {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use serde_json::json;

    use super::*;
    use crate::ErrorCode;
    use crate::clock::ManualClock;
    use crate::jwks::{HttpError, HttpResponse};
    use crate::jwt::{JwtVerifier, TrustedIssuer, VerificationKey};

    const JWKS: &str = "https://idp.example/jwks";
    const ISS: &str = "https://idp.example";
    const AUD: &str = "api";

    /// A fake identity provider: answers per URL, counts requests, and can hold every
    /// response until the test releases it.
    #[derive(Debug, Default)]
    struct FakeIdp {
        fetches: AtomicUsize,
        urls: Mutex<Vec<String>>,
        answers: Mutex<HashMap<String, Result<HttpResponse, HttpError>>>,
        gate: Mutex<Option<Arc<tokio::sync::Semaphore>>>,
    }

    impl FakeIdp {
        fn new() -> Arc<Self> {
            Arc::new(Self::default())
        }
        fn answer(&self, url: &str, r: Result<HttpResponse, HttpError>) {
            self.answers.lock().unwrap().insert(url.into(), r);
        }
        fn serve(&self, keys: &[&Signer], cache_control: Option<&str>) {
            let doc = json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() });
            let mut r = HttpResponse::new(200, doc.to_string());
            if let Some(cc) = cache_control {
                r = r.with_cache_control(cc);
            }
            self.answer(JWKS, Ok(r));
        }
        fn go_down(&self) {
            self.answer(JWKS, Err(HttpError::Transport("connection refused".into())));
        }
        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
        fn hold(&self) -> Arc<tokio::sync::Semaphore> {
            let gate = Arc::new(tokio::sync::Semaphore::new(0));
            *self.gate.lock().unwrap() = Some(Arc::clone(&gate));
            gate
        }
    }

    impl HttpClient for FakeIdp {
        fn get(&self, req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            self.urls.lock().unwrap().push(req.url.clone());
            let answer = self
                .answers
                .lock()
                .unwrap()
                .get(&req.url)
                .cloned()
                .unwrap_or_else(|| Ok(HttpResponse::new(404, "")));
            let gate = self.gate.lock().unwrap().clone();
            Box::pin(async move {
                if let Some(gate) = gate {
                    gate.acquire().await.unwrap().forget();
                }
                answer
            })
        }
    }

    /// An Ed25519 signing key with a kid.
    struct Signer {
        kid: String,
        pair: Ed25519KeyPair,
    }

    impl Signer {
        fn new(kid: &str) -> Self {
            Self {
                kid: kid.into(),
                pair: Ed25519KeyPair::generate().unwrap(),
            }
        }
        fn jwk(&self) -> serde_json::Value {
            json!({"kty": "OKP", "crv": "Ed25519", "kid": self.kid,
                   "x": B64.encode(self.pair.public_key().as_ref())})
        }
        fn sign(&self, header: serde_json::Value, claims: serde_json::Value) -> String {
            let msg = format!(
                "{}.{}",
                B64.encode(header.to_string()),
                B64.encode(claims.to_string())
            );
            let sig = self.pair.sign(msg.as_bytes());
            format!("{msg}.{}", B64.encode(sig.as_ref()))
        }
        fn token(&self, clock: &ManualClock) -> String {
            self.token_for(ISS, clock)
        }
        fn token_for(&self, iss: &str, clock: &ManualClock) -> String {
            let exp = clock.now().as_secs() + 3600;
            self.sign(
                json!({"alg": "EdDSA", "kid": self.kid}),
                json!({"sub": "alice", "iss": iss, "aud": AUD, "exp": exp}),
            )
        }
    }

    fn source(idp: &Arc<FakeIdp>, clock: &ManualClock) -> JwksSource {
        JwksSource::from_jwks_uri(JWKS)
            .http_client(Arc::clone(idp))
            .clock(clock.clone())
            .build()
            .unwrap()
    }

    fn verifier(keys: JwksSource, clock: &ManualClock) -> JwtVerifier {
        JwtVerifier::builder()
            .jwks(keys)
            .issuer(ISS)
            .audience(AUD)
            .clock(clock.clone())
            .build()
            .unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test]
    async fn first_token_fetches_the_set_and_later_ones_use_the_cache() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], None);
        let v = verifier(source(&idp, &clock), &clock);
        assert_eq!(
            v.verify(&k1.token(&clock)).await.unwrap().subject(),
            "alice"
        );
        for _ in 0..10 {
            // Known key: answered synchronously, no fetch.
            let ready = v.verify(&k1.token(&clock)).into_ready();
            assert!(matches!(ready, Ok(Ok(_))));
        }
        assert_eq!(idp.fetches(), 1);
    }

    #[tokio::test]
    async fn cache_lifetime_follows_max_age_within_bounds() {
        let k1 = Signer::new("k1");
        for (header, expected) in [
            (Some("max-age=300"), 300),
            (Some("public, max-age=5"), 60),
            (Some("max-age=999999999"), 24 * 3600),
            (Some("no-store"), 60),
            (None, 600),
        ] {
            let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
            idp.serve(&[&k1], header);
            let s = source(&idp, &clock);
            let start = clock.now();
            s.refresh_now().await.unwrap();
            let ttl = s.expires_at().unwrap().saturating_duration_since(start);
            assert_eq!(ttl, secs(expected), "{header:?}");
        }
    }

    #[tokio::test]
    async fn configured_bounds_replace_the_defaults() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        idp.serve(&[&Signer::new("k1")], Some("max-age=10000"));
        let s = JwksSource::from_jwks_uri(JWKS)
            .http_client(Arc::clone(&idp))
            .clock(clock.clone())
            .ttl_bounds(secs(10), secs(900))
            .default_ttl(secs(30))
            .build()
            .unwrap();
        let start = clock.now();
        s.refresh_now().await.unwrap();
        assert_eq!(s.expires_at().unwrap(), start.saturating_add(secs(900)));
    }

    #[tokio::test]
    async fn refresh_ahead_runs_in_the_background_without_making_the_request_wait() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let (k1, k2) = (Signer::new("k1"), Signer::new("k2"));
        idp.serve(&[&k1], Some("max-age=600"));
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        // Before the refresh-ahead point (600 s - 120 s): nothing happens.
        clock.advance(secs(479));
        assert!(matches!(
            v.verify(&k1.token(&clock)).into_ready(),
            Ok(Ok(_))
        ));
        assert_eq!(idp.fetches(), 1);
        // At it: the request is answered at once from the cache, and a refresh starts.
        idp.serve(&[&k1, &k2], Some("max-age=600"));
        let gate = idp.hold();
        clock.advance(secs(1));
        assert!(matches!(
            v.verify(&k1.token(&clock)).into_ready(),
            Ok(Ok(_))
        ));
        assert!(matches!(
            v.verify(&k1.token(&clock)).into_ready(),
            Ok(Ok(_))
        ));
        gate.add_permits(1);
        // Joining the background refresh does not start another.
        s.refresh_now().await.unwrap();
        assert_eq!(idp.fetches(), 2);
        assert!(matches!(
            v.verify(&k2.token(&clock)).into_ready(),
            Ok(Ok(_))
        ));
        assert_eq!(
            s.expires_at().unwrap(),
            clock.now().saturating_add(secs(600))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_concurrent_misses_share_one_fetch() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], None);
        let v = verifier(source(&idp, &clock), &clock);
        let gate = idp.hold();
        let token = k1.token(&clock);
        // All 100 verifications start (and so reach the key source) before the provider
        // answers; each is then driven on the runtime's worker threads.
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let pending = v.verify(&token).into_ready().unwrap_err();
                tokio::spawn(pending)
            })
            .collect();
        gate.add_permits(1);
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().subject(), "alice");
        }
        assert_eq!(idp.fetches(), 1);
    }

    #[tokio::test]
    async fn random_kids_cause_at_most_one_fetch_per_cooldown() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], None);
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        assert_eq!(idp.fetches(), 1);
        clock.advance(secs(30));
        let mut fetches_per_window = Vec::new();
        for window in 0..3 {
            let before = idp.fetches();
            for i in 0..200 {
                let forged = Signer::new(&format!("random-{window}-{i}"));
                let err = v.verify(&forged.token(&clock)).await.unwrap_err();
                assert_eq!(err.code(), ErrorCode::InvalidToken);
                clock.advance(Duration::from_millis(100)); // 200 tokens over 20 s
            }
            fetches_per_window.push(idp.fetches() - before);
            clock.advance(secs(10)); // the cooldown (30 s) is over
        }
        assert_eq!(fetches_per_window, [1, 1, 1]);
    }

    #[tokio::test]
    async fn a_new_kid_is_accepted_after_one_refetch() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let (k1, k2) = (Signer::new("k1"), Signer::new("k2"));
        idp.serve(&[&k1], None);
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        idp.serve(&[&k1, &k2], None); // the provider rotated
        clock.advance(secs(31));
        let pending = v.verify(&k2.token(&clock));
        let pending = pending.into_ready().unwrap_err(); // needs the fetch
        assert_eq!(pending.await.unwrap().subject(), "alice");
        assert_eq!(idp.fetches(), 2);
    }

    // Issue 12, item 16: the start-up fetch must not start the unknown-kid cooldown.
    #[tokio::test]
    async fn a_rotation_right_after_start_up_is_fetched_at_once() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let (k1, k2, k3) = (Signer::new("k1"), Signer::new("k2"), Signer::new("k3"));
        idp.serve(&[&k1], None);
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        idp.serve(&[&k1, &k2], None); // the provider rotated within the cooldown
        let pending = v.verify(&k2.token(&clock)).into_ready().unwrap_err();
        assert_eq!(pending.await.unwrap().subject(), "alice");
        assert_eq!(idp.fetches(), 2);
        // That refetch was caused by an unknown kid: another one within the cooldown is
        // answered from the cache, without a fetch.
        idp.serve(&[&k1, &k2, &k3], None);
        clock.advance(secs(29));
        let err = v.verify(&k3.token(&clock)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken);
        assert_eq!(idp.fetches(), 2);
        // Once the cooldown is over, the next unknown kid refetches again.
        clock.advance(secs(1));
        assert!(v.verify(&k3.token(&clock)).await.is_ok());
        assert_eq!(idp.fetches(), 3);
    }

    // Issue 12, item 16: nor must the first fetch of a source nobody primed (the lazy start-up
    // fetch, caused by a request while no keys were loaded).
    #[tokio::test]
    async fn a_rotation_right_after_a_lazy_first_fetch_is_fetched_at_once() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let (k1, k2) = (Signer::new("k1"), Signer::new("k2"));
        idp.serve(&[&k1], None);
        let v = verifier(source(&idp, &clock), &clock);
        assert!(v.verify(&k1.token(&clock)).await.is_ok());
        assert_eq!(idp.fetches(), 1);
        idp.serve(&[&k1, &k2], None);
        clock.advance(secs(1));
        assert!(v.verify(&k2.token(&clock)).await.is_ok());
        assert_eq!(idp.fetches(), 2);
    }

    // Issue 12, item 16: a scheduled (refresh-ahead) fetch must not start the unknown-kid
    // cooldown either.
    #[tokio::test]
    async fn a_rotation_right_after_a_background_refresh_is_fetched_at_once() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let (k1, k2) = (Signer::new("k1"), Signer::new("k2"));
        idp.serve(&[&k1], Some("max-age=600"));
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        clock.advance(secs(480)); // the refresh-ahead point
        assert!(matches!(
            v.verify(&k1.token(&clock)).into_ready(),
            Ok(Ok(_))
        ));
        s.refresh_now().await.unwrap(); // joins (waits for) the background refresh
        assert_eq!(idp.fetches(), 2);
        idp.serve(&[&k1, &k2], Some("max-age=600"));
        clock.advance(secs(1));
        assert!(v.verify(&k2.token(&clock)).await.is_ok());
        assert_eq!(idp.fetches(), 3);
    }

    #[tokio::test]
    async fn provider_down_keeps_the_last_good_keys_for_the_stale_window() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], Some("max-age=600"));
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        idp.go_down();
        // 600 s lifetime + 3600 s stale window: still accepted until the last second.
        clock.advance(secs(600 + 3599));
        assert_eq!(
            v.verify(&k1.token(&clock)).await.unwrap().subject(),
            "alice"
        );
        assert!(s.refresh_now().await.is_err());
        assert!(v.verify(&k1.token(&clock)).await.is_ok());
        // One second later the window is over: no usable keys, so 503 rather than 401.
        clock.advance(secs(1));
        let err = v.verify(&k1.token(&clock)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable);
    }

    #[tokio::test]
    async fn unknown_kid_while_provider_down_is_401_within_the_stale_window() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], Some("max-age=600"));
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        idp.go_down();
        clock.advance(secs(700));
        let err = v
            .verify(&Signer::new("other").token(&clock))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken);
        assert!(v.verify(&k1.token(&clock)).await.is_ok());
    }

    #[tokio::test]
    async fn past_the_stale_window_requests_get_503() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], Some("max-age=600"));
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        idp.go_down();
        clock.advance(secs(600 + 3600));
        let err = v.verify(&k1.token(&clock)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable);
        assert_eq!(err.code().http_status(), 503);
        // The provider comes back: the next fetch (after the cooldown) restores service.
        idp.serve(&[&k1], Some("max-age=600"));
        clock.advance(secs(30));
        assert!(v.verify(&k1.token(&clock)).await.is_ok());
    }

    #[tokio::test]
    async fn a_key_less_start_answers_503_and_fetches_once_per_cooldown() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        idp.go_down();
        let v = verifier(source(&idp, &clock), &clock);
        let k1 = Signer::new("k1");
        for _ in 0..20 {
            let err = v.verify(&k1.token(&clock)).await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable);
        }
        assert_eq!(idp.fetches(), 1);
        assert_eq!(
            v.verify_sync(&k1.token(&clock)).unwrap_err().code(),
            ErrorCode::AuthBackendUnavailable
        );
        clock.advance(secs(30));
        idp.serve(&[&k1], None);
        assert!(v.verify(&k1.token(&clock)).await.is_ok());
        assert_eq!(idp.fetches(), 2);
    }

    #[tokio::test]
    async fn unusable_keys_are_skipped_and_the_rest_still_work() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        let doc = json!({"keys": [
            {"kty": "oct", "kid": "hs", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
            {"kty": "RSA", "kid": "rsa-no-modulus", "e": "AQAB"},
            {"kty": "EC", "kid": "bad-curve", "crv": "P-521", "x": "AA", "y": "AA"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "enc", "use": "enc", "x": k1.jwk()["x"]},
            {"kty": "OKP", "crv": "Ed25519", "kid": "es", "alg": "ES256", "x": k1.jwk()["x"]},
            k1.jwk(),
        ]});
        idp.answer(JWKS, Ok(HttpResponse::new(200, doc.to_string())));
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        assert!(v.verify(&k1.token(&clock)).await.is_ok());
        assert_eq!(s.current().unwrap().keys().len(), 1);
    }

    #[tokio::test]
    async fn a_set_with_no_usable_key_is_a_failed_fetch() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        idp.answer(
            JWKS,
            Ok(HttpResponse::new(
                200,
                r#"{"keys":[{"kty":"oct","k":"AA"}]}"#,
            )),
        );
        let s = source(&idp, &clock);
        assert!(matches!(
            s.refresh_now().await,
            Err(FetchError::NoUsableKeys { skipped: 1, .. })
        ));
        assert!(s.current().is_none());
    }

    #[tokio::test]
    async fn a_jwk_alg_pins_the_key() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        let mut jwk = k1.jwk();
        jwk["alg"] = json!("EdDSA");
        idp.answer(
            JWKS,
            Ok(HttpResponse::new(200, json!({"keys": [jwk]}).to_string())),
        );
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        // Same kid, another algorithm: refused at once, no refetch.
        let t = k1.sign(
            json!({"alg": "ES256", "kid": "k1"}),
            json!({"sub": "a", "iss": ISS, "aud": AUD, "exp": u32::MAX}),
        );
        let err = v.verify(&t).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken);
        assert_eq!(idp.fetches(), 1);
    }

    #[tokio::test]
    async fn keys_named_by_the_token_itself_are_never_fetched_or_used() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let (k1, attacker) = (Signer::new("k1"), Signer::new("evil"));
        idp.serve(&[&k1], None);
        let v = verifier(source(&idp, &clock), &clock);
        let t = attacker.sign(
            json!({"alg": "EdDSA", "kid": "evil", "jku": "https://evil.example/jwks",
                   "x5u": "https://evil.example/cert", "jwk": attacker.jwk()}),
            json!({"sub": "mallory", "iss": ISS, "aud": AUD, "exp": u32::MAX}),
        );
        assert_eq!(
            v.verify(&t).await.unwrap_err().code(),
            ErrorCode::InvalidToken
        );
        assert_eq!(*idp.urls.lock().unwrap(), [JWKS]);
    }

    #[tokio::test]
    async fn tokens_with_an_algorithm_the_source_does_not_allow_cause_no_fetch() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], None);
        let s = source(&idp, &clock);
        let v = verifier(s.clone(), &clock);
        s.refresh_now().await.unwrap();
        clock.advance(secs(60));
        let t = k1.sign(
            json!({"alg": "HS256", "kid": "new"}),
            json!({"sub": "a", "iss": ISS, "aud": AUD, "exp": u32::MAX}),
        );
        assert!(v.verify(&t).await.is_err());
        assert_eq!(idp.fetches(), 1);
    }

    #[tokio::test]
    async fn discovery_reads_jwks_uri_and_requires_the_exact_issuer() {
        let k1 = Signer::new("k1");
        let meta = format!("{ISS}/.well-known/openid-configuration");
        for (issuer_in_doc, ok) in [(ISS, true), ("https://idp.example/", false)] {
            let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
            idp.serve(&[&k1], None);
            let body = json!({"issuer": issuer_in_doc, "jwks_uri": JWKS}).to_string();
            idp.answer(&meta, Ok(HttpResponse::new(200, body)));
            let s = JwksSource::from_oidc_issuer(ISS)
                .http_client(Arc::clone(&idp))
                .clock(clock.clone())
                .build()
                .unwrap();
            let v = JwtVerifier::builder()
                .jwks(s.clone())
                .audience(AUD)
                .clock(clock.clone())
                .build()
                .unwrap();
            let result = v.verify(&k1.token(&clock)).await;
            if ok {
                assert_eq!(result.unwrap().issuer(), Some(ISS));
                assert_eq!(s.jwks_uri().as_deref(), Some(JWKS));
                // The issuer is enforced on verified tokens too.
                let other = k1.token_for("https://other.example", &clock);
                assert_eq!(
                    v.verify(&other).await.unwrap_err().code(),
                    ErrorCode::InvalidIssuer
                );
            } else {
                assert_eq!(
                    result.unwrap_err().code(),
                    ErrorCode::AuthBackendUnavailable
                );
                assert_eq!(*idp.urls.lock().unwrap(), std::slice::from_ref(&meta));
            }
        }
    }

    #[tokio::test]
    async fn discovery_refuses_a_plain_http_jwks_uri() {
        let idp = FakeIdp::new();
        let body = json!({"issuer": ISS, "jwks_uri": "http://idp.example/jwks"}).to_string();
        idp.answer(
            &format!("{ISS}/.well-known/openid-configuration"),
            Ok(HttpResponse::new(200, body)),
        );
        let err = crate::jwks::discover(&*idp, ISS, secs(1))
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Discovery { .. }), "{err}");
    }

    #[tokio::test]
    async fn an_unknown_issuer_is_rejected_without_any_fetch() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        let k1 = Signer::new("k1");
        idp.serve(&[&k1], None);
        let ours = VerificationKey::hmac(Algorithm::HS256, [3u8; 32]).unwrap();
        let v = JwtVerifier::builder()
            .trusted_issuer(TrustedIssuer::new(ISS, source(&idp, &clock)).audience(AUD))
            .trusted_issuer(
                TrustedIssuer::with_keys("https://ours.example", [ours])
                    .unwrap()
                    .audience("ours"),
            )
            .clock(clock.clone())
            .build()
            .unwrap();
        for iss in ["https://unknown.example", "https://idp.example/", ""] {
            let err = v.verify(&k1.token_for(iss, &clock)).await.unwrap_err();
            assert_eq!(
                err,
                AuthError::InvalidToken(crate::InvalidToken::UnknownIssuer)
            );
        }
        let no_iss = k1.sign(
            json!({"alg": "EdDSA", "kid": "k1"}),
            json!({"sub": "a", "aud": AUD, "exp": u32::MAX}),
        );
        assert_eq!(
            v.verify(&no_iss).await.unwrap_err(),
            AuthError::InvalidToken(crate::InvalidToken::UnknownIssuer)
        );
        assert_eq!(idp.fetches(), 0);
        // The known issuer's tokens go to its own source, with its own audience.
        assert!(v.verify(&k1.token(&clock)).await.is_ok());
        assert_eq!(idp.fetches(), 1);
    }

    #[test]
    fn builder_refuses_inconsistent_settings() {
        let b = || JwksSource::from_jwks_uri(JWKS).http_client(FakeIdp::default());
        assert!(matches!(
            JwksSource::from_jwks_uri("http://idp.example/jwks")
                .http_client(FakeIdp::default())
                .build(),
            Err(ConfigError::InvalidUrl(_))
        ));
        assert!(b().cooldown(Duration::ZERO).build().is_err());
        assert!(b().ttl_bounds(secs(600), secs(60)).build().is_err());
        assert!(b().default_ttl(secs(1)).build().is_err());
        assert!(b().timeout(Duration::ZERO).build().is_err());
        assert!(b().algorithms([]).build().is_err());
        assert!(matches!(
            b().algorithms([Algorithm::RS256, Algorithm::HS256]).build(),
            Err(ConfigError::KeyAlgorithmMismatch { alg: "HS256" })
        ));
        assert!(
            JwksSource::from_jwks_uri("http://idp.example/jwks")
                .http_client(FakeIdp::default())
                .dangerous_allow_plain_http()
                .build()
                .is_ok()
        );
        assert!(matches!(
            JwksSource::from_oidc_issuer("")
                .http_client(FakeIdp::default())
                .build(),
            Err(ConfigError::EmptyValue("issuer"))
        ));
    }

    #[tokio::test]
    async fn dropping_the_source_mid_fetch_does_not_leak_or_hang() {
        let (idp, clock) = (FakeIdp::new(), ManualClock::starting_now());
        idp.serve(&[&Signer::new("k1")], None);
        let gate = idp.hold();
        let s = source(&idp, &clock);
        let pending = s.refresh_now();
        let weak = Arc::downgrade(&s.inner);
        drop(s);
        gate.add_permits(1);
        assert_eq!(pending.await, Err(FetchError::SourceDropped));
        assert!(weak.upgrade().is_none());
    }
}
