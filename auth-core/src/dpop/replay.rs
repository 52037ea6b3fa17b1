//! [`OneTimeUseStore`]: remembers DPoP proofs (by a digest of key and `jti`) until they could no
//! longer be accepted anyway, so each is accepted once; [`MemoryOneTimeUseStore`], bounded.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::store::{Housekeeping, StoreError};

/// A set of one-time values, each remembered until it expires: the replay cache of DPoP proofs
/// (and of anything else accepted at most once).
///
/// [`use_once`](Self::use_once) is one atomic step (check and record), so two instances sharing
/// a store (`auth-redis`'s `RedisOneTimeUseStore`: one `SET NX PX`) can never both accept the
/// same proof.
#[async_trait]
pub trait OneTimeUseStore: fmt::Debug + Send + Sync + 'static {
    /// Records `key` as used until `expires_at`: `true` if it was not in use (the caller may
    /// accept it), `false` if it was.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or cannot take more values; the proof is then
    /// refused (503).
    async fn use_once(
        &self,
        key: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// The answer of [`use_once`](Self::use_once) when it is available without waiting; `None`
    /// (the default) means "await `use_once`". In-memory stores return `Some`, so a layer over
    /// them never boxes a future.
    fn use_once_now(
        &self,
        key: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Option<Result<bool, StoreError>> {
        let _ = (key, expires_at, now);
        None
    }
}

/// The default capacity of a [`MemoryOneTimeUseStore`]: 100 000 values (a few MiB).
pub const DEFAULT_ONE_TIME_CAPACITY: usize = 100_000;

/// An in-memory [`OneTimeUseStore`] holding at most `capacity` live values.
///
/// When full, expired values are purged first; if every value is still live, the new one is
/// **refused** (a [`StoreError`], so the request answers 503) rather than evicting a live value:
/// evicting would make room for an attacker to replay a proof whose record was pushed out
/// (the flaw of an LRU replay cache). The capacity bounds memory; size it above the proofs
/// accepted per acceptance window (by default 65 s).
///
/// For one instance; several instances need a shared store (`auth-redis`).
///
/// ```
/// use auth_core::clock::UnixTime;
/// use auth_core::dpop::{MemoryOneTimeUseStore, OneTimeUseStore};
///
/// let store = MemoryOneTimeUseStore::with_capacity(1);
/// let (now, until) = (UnixTime::from_secs(100), UnixTime::from_secs(160));
/// assert!(store.use_once_now("a", until, now).unwrap().unwrap());
/// assert!(!store.use_once_now("a", until, now).unwrap().unwrap());
/// // Full of live values: refused, not evicted.
/// assert!(store.use_once_now("b", until, now).unwrap().is_err());
/// // Once "a" expired, there is room again.
/// assert!(store.use_once_now("b", until, UnixTime::from_secs(161)).unwrap().unwrap());
/// ```
#[derive(Debug)]
pub struct MemoryOneTimeUseStore {
    used: Mutex<HashMap<Box<str>, UnixTime>>,
    capacity: usize,
}

impl Default for MemoryOneTimeUseStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryOneTimeUseStore {
    /// A store of [`DEFAULT_ONE_TIME_CAPACITY`] values.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_ONE_TIME_CAPACITY)
    }

    /// A store of at most `capacity` live values (at least one).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            used: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn check(&self, key: &str, expires_at: UnixTime, now: UnixTime) -> Result<bool, StoreError> {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(until) = used.get_mut(key) {
            if now < *until {
                return Ok(false);
            }
            *until = expires_at;
            return Ok(true);
        }
        if used.len() >= self.capacity {
            used.retain(|_, until| now < *until);
            if used.len() >= self.capacity {
                tracing::error!(
                    target: "auth::dpop",
                    capacity = self.capacity,
                    "one-time-use store full of live values; refusing a new one"
                );
                return Err(StoreError::new("one-time-use store is full"));
            }
        }
        used.insert(key.into(), expires_at);
        Ok(true)
    }
}

#[async_trait]
impl OneTimeUseStore for MemoryOneTimeUseStore {
    async fn use_once(
        &self,
        key: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.check(key, expires_at, now)
    }

    fn use_once_now(
        &self,
        key: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Option<Result<bool, StoreError>> {
        Some(self.check(key, expires_at, now))
    }
}

impl Housekeeping for MemoryOneTimeUseStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let before = used.len();
        used.retain(|_, until| now < *until);
        before.saturating_sub(used.len())
    }

    fn len(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> UnixTime {
        UnixTime::from_secs(s)
    }

    // Issue 20: a full store refuses new values instead of evicting a live one (which would
    // reopen the evicted proof to replay).
    #[test]
    fn a_full_store_refuses_rather_than_evicting_a_live_value() {
        let store = MemoryOneTimeUseStore::with_capacity(2);
        assert!(store.check("a", t(200), t(100)).unwrap());
        assert!(store.check("b", t(150), t(100)).unwrap());
        assert!(store.check("c", t(200), t(120)).is_err());
        // The refused value was not recorded, and both live ones still are.
        assert!(!store.check("a", t(200), t(120)).unwrap());
        assert!(!store.check("b", t(200), t(120)).unwrap());
        // "b" expired at 150: its room goes to "c".
        assert!(store.check("c", t(260), t(150)).unwrap());
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn an_expired_value_may_be_used_again() {
        let store = MemoryOneTimeUseStore::new();
        assert!(store.check("a", t(110), t(100)).unwrap());
        assert!(!store.check("a", t(120), t(109)).unwrap());
        assert!(store.check("a", t(120), t(110)).unwrap());
        assert_eq!(store.purge_expired(t(120)), 1);
        assert!(store.is_empty());
    }
}
