//! [`MemoryAttemptStore`]: the in-process default, a dashmap plus an expiry wheel.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::attempt::{Admission, AttemptOutcome, Recorded, Verdict};
use super::key::AttemptKey;
use super::policy::BruteForcePolicy;
use super::record::{AccountResult, AttemptRecord};
use super::store::{AttemptStore, AttemptStoreError, AttemptStoreHousekeeping};
use crate::clock::UnixTime;

/// Width of one expiry-wheel bucket, in seconds. Entries go at most two buckets late.
const BUCKET_SECS: u32 = 16;
/// Expired entries examined per store operation.
const SWEEP_PER_OP: usize = 4;
/// Candidates examined before an eviction at the cap takes whatever is at the head.
const EVICTION_PROBES: usize = 4;

/// The in-memory [`AttemptStore`]: a [`DashMap`] of 68-byte entries (16-byte key, 52-byte
/// record, no heap per key) and an expiry wheel that holds each key once.
///
/// # Memory is bounded
///
/// - **Expiry.** Every key sits in exactly one bucket of a wheel ordered by expiry time. Each
///   operation pops up to four due keys (whichever keys those are) and drops the ones that
///   really expired (a key touched since is put back at its new expiry), so entries go away
///   without a request having to touch *them*. That costs O(1) per operation whatever the
///   number of keys. [`purge_expired`](AttemptStoreHousekeeping::purge_expired) drains every
///   due bucket, for a timer to call when traffic stops.
/// - **The cap** (default 1,000,000 keys, [`with_max_keys`](Self::with_max_keys)). A new key
///   beyond the cap **evicts the tracked key that expires soonest** (approximately: among the
///   first few at the head of the wheel, skipping ones whose expiry moved later), never the
///   new key, and logs a `warn` event (target `auth::brute_force`, every 1024th eviction).
///
/// Why evict rather than refuse: refusing new keys at the cap (fail closed) hands an attacker
/// who can rotate through enough addresses a switch that turns login off for every new
/// visitor; not tracking new keys (fail open) hands them unlimited guesses. Evicting the
/// soonest-expiring key first drops plain rate-limit windows (they expire one window after
/// their last attempt) long before failure and lockout records (they live until the decay
/// period ends), so to push a victim account's lockout out an attacker has to create a cap's
/// worth of longer-lived records first, while the per-client limits make each of their
/// addresses worth only a handful. Size the cap for that: about 160 bytes per key (measured by
/// `auth-tower`'s `brute_force` bench), so the default is about 160 MB at worst.
///
/// A record whose state is reset early (a success, an unlock) keeps its place in the wheel and
/// leaves at the time it was queued for (or sooner, under cap pressure): memory never exceeds
/// what it would have been without the reset.
///
/// ```
/// use auth_core::brute_force::{
///     Admission, AttemptKey, AttemptStore, AttemptStoreHousekeeping, BruteForcePolicy,
///     MemoryAttemptStore,
/// };
/// use auth_core::clock::UnixTime;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryAttemptStore::new();
/// let policy = BruteForcePolicy::default();
/// let client = AttemptKey::account("a client name, hashed like any other");
/// let t0 = UnixTime::from_secs(1_700_000_000);
/// for _ in 0..5 {
///     assert_eq!(store.admit(&client, &policy, t0).await?, Admission::Admitted);
/// }
/// assert!(matches!(store.admit(&client, &policy, t0).await?, Admission::Blocked(_)));
/// assert_eq!(store.len(), 1);
///
/// // A minute later the window holds nothing a fresh key would not: it can go.
/// assert_eq!(store.purge_expired(t0.saturating_add(Duration::from_secs(120))), 1);
/// assert!(store.is_empty());
/// # Ok(()) }
/// ```
pub struct MemoryAttemptStore {
    map: DashMap<AttemptKey, AttemptRecord>,
    wheel: Mutex<Wheel>,
    /// The earliest bucket in the wheel (`u32::MAX` when empty), read without the lock.
    next_due: AtomicU32,
    count: AtomicUsize,
    max_keys: usize,
    evicted_at_cap: AtomicU64,
}

#[derive(Default)]
struct Wheel {
    buckets: BTreeMap<u32, Vec<AttemptKey>>,
}

impl Wheel {
    fn push(&mut self, bucket: u32, key: AttemptKey) {
        self.buckets.entry(bucket).or_default().push(key);
    }

    /// Pops a key from the earliest bucket if that bucket is at most `due`.
    fn pop_due(&mut self, due: u32) -> Option<(u32, AttemptKey)> {
        let mut first = self.buckets.first_entry()?;
        let bucket = *first.key();
        if bucket > due {
            return None;
        }
        let key = first.get_mut().pop();
        if first.get().is_empty() {
            first.remove();
        }
        key.map(|k| (bucket, k))
    }

    fn earliest(&self) -> u32 {
        self.buckets.keys().next().copied().unwrap_or(u32::MAX)
    }
}

/// The bucket an expiry (s) goes in: rounded up, so a key is never popped before it expires.
fn bucket_of_expiry(secs: u32) -> u32 {
    secs.div_ceil(BUCKET_SECS)
}

/// The last bucket that is due at `now`.
fn due_bucket(now: UnixTime) -> u32 {
    u32::try_from(now.as_secs() / u64::from(BUCKET_SECS)).unwrap_or(u32::MAX)
}

impl fmt::Debug for MemoryAttemptStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryAttemptStore")
            .field("len", &self.count.load(Ordering::Relaxed))
            .field("max_keys", &self.max_keys)
            .field(
                "evicted_at_cap",
                &self.evicted_at_cap.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl Default for MemoryAttemptStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryAttemptStore {
    /// The default cap on tracked keys.
    pub const DEFAULT_MAX_KEYS: NonZeroUsize = NonZeroUsize::MIN.saturating_add(999_999);

    /// A store capped at [`DEFAULT_MAX_KEYS`](Self::DEFAULT_MAX_KEYS) (1,000,000).
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_keys(Self::DEFAULT_MAX_KEYS)
    }

    /// A store that tracks at most `max_keys` keys (see the type docs for what happens at the
    /// cap).
    #[must_use]
    pub fn with_max_keys(max_keys: NonZeroUsize) -> Self {
        Self {
            map: DashMap::new(),
            wheel: Mutex::new(Wheel::default()),
            next_due: AtomicU32::new(u32::MAX),
            count: AtomicUsize::new(0),
            max_keys: max_keys.get(),
            evicted_at_cap: AtomicU64::new(0),
        }
    }

    /// The cap on tracked keys.
    #[must_use]
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// How many keys were evicted because the cap was reached, since the store was made.
    #[must_use]
    pub fn evicted_at_cap(&self) -> u64 {
        self.evicted_at_cap.load(Ordering::Relaxed)
    }

    fn lock_wheel(&self) -> std::sync::MutexGuard<'_, Wheel> {
        // A panic while holding the lock cannot leave the wheel inconsistent (each operation is
        // one push or pop), so a poisoned lock is still safe to use.
        self.wheel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn enqueue(&self, key: AttemptKey, expires_secs: u32) {
        let bucket = bucket_of_expiry(expires_secs);
        let mut wheel = self.lock_wheel();
        wheel.push(bucket, key);
        self.next_due.store(wheel.earliest(), Ordering::Relaxed);
    }

    fn pop(&self, due: u32, blocking: bool) -> Option<(u32, AttemptKey)> {
        let mut wheel = if blocking {
            self.lock_wheel()
        } else {
            // Sweeping is opportunistic: under contention another caller is already at it.
            match self.wheel.try_lock() {
                Ok(w) => w,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return None,
            }
        };
        let popped = wheel.pop_due(due);
        self.next_due.store(wheel.earliest(), Ordering::Relaxed);
        popped
    }

    /// Pops due keys (at most `budget`), drops the expired ones, re-queues the rest.
    fn sweep(&self, now: UnixTime, budget: usize, blocking: bool) -> usize {
        let due = due_bucket(now);
        let mut removed = 0;
        for _ in 0..budget {
            if self.next_due.load(Ordering::Relaxed) > due {
                break;
            }
            let Some((_, key)) = self.pop(due, blocking) else {
                break;
            };
            let mut requeue = None;
            let gone = self.map.remove_if(&key, |_, r| {
                if r.is_expired(now) {
                    true
                } else {
                    requeue = Some(r.expires_secs());
                    false
                }
            });
            if gone.is_some() {
                self.count.fetch_sub(1, Ordering::Relaxed);
                removed += 1;
            } else if let Some(expires) = requeue {
                self.enqueue(key, expires);
            }
        }
        removed
    }

    /// Evicts one key other than `spare`, preferring the one that expires soonest.
    fn evict_one(&self, spare: &AttemptKey) {
        let mut spared = false;
        for probe in 0..=EVICTION_PROBES {
            let Some((bucket, key)) = self.pop(u32::MAX, true) else {
                break;
            };
            if key == *spare {
                // The newcomer goes back once the victim is found.
                spared = true;
                continue;
            }
            let last_probe = probe == EVICTION_PROBES;
            let mut requeue = None;
            let gone = self.map.remove_if(&key, |_, r| {
                let later = bucket_of_expiry(r.expires_secs()) > bucket;
                if later && !last_probe {
                    requeue = Some(r.expires_secs());
                    false
                } else {
                    true
                }
            });
            if gone.is_some() {
                self.count.fetch_sub(1, Ordering::Relaxed);
                let n = self.evicted_at_cap.fetch_add(1, Ordering::Relaxed);
                if n.is_multiple_of(1024) {
                    tracing::warn!(
                        target: "auth::brute_force",
                        max_keys = self.max_keys,
                        evicted_total = n + 1,
                        "attempt store is at its key cap; evicting the entries that expire soonest"
                    );
                }
                break;
            }
            if let Some(expires) = requeue {
                self.enqueue(key, expires);
            }
        }
        if spared {
            let expires = self.map.get(spare).map(|r| r.expires_secs());
            if let Some(expires) = expires {
                self.enqueue(*spare, expires);
            }
        }
    }

    /// Applies `f` to `key`'s record (a fresh one if absent) under the key's lock; a fresh
    /// record that `f` left equal to a fresh one is not stored.
    fn update<R>(
        &self,
        key: &AttemptKey,
        now: UnixTime,
        f: impl FnOnce(&mut AttemptRecord) -> R,
    ) -> R {
        // Most operations touch a tracked key: look it up without the entry machinery first.
        if let Some(mut record) = self.map.get_mut(key) {
            let result = f(&mut record);
            drop(record);
            self.sweep(now, SWEEP_PER_OP, false);
            return result;
        }
        let mut created = None;
        let result = match self.map.entry(*key) {
            Entry::Occupied(mut e) => f(e.get_mut()),
            Entry::Vacant(v) => {
                let mut record = AttemptRecord::default();
                let result = f(&mut record);
                if !record.is_expired(now) {
                    created = Some(record.expires_secs());
                    v.insert(record);
                }
                result
            }
        };
        // The shard lock is released here; the wheel is never locked while holding it.
        if let Some(expires) = created {
            self.enqueue(*key, expires);
            let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
            if n > self.max_keys {
                self.evict_one(key);
            }
        }
        self.sweep(now, SWEEP_PER_OP, false);
        result
    }
}

#[async_trait]
impl AttemptStore for MemoryAttemptStore {
    async fn admit(
        &self,
        client: &AttemptKey,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> Result<Admission, AttemptStoreError> {
        Ok(self.update(client, now, |r| r.admit(policy, now)))
    }

    async fn record(
        &self,
        client: &AttemptKey,
        account: Option<&AttemptKey>,
        outcome: AttemptOutcome,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> Result<Verdict, AttemptStoreError> {
        // The client first, in one step: a fresh client's concurrent failures see each other.
        let (client_suspect, client_level, client_engaged) = match outcome {
            AttemptOutcome::Failure => {
                let f = self.update(client, now, |r| r.client_failure(policy, now));
                (f.was_suspect, f.level, f.engaged)
            }
            _ => {
                let (suspect, level) = self.update(client, now, |r| r.client_status(policy, now));
                (suspect, level, false)
            }
        };
        let Some(account) = account else {
            return Ok(Verdict::Recorded(Recorded::new(
                client_level,
                0,
                client_engaged,
            )));
        };
        let result = self.update(account, now, |r| {
            r.account_outcome(outcome, client_suspect, policy, now)
        });
        Ok(match result {
            AccountResult::Blocked(b) => Verdict::Blocked(b),
            AccountResult::Counted { level, engaged } => Verdict::Recorded(Recorded::new(
                client_level,
                level,
                client_engaged || engaged,
            )),
        })
    }

    async fn clear(
        &self,
        key: &AttemptKey,
        policy: &BruteForcePolicy,
    ) -> Result<(), AttemptStoreError> {
        // Reset in place: removal is left to the wheel, which holds each key exactly once.
        if let Some(mut r) = self.map.get_mut(key) {
            r.clear_failures(policy);
        }
        Ok(())
    }
}

impl AttemptStoreHousekeeping for MemoryAttemptStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        self.sweep(now, usize::MAX, true)
    }

    fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> UnixTime {
        UnixTime::from_secs(T0 + secs)
    }

    fn client(i: u32) -> AttemptKey {
        crate::brute_force::ClientKey::from_ip(std::net::IpAddr::from(i.to_be_bytes()))
            .attempt_key()
    }

    #[test]
    fn entry_is_68_bytes() {
        assert_eq!(size_of::<(AttemptKey, AttemptRecord)>(), 68);
    }

    #[tokio::test]
    async fn expired_entries_are_evicted_by_other_keys_operations() {
        let store = MemoryAttemptStore::new();
        let p = BruteForcePolicy::default();
        for i in 0..100 {
            store.admit(&client(i), &p, at(0)).await.unwrap();
        }
        assert_eq!(store.len(), 100);
        // Long after they expired, operations on one unrelated key sweep the others away.
        let other = client(1_000_000);
        for _ in 0..30 {
            store.admit(&other, &p, at(3600)).await.unwrap();
        }
        assert_eq!(store.len(), 1, "only the key in use is left");
    }

    #[tokio::test]
    async fn entries_touched_since_they_were_queued_are_kept() {
        let store = MemoryAttemptStore::new();
        let p = BruteForcePolicy::default();
        let k = client(1);
        store.admit(&k, &p, at(0)).await.unwrap();
        // A failure extends its life to the decay period.
        store
            .record(&k, None, AttemptOutcome::Failure, &p, at(10))
            .await
            .unwrap();
        assert_eq!(store.purge_expired(at(3600)), 0);
        assert_eq!(store.len(), 1);
        assert_eq!(store.purge_expired(at(10 + 86_400 + 2 * 16)), 1);
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn the_cap_evicts_the_soonest_to_expire_and_keeps_lockouts() {
        let store = MemoryAttemptStore::with_max_keys(NonZeroUsize::new(10).unwrap());
        let p = BruteForcePolicy::default();
        // A locked-out account: a long-lived record.
        let victim = AttemptKey::account("victim@example.com");
        for _ in 0..5 {
            store
                .record(
                    &client(0),
                    Some(&victim),
                    AttemptOutcome::Failure,
                    &p,
                    at(0),
                )
                .await
                .unwrap();
        }
        // A flood of plain rate-limit windows.
        for i in 1..1000 {
            store.admit(&client(i), &p, at(1)).await.unwrap();
            assert!(store.len() <= 10);
        }
        assert_eq!(store.len(), 10);
        assert!(store.evicted_at_cap() > 900);
        // The lockout survived the flood.
        let v = store
            .record(
                &client(0),
                Some(&victim),
                AttemptOutcome::Success,
                &p,
                at(2),
            )
            .await
            .unwrap();
        assert!(matches!(v, Verdict::Blocked(_)), "{v:?}");
        // And the newest key is tracked.
        for _ in 0..4 {
            store.admit(&client(999), &p, at(2)).await.unwrap();
        }
        assert!(matches!(
            store.admit(&client(999), &p, at(2)).await.unwrap(),
            Admission::Blocked(_)
        ));
    }

    #[tokio::test]
    async fn fresh_outcomes_store_nothing() {
        let store = MemoryAttemptStore::new();
        let p = BruteForcePolicy::default();
        let acct = AttemptKey::account("nobody@example.com");
        store
            .record(&client(1), Some(&acct), AttemptOutcome::Success, &p, at(0))
            .await
            .unwrap();
        store
            .record(&client(1), Some(&acct), AttemptOutcome::Neutral, &p, at(0))
            .await
            .unwrap();
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn clear_unlocks_an_account() {
        let store = MemoryAttemptStore::new();
        let p = BruteForcePolicy::default();
        let acct = AttemptKey::account("a@example.com");
        for _ in 0..5 {
            store
                .record(&client(1), Some(&acct), AttemptOutcome::Failure, &p, at(0))
                .await
                .unwrap();
        }
        store.clear(&acct, &p).await.unwrap();
        store.clear(&client(1), &p).await.unwrap();
        let v = store
            .record(&client(1), Some(&acct), AttemptOutcome::Success, &p, at(1))
            .await
            .unwrap();
        assert!(matches!(v, Verdict::Recorded(_)));
        // Records reset early still leave through the wheel, at the time they were queued for
        // (the bucket of their first expiry), so memory never exceeds what it would have been.
        assert_eq!(store.purge_expired(at(120)), 0);
        assert_eq!(store.purge_expired(at(86_400 + 2 * 16)), 2);
        assert!(store.is_empty());
        let _ = Duration::ZERO;
    }
}
