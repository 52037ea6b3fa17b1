//! [`TokenManager`]: cached client-credentials tokens, renewed ahead of expiry in one flight.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::Shared;

use super::builder::TokenManagerBuilder;
use super::error::TokenError;
use super::fetch::{Client, Reason};
use super::params::TokenParams;
use super::response::Issued;
use super::token::BearerToken;
use crate::clock::UnixTime;
use crate::jwt::BoxFuture;

type FlightResult = Result<BearerToken, TokenError>;
type Flight = Shared<BoxFuture<'static, FlightResult>>;

struct InFlight {
    id: u64,
    flight: Flight,
}

struct Failure {
    error: TokenError,
    until: UnixTime,
}

#[derive(Default)]
struct SlotState {
    token: Option<BearerToken>,
    inflight: Option<InFlight>,
    failure: Option<Failure>,
    /// When a downstream 401 last caused a renewal.
    last_rejected: Option<UnixTime>,
    next_id: u64,
}

/// The cache entry of one [`TokenParams`]: its token, its flight, its cooldown.
struct Slot {
    params: TokenParams,
    state: Mutex<SlotState>,
}

/// What a caller does next; decided under the lock, done after it is released.
enum Step {
    Ready(BearerToken),
    Wait(Flight),
    Fail(TokenError),
}

impl Step {
    async fn run(self) -> FlightResult {
        match self {
            Self::Ready(token) => Ok(token),
            Self::Wait(flight) => flight.await,
            Self::Fail(error) => Err(error),
        }
    }
}

/// Access tokens for one OAuth client (client credentials grant, RFC 6749 section 4.4),
/// cached and renewed ahead of expiry; see the [module documentation](super) for the policy.
///
/// Build one per client configuration with [`TokenManager::builder`] and share it: it is
/// `Send + Sync` and cheap to clone (clones share the cache). Tokens are cached per (client,
/// token endpoint, sorted scopes, resources, audience); [`with_params`](Self::with_params)
/// gives a handle for other parameters that shares the client and keeps its own token.
///
/// No method holds a lock across an `.await`; token requests run as tasks on the current Tokio
/// runtime, so a caller that is dropped while waiting cancels nothing. Token requests need a
/// Tokio runtime with its time driver (`#[tokio::main]` has one), as reqwest does.
#[derive(Clone)]
pub struct TokenManager {
    client: Arc<Client>,
    slots: Arc<Mutex<HashMap<TokenParams, Arc<Slot>>>>,
    slot: Arc<Slot>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.slot.lock();
        f.debug_struct("TokenManager")
            .field("client_id", &self.client.client_id())
            .field("method", &self.client.auth.method())
            .field("endpoint", &self.client.location())
            .field("params", &self.slot.params)
            .field("token", &st.token)
            .field("in_flight", &st.inflight.is_some())
            .finish_non_exhaustive()
    }
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // Plain data updated in single assignments: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn in_cooldown(st: &SlotState, now: UnixTime) -> bool {
    st.failure.as_ref().is_some_and(|f| now < f.until)
}

/// A random duration in `[0, max]` (0 if the random source fails).
fn jitter(max: Duration) -> Duration {
    let mut raw = [0u8; 4];
    if getrandom::fill(&mut raw).is_err() {
        return Duration::ZERO;
    }
    let fraction = f64::from(u32::from_le_bytes(raw)) / f64::from(u32::MAX);
    max.mul_f64(fraction)
}

impl TokenManager {
    /// Starts building a manager for a client; see [`TokenManagerBuilder`].
    pub fn builder(auth: super::ClientAuth) -> TokenManagerBuilder {
        TokenManagerBuilder::new(auth)
    }

    pub(crate) fn from_client(client: Client, params: TokenParams) -> Self {
        let slot = Arc::new(Slot {
            params: params.clone(),
            state: Mutex::new(SlotState::default()),
        });
        let mut slots = HashMap::new();
        slots.insert(params, Arc::clone(&slot));
        Self {
            client: Arc::new(client),
            slots: Arc::new(Mutex::new(slots)),
            slot,
        }
    }

    /// A handle for the same client with other [`TokenParams`] (scopes, resources, audience):
    /// it shares the client, the HTTP client and the cache map, but has its own token (one
    /// per distinct parameter set; equal sets share one).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`](crate::ConfigError::Input) for an invalid scope, resource or
    /// audience.
    pub fn with_params(&self, params: TokenParams) -> Result<Self, crate::ConfigError> {
        params.validate()?;
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(slots.entry(params.clone()).or_insert_with(|| {
                Arc::new(Slot {
                    params,
                    state: Mutex::new(SlotState::default()),
                })
            }))
        };
        Ok(Self {
            client: Arc::clone(&self.client),
            slots: Arc::clone(&self.slots),
            slot,
        })
    }

    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        self.client.client_id()
    }

    /// What tokens of this handle are requested for.
    #[must_use]
    pub fn params(&self) -> &TokenParams {
        &self.slot.params
    }

    /// The cached token if it has not expired, without waiting. Once the token is past its
    /// renewal time this also starts a renewal in the background (one at a time, not during a
    /// failure cooldown), and still returns the current token.
    #[must_use]
    pub fn cached_token(&self) -> Option<BearerToken> {
        let now = self.client.clock.now();
        let mut st = self.slot.lock();
        let token = st.token.clone().filter(|t| now < t.expires_at())?;
        self.renew_ahead_if_due(&mut st, &token, now);
        Some(token)
    }

    /// An unexpired access token: the cached one (renewed in the background once due), or,
    /// when there is none, the result of the token request in flight, started now if needed.
    ///
    /// The decision is taken when this is called; the returned future only waits. Any number
    /// of concurrent callers share one token request.
    ///
    /// # Errors
    ///
    /// The [`TokenError`] of the failed token request (after its retries). During the cooldown
    /// that follows a failure, callers without an unexpired token get that error at once,
    /// without a request.
    pub fn access_token(
        &self,
    ) -> impl Future<Output = Result<BearerToken, TokenError>> + Send + 'static {
        let now = self.client.clock.now();
        let step = {
            let mut st = self.slot.lock();
            match st.token.clone() {
                Some(token) if now < token.expires_at() => {
                    self.renew_ahead_if_due(&mut st, &token, now);
                    Step::Ready(token)
                }
                Some(_) => {
                    st.token = None;
                    self.wait_or_start(&mut st, now, Reason::Expired)
                }
                None => self.wait_or_start(&mut st, now, Reason::Initial),
            }
        };
        step.run()
    }

    /// Reacts to a downstream `401` for `rejected`: when `rejected` is still the current token,
    /// it is dropped and a renewal starts (or the one in flight is joined); when a newer token
    /// is already cached (someone else renewed), that one is returned without a request. So
    /// any number of concurrent rejections of one token cause one renewal.
    ///
    /// Renewals caused by rejections are at most one per cooldown: when the token that a
    /// rejection-caused renewal produced is rejected again within the cooldown, the same token
    /// is returned (check with [`BearerToken::same_token`]) and nothing is requested, so a
    /// downstream that refuses every token cannot turn each call into a token request.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token).
    pub fn renew_rejected(
        &self,
        rejected: &BearerToken,
    ) -> impl Future<Output = Result<BearerToken, TokenError>> + Send + 'static {
        let now = self.client.clock.now();
        let cooldown = self.client.policy.cooldown;
        let step = {
            let mut st = self.slot.lock();
            match st.token.clone() {
                Some(current) if current.same_token(rejected) => {
                    if st
                        .last_rejected
                        .is_some_and(|t| now < t.saturating_add(cooldown))
                    {
                        tracing::warn!(
                            target: "auth::oauth_client",
                            client_id = self.client_id(),
                            outcome = "not_renewed",
                            reason = "rejected_again_within_cooldown",
                            "downstream rejected a token renewed after a rejection; not renewing again before the cooldown ends",
                        );
                        Step::Ready(current)
                    } else {
                        tracing::info!(
                            target: "auth::oauth_client",
                            client_id = self.client_id(),
                            reason = "rejected_downstream",
                            "downstream rejected the current access token; renewing",
                        );
                        st.token = None;
                        st.last_rejected = Some(now);
                        self.wait_or_start(&mut st, now, Reason::Rejected)
                    }
                }
                Some(current) if now < current.expires_at() => Step::Ready(current),
                _ => {
                    st.token = None;
                    self.wait_or_start(&mut st, now, Reason::Expired)
                }
            }
        };
        step.run()
    }

    /// Requests a token now, whatever is cached and ignoring the cooldown (joining a request
    /// already in flight rather than starting a second one). Useful at start-up, to fail fast
    /// on a wrong configuration.
    ///
    /// # Errors
    ///
    /// The [`TokenError`] of the request.
    pub fn refresh_now(
        &self,
    ) -> impl Future<Output = Result<BearerToken, TokenError>> + Send + 'static {
        let step = {
            let mut st = self.slot.lock();
            match &st.inflight {
                Some(f) => Step::Wait(f.flight.clone()),
                None => Step::Wait(self.start(&mut st, Reason::Requested)),
            }
        };
        step.run()
    }

    /// Resolves when the token request in flight now (if any) has finished, e.g. a background
    /// renewal; at once when none is.
    pub fn settled(&self) -> impl Future<Output = ()> + Send + 'static {
        let flight = self.slot.lock().inflight.as_ref().map(|f| f.flight.clone());
        async move {
            if let Some(f) = flight {
                let _ = f.await;
            }
        }
    }

    fn renew_ahead_if_due(&self, st: &mut SlotState, token: &BearerToken, now: UnixTime) {
        if now < token.renew_at() || st.inflight.is_some() || in_cooldown(st, now) {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            // Nothing would drive a background request; the token is renewed when it expires.
            return;
        }
        drop(self.start(st, Reason::RenewAhead));
    }

    /// Joins the flight, or fails at once within a cooldown, or starts a flight.
    fn wait_or_start(&self, st: &mut SlotState, now: UnixTime, reason: Reason) -> Step {
        if let Some(f) = &st.inflight {
            return Step::Wait(f.flight.clone());
        }
        if let Some(failure) = st.failure.as_ref().filter(|f| now < f.until) {
            tracing::debug!(
                target: "auth::oauth_client",
                client_id = self.client_id(),
                outcome = "cooldown",
                reason = failure.error.class(),
                retry_in_secs = failure.until.saturating_duration_since(now).as_secs(),
                "no token and the last token request failed; not requesting again before the cooldown ends",
            );
            return Step::Fail(failure.error.clone());
        }
        Step::Wait(self.start(st, reason))
    }

    /// Starts a flight (a task on the current runtime when there is one) and records it.
    fn start(&self, st: &mut SlotState, reason: Reason) -> Flight {
        st.next_id = st.next_id.wrapping_add(1);
        let id = st.next_id;
        let client = Arc::clone(&self.client);
        let slot: Weak<Slot> = Arc::downgrade(&self.slot);
        let params = self.slot.params.clone();
        let work: BoxFuture<'static, FlightResult> = Box::pin(async move {
            let result = client.fetch(&params, reason).await;
            complete(&client, slot.upgrade().as_deref(), id, reason, result)
        });
        let flight = work.shared();
        st.inflight = Some(InFlight {
            id,
            flight: flight.clone(),
        });
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let run = flight.clone();
            drop(handle.spawn(async move {
                let _ = run.await;
            }));
        }
        flight
    }
}

/// Turns a flight's outcome into the cached token (or the cooldown); runs once per flight.
fn complete(
    client: &Client,
    slot: Option<&Slot>,
    id: u64,
    reason: Reason,
    result: Result<(Issued, UnixTime), TokenError>,
) -> FlightResult {
    crate::metrics::client_token_request(result.is_ok());
    match reason {
        Reason::RenewAhead | Reason::Expired => {
            crate::metrics::client_token_renewal(crate::metrics::Renewal::Expiring);
        }
        Reason::Rejected => crate::metrics::client_token_renewal(crate::metrics::Renewal::Rejected),
        Reason::Initial | Reason::Requested => {}
    }
    let now = client.clock.now();
    let p = &client.policy;
    let outcome = result.map(|(issued, requested_at)| {
        let expires_at = requested_at.saturating_add(issued.lifetime);
        let ahead = p.renew_ahead.min(issued.lifetime / 2);
        let renew_at = expires_at
            .saturating_sub(ahead)
            .saturating_sub(jitter(ahead / 10));
        tracing::info!(
            target: "auth::oauth_client",
            client_id = client.client_id(),
            outcome = "issued",
            reason = reason.as_str(),
            expires_in_secs = issued.lifetime.as_secs(),
            lifetime_source = issued.source.as_str(),
            renew_in_secs = renew_at.saturating_duration_since(now).as_secs(),
            "access token obtained",
        );
        BearerToken::new(
            &issued.token,
            requested_at,
            expires_at,
            renew_at,
            issued.scope,
        )
    });
    let Some(slot) = slot else {
        return outcome;
    };
    let mut st = slot.lock();
    if st.inflight.as_ref().is_some_and(|f| f.id == id) {
        st.inflight = None;
    }
    match &outcome {
        Ok(token) => {
            st.token = Some(token.clone());
            st.failure = None;
        }
        Err(error) => {
            let until = now.saturating_add(p.cooldown);
            st.failure = Some(Failure {
                error: error.clone(),
                until,
            });
            drop(st);
            client.forget_discovered();
            let still_valid = slot
                .lock()
                .token
                .as_ref()
                .is_some_and(|t| now < t.expires_at());
            if still_valid {
                tracing::warn!(
                    target: "auth::oauth_client",
                    client_id = client.client_id(),
                    outcome = "failed",
                    reason = error.class(),
                    %error,
                    cooldown_secs = p.cooldown.as_secs(),
                    "token renewal failed; the current token is still served until it expires",
                );
            } else {
                tracing::error!(
                    target: "auth::oauth_client",
                    client_id = client.client_id(),
                    outcome = "failed",
                    reason = error.class(),
                    %error,
                    cooldown_secs = p.cooldown.as_secs(),
                    "token request failed and no token is cached; outbound calls fail until a request succeeds",
                );
            }
        }
    }
    outcome
}
