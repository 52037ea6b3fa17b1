//! [`RedisRevocationStore`]: revoked access tokens, visible to every instance.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use auth_core::clock::{Clock, SystemClock, UnixTime};
use auth_core::revocation::{RevocationStore, TokenRef};
use auth_core::store::StoreError;
use redis::Script;

use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::{parse_time, time20, ttl_ms};

static REVOKE_TOKEN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/revoke_token.lua")));
static REVOKE_SUBJECT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/revoke_subject.lua")));

/// A [`RevocationStore`] on Redis: a logout at one instance rejects the token at every other.
///
/// # Cost
///
/// A check is **one `MGET`** of the token's `jti` entry and its subject's entry (one round
/// trip), whatever the number of revocations; `BearerLayer` awaits it after the signature
/// check.
///
/// # Keys
///
/// - `<prefix>revoked:jti:<jti>`: the instant the entry ends (`until`, 20-digit nanoseconds);
/// - `<prefix>revoked:subject:<subject>`: `<issued_before> <until>`.
///
/// Each key's TTL is its `until` (read from this store's [`Clock`], so relative to now): the
/// list never holds more than the revocations of one access-token lifetime. Writes are one
/// script each that only ever extends an entry, so concurrent revocations cannot undo each
/// other.
///
/// # Failures
///
/// A check or write that fails or times out returns [`StoreError`]: `BearerLayer` answers 503
/// `AUTH_BACKEND_UNAVAILABLE` (fail closed), never "not revoked".
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::revocation::{RevocationStore, Revoker};
/// use auth_redis::{RedisBackend, RedisRevocationStore};
/// use std::sync::Arc;
///
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379").build()?;
/// let store: Arc<dyn RevocationStore> = Arc::new(RedisRevocationStore::new(redis));
/// let revoker = Revoker::builder(store.clone()).build()?;
/// // BearerLayer::builder(verifier).revocation(store) checks it on every request.
/// # let _ = revoker;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisRevocationStore {
    redis: RedisBackend,
    clock: Arc<dyn Clock>,
}

impl RedisRevocationStore {
    /// A store on `redis`, with the system clock.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self {
            redis,
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock the entries' TTLs are computed from (checks use the `now` they are given).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn jti_key(&self, jti: &str) -> String {
        self.redis.key(&["revoked:jti:", jti])
    }

    fn subject_key(&self, subject: &str) -> String {
        self.redis.key(&["revoked:subject:", subject])
    }

    fn ttl(&self, until: UnixTime) -> u64 {
        ttl_ms(until.saturating_duration_since(self.clock.now()))
    }
}

fn store_error(e: Error) -> StoreError {
    StoreError::with_source(e.operation(), e)
}

/// `<issued_before> <until>`.
fn parse_cutoff(v: &str) -> Option<(UnixTime, UnixTime)> {
    let (before, until) = v.split_once(' ')?;
    Some((parse_time(before)?, parse_time(until)?))
}

#[async_trait]
impl RevocationStore for RedisRevocationStore {
    async fn revoke_token(&self, jti: &str, until: UnixTime) -> Result<bool, StoreError> {
        let key = self.jti_key(jti);
        let args: [&dyn ToArg; 2] = [&time20(until), &self.ttl(until)];
        let newly: i64 = self
            .redis
            .script("revocation.revoke_token", &REVOKE_TOKEN, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(newly == 1)
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        issued_before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError> {
        let key = self.subject_key(subject);
        let args: [&dyn ToArg; 3] = [&time20(issued_before), &time20(until), &self.ttl(until)];
        let _: i64 = self
            .redis
            .script("revocation.revoke_subject", &REVOKE_SUBJECT, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn is_revoked(&self, token: TokenRef<'_>, now: UnixTime) -> Result<bool, StoreError> {
        const OP: &str = "revocation.is_revoked";
        let subject_key = self.subject_key(token.subject());
        let mut cmd = redis::cmd("MGET");
        if let Some(jti) = token.jti() {
            cmd.arg(self.jti_key(jti));
        }
        cmd.arg(&subject_key);
        let values: Vec<Option<String>> = self.redis.command(OP, cmd).await.map_err(store_error)?;
        let (jti_value, subject_value) = match (token.jti(), values.as_slice()) {
            (Some(_), [j, s]) => (j.as_deref(), s.as_deref()),
            (None, [s]) => (None, s.as_deref()),
            _ => {
                return Err(store_error(Error::unexpected(
                    OP,
                    format!("{} values", values.len()),
                )));
            }
        };
        if let Some(v) = jti_value {
            let until = parse_time(v)
                .ok_or_else(|| store_error(Error::unexpected(OP, "unreadable jti entry")))?;
            if until > now {
                return Ok(true);
            }
        }
        if let Some(v) = subject_value {
            let (issued_before, until) = parse_cutoff(v)
                .ok_or_else(|| store_error(Error::unexpected(OP, "unreadable subject entry")))?;
            return Ok(until > now && token.issued_at().is_none_or(|iat| iat <= issued_before));
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_parse_from_two_times() {
        assert_eq!(
            parse_cutoff("00000000000000000010 00000000000000000020"),
            Some((UnixTime::from_nanos(10), UnixTime::from_nanos(20)))
        );
        assert_eq!(parse_cutoff("10"), None);
        assert_eq!(parse_cutoff("x y"), None);
    }
}
