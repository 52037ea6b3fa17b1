//! [`Introspector`]: the cache in front of the introspection endpoint, the coalescing of
//! concurrent requests for one token, and the request itself.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use hmac::{Hmac, Mac as _};
use serde_json::Value;
use sha2::Sha256;

use super::builder::IntrospectorBuilder;
use super::response::{self, Expectations};
use crate::client_auth::ClientAuth;
use crate::clock::{Clock, UnixTime};
use crate::error::{AuthError, InvalidToken};
use crate::form::Form;
use crate::jwks::discovery::openid_configuration;
use crate::jwks::{HttpClient, HttpError, HttpRequest, Method, url};
use crate::jwt::Verify;
use crate::principal::Principal;

/// Extra time granted past the HTTP timeout before a request is abandoned (a client that
/// ignores its timeout must not hold the flight forever).
const TIMEOUT_GRACE: Duration = Duration::from_secs(1);

/// The keyed digest a token is cached and coalesced under (HMAC-SHA-256).
type Digest = [u8; 32];

/// What one introspection produced: a definitive answer (cached), or why the server could not
/// give one (never cached).
type Outcome = Result<Result<Principal, AuthError>, String>;
type Flight = Shared<BoxFuture<'static, Outcome>>;
/// The introspections under way: a digest's flight id and a weak handle on the flight.
type InFlight = HashMap<Digest, (u64, WeakShared<BoxFuture<'static, Outcome>>)>;

/// Where the introspection endpoint is.
#[derive(Clone, Debug)]
pub(crate) enum Endpoint {
    Fixed(Arc<str>),
    /// `introspection_endpoint` of the issuer's OpenID Connect metadata, read on first use.
    Discover,
}

/// Settings the builder validated.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) auth: ClientAuth,
    pub(crate) issuer: Arc<str>,
    pub(crate) endpoint: Endpoint,
    pub(crate) audiences: Option<Vec<String>>,
    pub(crate) http: Arc<dyn HttpClient>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) timeout: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) leeway: Duration,
    pub(crate) max_token_len: usize,
    pub(crate) allow_plain_http: bool,
    pub(crate) active_ttl: Duration,
    pub(crate) inactive_ttl: Duration,
    pub(crate) capacity: usize,
    pub(crate) max_in_flight: usize,
}

#[derive(Clone)]
struct Entry {
    answer: Result<Principal, AuthError>,
    until: UnixTime,
}

struct Inner {
    s: Settings,
    /// The per-instance random HMAC key of the digests.
    digest_key: Hmac<Sha256>,
    cache: quick_cache::sync::Cache<Digest, Entry>,
    /// Introspections under way, by digest, with the id of their flight. Weak: when every
    /// request waiting for a flight is gone, the flight is dropped and removes its entry.
    in_flight: Mutex<InFlight>,
    next_flight: AtomicU64,
    discovered: Mutex<Option<Arc<str>>>,
    requests: AtomicU64,
}

/// Verifies opaque access tokens with the authorization server's introspection endpoint (RFC
/// 7662), behind the same [`Verify`] seam as [`JwtVerifier`](crate::jwt::JwtVerifier). See the
/// [module docs](super) for what is checked and cached.
///
/// Cheap to clone (one reference count); clones share the cache.
#[derive(Clone)]
pub struct Introspector {
    inner: Arc<Inner>,
}

impl fmt::Debug for Introspector {
    // Never the cache's contents or the digest key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner.s;
        f.debug_struct("Introspector")
            .field("issuer", &s.issuer)
            .field("endpoint", &s.endpoint)
            .field("auth", &s.auth)
            .field("active_ttl", &s.active_ttl)
            .field("inactive_ttl", &s.inactive_ttl)
            .field("cached", &self.inner.cache.len())
            .finish_non_exhaustive()
    }
}

/// Drops the in-flight entry of a flight when the flight ends or is abandoned.
struct FlightGuard {
    inner: Arc<Inner>,
    digest: Digest,
    id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut map = self.inner.flights();
        if map.get(&self.digest).is_some_and(|(id, _)| *id == self.id) {
            map.remove(&self.digest);
        }
    }
}

impl Introspector {
    /// Starts building an introspector for the authorization server `issuer`, authenticating
    /// as `auth`.
    pub fn builder(auth: ClientAuth, issuer: impl Into<String>) -> IntrospectorBuilder {
        IntrospectorBuilder::new(auth, issuer.into())
    }

    pub(crate) fn from_settings(s: Settings) -> Result<Self, crate::ConfigError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| crate::ConfigError::InvalidKey {
            alg: "HS256",
            reason: format!("random source: {e}"),
        })?;
        let digest_key = <Hmac<Sha256> as hmac::Mac>::new_from_slice(&key).map_err(|_| {
            crate::ConfigError::InvalidKey {
                alg: "HS256",
                reason: "hmac key".into(),
            }
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                cache: quick_cache::sync::Cache::new(s.capacity),
                s,
                digest_key,
                in_flight: Mutex::new(HashMap::new()),
                next_flight: AtomicU64::new(0),
                discovered: Mutex::new(None),
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// The authorization server's issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.s.issuer
    }

    /// The clock every TTL and time check reads.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.s.clock
    }

    /// How many introspection requests were sent since this introspector was built (cache
    /// hits and coalesced waiters send none).
    #[must_use]
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// How many answers are cached now.
    #[must_use]
    pub fn cached(&self) -> usize {
        self.inner.cache.len()
    }

    /// How many introspections are under way (for tests of abandoned flights).
    #[cfg(test)]
    pub(super) fn in_flight(&self) -> usize {
        self.inner.flights().len()
    }

    /// Empties the cache (e.g. after a mass revocation at the server).
    pub fn clear(&self) {
        self.inner.cache.clear();
    }

    /// The keyed digest of `token` (HMAC-SHA-256 under this instance's random key): what the
    /// cache and the in-flight map are keyed by, so no token is kept once its request is done.
    pub(super) fn digest(&self, token: &str) -> Digest {
        let mut mac = self.inner.digest_key.clone();
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Verifies `token`: from the cache when an answer is still fresh (ready at once),
    /// otherwise by the introspection request (joining one already under way for the same
    /// token).
    ///
    /// An inactive or refused token fails with the code of the check (`INVALID_TOKEN`,
    /// `TOKEN_EXPIRED`, `INVALID_ISSUER`, `INVALID_AUDIENCE`); a server that fails, answers
    /// something other than 200 with a JSON object, or times out gives
    /// [`AuthError::BackendUnavailable`] (503).
    pub fn verify(&self, token: &str) -> Verify {
        let max = self.inner.s.max_token_len;
        if token.is_empty() {
            return Verify::ready(Err(InvalidToken::Malformed.into()));
        }
        if token.len() > max {
            let len = token.len();
            return Verify::ready(Err(InvalidToken::TooLong { len, max }.into()));
        }
        let digest = self.digest(token);
        if let Some(answer) = self.cached_answer(&digest) {
            return Verify::ready(answer);
        }
        let flight = match self.join_or_start(digest, token) {
            Ok(f) => f,
            Err(e) => return Verify::ready(Err(e)),
        };
        Verify::pending(Box::pin(async move {
            match flight.await {
                Ok(answer) => answer,
                Err(reason) => Err(AuthError::BackendUnavailable(reason)),
            }
        }))
    }

    fn cached_answer(&self, digest: &Digest) -> Option<Result<Principal, AuthError>> {
        let entry = self.inner.cache.get(digest)?;
        if self.inner.s.clock.now() < entry.until {
            Some(entry.answer)
        } else {
            self.inner.cache.remove(digest);
            None
        }
    }

    /// The flight for `digest`: the one under way, or a new one.
    fn join_or_start(&self, digest: Digest, token: &str) -> Result<Flight, AuthError> {
        let mut map = self.inner.flights();
        if let Some(flight) = map.get(&digest).and_then(|(_, weak)| weak.upgrade()) {
            tracing::trace!(target: "auth::introspection", "joined an introspection under way");
            return Ok(flight);
        }
        if map.len() >= self.inner.s.max_in_flight {
            return Err(AuthError::BackendUnavailable(
                "too many introspections in flight".into(),
            ));
        }
        let id = self.inner.next_flight.fetch_add(1, Ordering::Relaxed);
        let guard = FlightGuard {
            inner: Arc::clone(&self.inner),
            digest,
            id,
        };
        let this = self.clone();
        let token = token.to_owned();
        let run: BoxFuture<'static, Outcome> = Box::pin(async move {
            let _guard = guard;
            let outcome = this.introspect(&token).await;
            if let Ok(answer) = &outcome {
                this.remember(digest, answer.clone());
            }
            outcome
        });
        let flight = run.shared();
        if let Some(weak) = flight.downgrade() {
            map.insert(digest, (id, weak));
        }
        Ok(flight)
    }

    /// Caches a definitive answer: an active token until the lesser of its `exp` and
    /// `active_ttl` from now; a refusal for `inactive_ttl`.
    fn remember(&self, digest: Digest, answer: Result<Principal, AuthError>) {
        let s = &self.inner.s;
        let now = s.clock.now();
        let until = match &answer {
            Ok(p) => {
                let bound = now.saturating_add(s.active_ttl);
                p.expires_at().map_or(bound, |exp| exp.min(bound))
            }
            Err(_) => now.saturating_add(s.inactive_ttl),
        };
        if until > now {
            self.inner.cache.insert(digest, Entry { answer, until });
        }
    }

    /// One introspection request (no retry: a caller is waiting).
    async fn introspect(&self, token: &str) -> Outcome {
        let s = &self.inner.s;
        let endpoint = self.endpoint().await?;
        let now = s.clock.now();
        let mut form = Form::default();
        form.pair("token", token);
        form.pair("token_type_hint", "access_token");
        let authorization = s
            .auth
            .apply(&mut form, &s.issuer, now)
            .map_err(|e| format!("client assertion: {e}"))?;
        let mut request = HttpRequest::new(Method::Post, &*endpoint, s.timeout, s.max_body_bytes)
            .header("accept", "application/json")
            .form_body(form.into_bytes());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let sent = s.http.send(request);
        let response =
            match tokio::time::timeout(s.timeout.saturating_add(TIMEOUT_GRACE), sent).await {
                Err(_elapsed) => Err(HttpError::Timeout),
                Ok(r) => r,
            };
        let response = response.map_err(|e| {
            tracing::warn!(target: "auth::introspection", endpoint = &*endpoint, error = %e,
                "introspection request failed");
            format!("introspection request failed: {e}")
        })?;
        if response.status != 200 || response.body.len() > s.max_body_bytes {
            tracing::warn!(target: "auth::introspection", endpoint = &*endpoint,
                status = response.status, "introspection endpoint answered an error");
            return Err(format!(
                "introspection endpoint answered status {}",
                response.status
            ));
        }
        let expect = Expectations {
            issuer: &s.issuer,
            audiences: s.audiences.as_deref(),
            leeway: s.leeway,
        };
        let answer = response::read(&response.body, &expect, s.clock.now()).map_err(|e| {
            tracing::warn!(target: "auth::introspection", endpoint = &*endpoint, reason = %e.0,
                "unusable introspection response");
            e.0
        })?;
        match &answer {
            Ok(p) => tracing::debug!(target: "auth::introspection", outcome = "active",
                subject = p.subject(), "token introspected"),
            Err(e) => tracing::debug!(target: "auth::introspection", outcome = "refused",
                reason = %e, "token introspected"),
        }
        Ok(answer)
    }

    /// The configured endpoint, or the one discovered from the issuer's metadata (once).
    async fn endpoint(&self) -> Result<Arc<str>, String> {
        let s = &self.inner.s;
        if let Endpoint::Fixed(url) = &s.endpoint {
            return Ok(Arc::clone(url));
        }
        if let Some(url) = self.inner.discovered().clone() {
            return Ok(url);
        }
        let doc = openid_configuration(
            &*s.http,
            &s.issuer,
            s.timeout,
            s.max_body_bytes,
            s.allow_plain_http,
        )
        .await
        .map_err(|e| format!("discovery of the introspection endpoint: {e}"))?;
        let found = doc
            .get("introspection_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| "the issuer's metadata has no introspection_endpoint".to_owned())?;
        url::check(found, s.allow_plain_http).map_err(|e| e.to_string())?;
        let found: Arc<str> = Arc::from(found);
        tracing::info!(target: "auth::introspection", issuer = &*s.issuer,
            introspection_endpoint = &*found, "introspection endpoint discovered");
        *self.inner.discovered() = Some(Arc::clone(&found));
        Ok(found)
    }
}

impl Inner {
    fn flights(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn discovered(&self) -> MutexGuard<'_, Option<Arc<str>>> {
        self.discovered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
