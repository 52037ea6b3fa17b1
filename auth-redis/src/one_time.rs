//! [`RedisOneTimeUseStore`]: used DPoP proofs (and other one-time values), seen by every
//! instance.

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::dpop::OneTimeUseStore;
use auth_core::store::StoreError;

use crate::backend::{Error, RedisBackend};
use crate::codec::hex;

/// A [`OneTimeUseStore`] on Redis: each value is recorded with **one
/// `SET <prefix>once:<value> 1 NX PX <ttl>`**, a single atomic command, so of any number of
/// instances presented the same DPoP proof exactly one accepts it (a proof replayed at another
/// instance is refused there). The key lives until the value could no longer be accepted
/// anyway (`expires_at`, as time left from the caller's `now`), so Redis holds at most one
/// acceptance window of proofs.
///
/// A value whose `expires_at` has already passed is refused (`false`) without a round trip:
/// it could not be recorded, and accepting it unrecorded would let it be replayed.
///
/// Values are hex-encoded into the key (DPoP replay keys are already a 64-hex-digit digest of
/// the proof key's thumbprint and `jti`), so a value can never escape its key space.
///
/// # Failures
///
/// A command that fails or times out returns [`StoreError`]: `BearerLayer` answers 503
/// `AUTH_BACKEND_UNAVAILABLE` (fail closed), never "not used". Keep Redis' default
/// `maxmemory-policy noeviction`: an evicted record would let its proof be replayed.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::dpop::{DpopVerifier, ExternalOrigin, OneTimeUseStore};
/// use auth_redis::{RedisBackend, RedisOneTimeUseStore};
/// use std::sync::Arc;
///
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379").build()?;
/// let used: Arc<dyn OneTimeUseStore> = Arc::new(RedisOneTimeUseStore::new(redis));
/// // auth_tower::bearer::Dpop::new(verifier, origin).store(used) shares it between instances.
/// # let _ = used;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisOneTimeUseStore {
    redis: RedisBackend,
}

impl RedisOneTimeUseStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }
}

fn store_error(e: Error) -> StoreError {
    StoreError::with_source(e.operation(), e)
}

#[async_trait]
impl OneTimeUseStore for RedisOneTimeUseStore {
    async fn use_once(
        &self,
        key: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        const OP: &str = "dpop.use_once";
        if now >= expires_at {
            // Past its end it cannot be recorded, and accepting it unrecorded would let it be
            // replayed: refused without a round trip.
            return Ok(false);
        }
        let key = self.redis.key(&["once:", &hex(key.as_bytes())]);
        self.redis
            .set_once(OP, key, expires_at.saturating_duration_since(now))
            .await
            .map_err(store_error)
    }
}
