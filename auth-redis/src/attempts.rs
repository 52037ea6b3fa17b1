//! [`RedisAttemptStore`]: brute-force attempt windows, failures and lockouts shared by every
//! instance.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::brute_force::{
    Admission, AttemptKey, AttemptOutcome, AttemptStore, AttemptStoreError, BlockReason, Blocked,
    BruteForcePolicy, LockoutScope, MAX_ATTEMPTS_PER_WINDOW, Recorded, Verdict,
};
use auth_core::clock::UnixTime;
use redis::Script;

use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::hex;

const NANOS: u64 = 1_000_000_000;

static ADMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/attempts_common.lua"),
        include_str!("lua/attempts_admit.lua")
    ))
});
static RECORD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/attempts_common.lua"),
        include_str!("lua/attempts_record.lua")
    ))
});
static CLEAR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/attempts_common.lua"),
        include_str!("lua/attempts_clear.lua")
    ))
});

/// An [`AttemptStore`] on Redis: every instance behind a load balancer sees the same windows,
/// failures and lockouts, so a lockout earned through one instance holds at all of them and
/// concurrent attempts through different instances can never take more than the limit.
///
/// # Atomicity
///
/// [`admit`](AttemptStore::admit) and [`record`](AttemptStore::record) are one Lua script each
/// (one round trip), applying the same transitions as auth-core's in-memory store: the window
/// check and the count, and "was the client suspect" with the client's failure and the account's
/// outcome, happen in one step on the server. The shared conformance tests run both stores
/// through the same cases.
///
/// # Keys
///
/// `<prefix>attempts:<32 hex digits>`, one per client and per account (the 16-byte
/// [`AttemptKey`]: an address network, or a domain-separated SHA-256 prefix of a name, so no
/// account name or e-mail address is stored). The value is a short string (lockout level,
/// failures, lockout end, decay time and the times of the attempts in the window); the key
/// expires when its state no longer differs from a fresh key's (one window after the last
/// attempt, or when failures decay), so Redis memory holds only keys with something to
/// remember. No housekeeping is needed.
///
/// Times are whole seconds read from the caller's [`Clock`](auth_core::clock::Clock), so
/// instances should keep their clocks in sync (NTP); the TTLs are relative, so Redis' own
/// clock does not matter.
///
/// # Failures
///
/// Each operation fails with [`AttemptStoreError`] after the backend's timeout (100 ms by
/// default). `auth-tower`'s `BruteForceLayer` then answers 503 `AUTH_BACKEND_UNAVAILABLE`
/// (fail closed), or, with `dangerous_fail_open_on_store_error()`, lets the attempt through
/// unprotected and logs the failure at error level.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::brute_force::{BruteForceLimiter, BruteForcePolicy};
/// use auth_redis::{RedisAttemptStore, RedisBackend};
/// use std::sync::Arc;
///
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379").build()?;
/// let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
///     .store(Arc::new(RedisAttemptStore::new(redis)))
///     .build()?;
/// # let _ = limiter;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisAttemptStore {
    redis: RedisBackend,
}

impl RedisAttemptStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }

    /// The Redis key of `key`.
    #[must_use]
    pub fn redis_key(&self, key: &AttemptKey) -> String {
        self.redis.key(&["{attempts}:", &hex(key.as_bytes())])
    }
}

fn store_error(e: Error) -> AttemptStoreError {
    AttemptStoreError::with_source(e.operation(), e)
}

/// Whole seconds, rounded down (for "has it passed": `s * 1e9 <= now` iff `s <= floor`).
fn secs_floor(t: UnixTime) -> u64 {
    (t.as_nanos() / NANOS).min(u64::from(u32::MAX))
}

/// Whole seconds, rounded up (the time an attempt or failure is recorded at).
fn secs_ceil(t: UnixTime) -> u64 {
    t.as_nanos().div_ceil(NANOS).min(u64::from(u32::MAX))
}

fn window_secs(policy: &BruteForcePolicy) -> u64 {
    policy.window().as_secs().min(u64::from(u32::MAX))
}

/// Time from `now` until second `s` (zero if past).
fn until(s: i64, now: UnixTime) -> Duration {
    let s = u64::try_from(s).unwrap_or(0);
    Duration::from_nanos(s.saturating_mul(NANOS).saturating_sub(now.as_nanos()))
}

fn level(v: i64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

fn reply(operation: &'static str, r: &[i64]) -> Result<[i64; 4], Error> {
    let mut out = [0i64; 4];
    if r.is_empty() || r.len() > 4 {
        return Err(Error::unexpected(operation, format!("reply {r:?}")));
    }
    for (o, v) in out.iter_mut().zip(r) {
        *o = *v;
    }
    Ok(out)
}

#[async_trait]
impl AttemptStore for RedisAttemptStore {
    async fn admit(
        &self,
        client: &AttemptKey,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> Result<Admission, AttemptStoreError> {
        const OP: &str = "attempts.admit";
        let key = self.redis_key(client);
        let max = policy.max_attempts().get().min(MAX_ATTEMPTS_PER_WINDOW);
        let args: [&dyn ToArg; 4] = [
            &secs_floor(now),
            &secs_ceil(now),
            &window_secs(policy),
            &max,
        ];
        let r: Vec<i64> = self
            .redis
            .script(OP, &ADMIT, &[&key], &args)
            .await
            .map_err(store_error)?;
        let [kind, at, lvl, _] = reply(OP, &r).map_err(store_error)?;
        Ok(match kind {
            0 => Admission::Admitted,
            1 => Admission::Blocked(Blocked::new(
                until(at, now),
                BlockReason::ClientLockedOut,
                level(lvl),
            )),
            2 => Admission::Blocked(Blocked::new(
                until(at, now),
                BlockReason::RateLimited,
                level(lvl),
            )),
            _ => return Err(store_error(Error::unexpected(OP, format!("reply {r:?}")))),
        })
    }

    async fn record(
        &self,
        client: &AttemptKey,
        account: Option<&AttemptKey>,
        outcome: AttemptOutcome,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> Result<Verdict, AttemptStoreError> {
        const OP: &str = "attempts.record";
        let client_key = self.redis_key(client);
        let account_key = account.map(|a| self.redis_key(a));
        let mut keys = vec![client_key.as_str()];
        if let Some(a) = &account_key {
            keys.push(a);
        }
        let outcome = match outcome {
            AttemptOutcome::Success => "s",
            AttemptOutcome::Failure => "f",
            _ => "n",
        };
        let every_client = u8::from(policy.lockout_scope() == LockoutScope::EveryClient);
        let head = [
            secs_floor(now),
            secs_ceil(now),
            window_secs(policy),
            u64::from(policy.client_failures_before_lockout().get()),
            u64::from(policy.account_failures_before_lockout().get()),
            policy.decay_after().as_secs(),
        ];
        // Where each rung of the ladder would end if a lockout started now.
        let lock_ends: Vec<u64> = policy
            .ladder()
            .iter()
            .map(|step| secs_ceil(now.saturating_add(*step)))
            .collect();
        let has_account = u8::from(account.is_some());
        let mut args: Vec<&dyn ToArg> = vec![
            &head[0],
            &head[1],
            &head[2],
            &outcome,
            &has_account,
            &head[3],
            &head[4],
            &head[5],
            &every_client,
        ];
        args.extend(lock_ends.iter().map(|e| e as &dyn ToArg));
        let r: Vec<i64> = self
            .redis
            .script(OP, &RECORD, &keys, &args)
            .await
            .map_err(store_error)?;
        let [kind, a, b, c] = reply(OP, &r).map_err(store_error)?;
        Ok(match kind {
            0 => Verdict::Recorded(Recorded::new(level(a), level(b), c == 1)),
            1 => Verdict::Blocked(Blocked::new(
                until(a, now),
                BlockReason::AccountLockedOut,
                level(b),
            )),
            _ => return Err(store_error(Error::unexpected(OP, format!("reply {r:?}")))),
        })
    }

    async fn clear(
        &self,
        key: &AttemptKey,
        _policy: &BruteForcePolicy,
    ) -> Result<(), AttemptStoreError> {
        let key = self.redis_key(key);
        let _: i64 = self
            .redis
            .script("attempts.clear", &CLEAR, &[&key], &[])
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_the_strict_way() {
        let t = UnixTime::from_nanos(10 * NANOS + 1);
        assert_eq!(secs_floor(t), 10);
        assert_eq!(secs_ceil(t), 11);
        assert_eq!(secs_ceil(UnixTime::from_secs(10)), 10);
        assert_eq!(until(11, t), Duration::from_nanos(NANOS - 1));
        assert_eq!(until(9, t), Duration::ZERO);
        assert_eq!(until(-1, t), Duration::ZERO);
    }
}
