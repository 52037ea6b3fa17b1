//! [`AttemptStore`]: where attempt state lives, shaped around the two atomic operations the
//! limiter needs; [`AttemptStoreHousekeeping`] keeps its memory bounded.

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;

use super::attempt::{Admission, AttemptOutcome, Verdict};
use super::key::AttemptKey;
use super::policy::BruteForcePolicy;
use crate::clock::UnixTime;

/// Storage for attempt counters and lockouts.
///
/// Every method is **one atomic operation** on the backend (a dashmap entry lock in memory; a
/// script in Redis), never a read the caller follows with a write: two requests racing on one
/// key can never both take the last attempt of a window. The policy is passed to every call,
/// so one store can serve several layers with different policies (they then share counters
/// per key).
///
/// A store must bound its own memory: state that no longer differs from a fresh key's has to
/// go away without that key being touched again (see [`AttemptStoreHousekeeping`]).
#[async_trait]
pub trait AttemptStore: fmt::Debug + Send + Sync + 'static {
    /// The pre-check, before the handler runs: refuses `client` while it is locked out or
    /// has used up its attempts in the sliding window ending at `now`; otherwise counts this
    /// attempt in the window and admits it. Refused attempts are not counted.
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the backend fails.
    async fn admit(
        &self,
        client: &AttemptKey,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> Result<Admission, AttemptStoreError>;

    /// Records the outcome of an admitted attempt, after the handler ran.
    ///
    /// - A [`Failure`](AttemptOutcome::Failure) counts against `client` (towards its lockout),
    ///   whatever happens to the account.
    /// - With an `account`: if the account is locked out and the client is *suspect* (it had
    ///   failed recently before this attempt; any client under
    ///   [`LockoutScope::EveryClient`](super::LockoutScope::EveryClient)), returns
    ///   [`Verdict::Blocked`] and counts nothing for the account. Otherwise a success resets the
    ///   account and a failure counts towards its next lockout.
    ///
    /// "Suspect" must be read and the client's failure recorded in one step, so that a fresh
    /// client firing concurrent guesses at a locked account gets at most one answered.
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the backend fails.
    async fn record(
        &self,
        client: &AttemptKey,
        account: Option<&AttemptKey>,
        outcome: AttemptOutcome,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> Result<Verdict, AttemptStoreError>;

    /// Forgets the failures and lockout of `key` (an operator unlocking an account or a
    /// client). Its rate-limit window is kept.
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the backend fails.
    async fn clear(
        &self,
        key: &AttemptKey,
        policy: &BruteForcePolicy,
    ) -> Result<(), AttemptStoreError>;
}

/// Housekeeping for stores that keep state in process memory.
///
/// [`MemoryAttemptStore`](super::MemoryAttemptStore) already evicts expired entries a few at a
/// time on every operation (whichever keys those touch) and caps the number of keys; calling
/// [`purge_expired`](Self::purge_expired) from a timer additionally frees memory when traffic
/// stops.
pub trait AttemptStoreHousekeeping {
    /// Drops every entry that expired at `now`; returns how many were dropped.
    fn purge_expired(&self, now: UnixTime) -> usize;

    /// How many keys are tracked.
    fn len(&self) -> usize;

    /// Whether no key is tracked.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An [`AttemptStore`] backend failed (connection lost, timeout, script error).
///
/// The message is for logs; clients only ever see `AUTH_BACKEND_UNAVAILABLE`.
#[derive(Debug)]
pub struct AttemptStoreError {
    message: Box<str>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl AttemptStoreError {
    /// An error with a message for logs.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into().into_boxed_str(),
            source: None,
        }
    }

    /// An error caused by `source`.
    #[must_use]
    pub fn with_source(
        message: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into().into_boxed_str(),
            source: Some(Box::new(source)),
        }
    }
}

impl fmt::Display for AttemptStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attempt store failed: {}", self.message)
    }
}

impl StdError for AttemptStoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
