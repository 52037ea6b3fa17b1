//! Coalescing `last_used_at` writes: at most one per key per interval, decided in O(1) without
//! awaiting, and written off the request path by whoever runs the returned [`UsageWrite`].
//!
//! auth-core has no runtime, so it cannot spawn: [`ApiKeys::verify`](super::ApiKeys::verify)
//! hands the write back, and the caller (e.g. `auth-tower`'s `ApiKeyLayer`) spawns it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::hash::ApiKeyHash;
use super::record::ApiKeyId;
use super::store::ApiKeyStore;
use crate::clock::UnixTime;

/// Shards of the "last written" map; digests are uniformly random, so the first byte spreads
/// keys evenly and concurrent requests for different keys rarely share a lock.
const SHARDS: usize = 16;
/// A shard is swept of entries older than the interval when it grows past this many entries
/// (and then past twice its size after the sweep), so memory stays bounded by the keys used
/// within one interval, at amortized O(1) per decision.
const SWEEP_AT: usize = 1024;

pub(crate) struct UsageCoalescer {
    interval: Duration,
    shards: [Mutex<Shard>; SHARDS],
    written: AtomicU64,
}

#[derive(Default)]
struct Shard {
    last: HashMap<ApiKeyHash, UnixTime>,
    sweep_at: usize,
}

impl UsageCoalescer {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
            written: AtomicU64::new(0),
        }
    }

    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Whether this use of the key must be written now. `stored` is the `last_used_at` the
    /// store returned: a recent one (written by this or another instance) means no write.
    pub(crate) fn should_write(
        &self,
        hash: &ApiKeyHash,
        stored: Option<UnixTime>,
        now: UnixTime,
    ) -> bool {
        let fresh = |t: UnixTime| now.saturating_duration_since(t) < self.interval;
        if stored.is_some_and(fresh) {
            return false;
        }
        let [first, ..] = *hash.as_bytes();
        let index = usize::from(first) % SHARDS;
        let Some(shard) = self.shards.get(index) else {
            return false;
        };
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let write = match shard.last.entry(*hash) {
            Entry::Occupied(e) if fresh(*e.get()) => false,
            Entry::Occupied(mut e) => {
                e.insert(now);
                true
            }
            Entry::Vacant(v) => {
                v.insert(now);
                true
            }
        };
        if shard.last.len() > shard.sweep_at.max(SWEEP_AT) {
            shard.last.retain(|_, t| fresh(*t));
            shard.sweep_at = shard.last.len().saturating_mul(2);
        }
        if write {
            self.written.fetch_add(1, Ordering::Relaxed);
        }
        write
    }

    /// How many writes were handed out (for tests and metrics).
    pub(crate) fn writes(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for UsageCoalescer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageCoalescer")
            .field("interval", &self.interval)
            .field("writes", &self.writes())
            .finish_non_exhaustive()
    }
}

/// A pending `last_used_at` write for one key, handed out by
/// [`Verified::into_parts`](super::Verified::into_parts) at most once per key per interval.
///
/// Run it off the request path: `spawn(write.into_future())` on your runtime. Dropping it
/// skips the write (the next use after the interval tries again). Store errors are logged
/// (target `auth::api_key`, level `warn`), never returned to a request.
#[must_use = "a usage write does nothing unless it is awaited or spawned"]
pub struct UsageWrite {
    pub(crate) store: Arc<dyn ApiKeyStore>,
    pub(crate) id: ApiKeyId,
    pub(crate) at: UnixTime,
}

impl UsageWrite {
    /// The key being marked used.
    #[must_use]
    pub fn key_id(&self) -> &ApiKeyId {
        &self.id
    }

    /// The time being written.
    #[must_use]
    pub fn at(&self) -> UnixTime {
        self.at
    }
}

impl fmt::Debug for UsageWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageWrite")
            .field("key_id", &self.id)
            .field("at", &self.at)
            .finish()
    }
}

impl IntoFuture for UsageWrite {
    type Output = ();
    type IntoFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if let Err(e) = self.store.record_use(&self.id, self.at).await {
                tracing::warn!(
                    target: "auth::api_key",
                    key_id = %self.id,
                    error = %e,
                    "recording api key use failed",
                );
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> ApiKeyHash {
        ApiKeyHash::from_bytes([b; 32])
    }

    fn t(secs: u64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    #[test]
    fn one_write_per_key_per_interval() {
        let c = UsageCoalescer::new(Duration::from_secs(60));
        assert!(c.should_write(&h(1), None, t(1_000)));
        assert!(!c.should_write(&h(1), None, t(1_001)));
        assert!(!c.should_write(&h(1), None, t(1_059)));
        assert!(c.should_write(&h(2), None, t(1_059)));
        assert!(c.should_write(&h(1), None, t(1_060)));
        assert_eq!(c.writes(), 3);
    }

    #[test]
    fn a_recent_stored_time_means_no_write() {
        let c = UsageCoalescer::new(Duration::from_secs(60));
        assert!(!c.should_write(&h(1), Some(t(990)), t(1_000)));
        assert!(c.should_write(&h(1), Some(t(900)), t(1_000)));
    }

    #[test]
    fn memory_is_swept_of_stale_entries() {
        let c = UsageCoalescer::new(Duration::from_secs(60));
        let mut bytes = [0u8; 32];
        for i in 0..5_000u32 {
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            bytes[0] = 0; // all in one shard
            bytes[4..8].copy_from_slice(&i.to_le_bytes());
            assert!(c.should_write(&ApiKeyHash::from_bytes(bytes), None, t(u64::from(i) * 100)));
        }
        let len = c.shards[0].lock().unwrap().last.len();
        assert!(len <= SWEEP_AT + 1, "{len}");
    }
}
