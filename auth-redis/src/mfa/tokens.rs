//! [`RedisMfaTokenStore`]: pending logins by MFA token digest, used up atomically.

use std::sync::LazyLock;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::mfa::{MfaTokenHash, MfaTokenStore, PendingLogin};
use auth_core::store::StoreError;
use redis::Script;

use super::store_error;
use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::{hex, parse_time, time20, ttl_ms};

static INSERT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_token_insert.lua")));
static TAKE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_token_take.lua")));

/// A [`MfaTokenStore`] on Redis.
///
/// # Atomicity
///
/// [`take`](MfaTokenStore::take) reads and deletes the pending login in one script, so a token
/// completes at most one login whatever the concurrency and the instances.
///
/// # Keys
///
/// `<prefix>mfa:login:<sha256 hex>`: hash `subject`, `binding`, `started`, `exp`, with the
/// token's lifetime as TTL (5 minutes by default). Only the token's digest is in the key.
#[derive(Clone, Debug)]
pub struct RedisMfaTokenStore {
    redis: RedisBackend,
}

impl RedisMfaTokenStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }

    fn key(&self, token: &MfaTokenHash) -> String {
        self.redis.key(&["mfa:login:", &hex(token.as_bytes())])
    }
}

/// A pending login from `[subject, binding, started, exp]`, if still valid at `now`.
fn login(
    op: &'static str,
    v: &[Option<String>],
    now: UnixTime,
) -> Result<Option<PendingLogin>, StoreError> {
    let [subject, binding, started, exp] = v else {
        return Err(store_error(Error::unexpected(op, "reply length")));
    };
    let (Some(subject), Some(binding), Some(started), Some(exp)) = (subject, binding, started, exp)
    else {
        return Ok(None);
    };
    let (Some(started), Some(exp)) = (parse_time(started), parse_time(exp)) else {
        return Err(store_error(Error::unexpected(op, "time fields")));
    };
    Ok((now < exp).then(|| PendingLogin::new(subject.as_str(), binding.as_str(), started)))
}

#[async_trait]
impl MfaTokenStore for RedisMfaTokenStore {
    async fn insert(
        &self,
        token: &MfaTokenHash,
        login: &PendingLogin,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let key = self.key(token);
        let args: [&dyn ToArg; 5] = [
            &login.subject(),
            &login.binding(),
            &time20(login.started_at()),
            &time20(expires_at),
            &ttl_ms(expires_at.saturating_duration_since(now)),
        ];
        let r: i64 = self
            .redis
            .script("mfa.token.insert", &INSERT, &[&key], &args)
            .await
            .map_err(store_error)?;
        if r == 1 {
            Ok(())
        } else {
            Err(StoreError::new("mfa token digest already exists"))
        }
    }

    async fn get(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError> {
        const OP: &str = "mfa.token.get";
        let v: Vec<Option<String>> = self
            .redis
            .command(
                OP,
                redis::cmd("HMGET")
                    .arg(self.key(token))
                    .arg(&["subject", "binding", "started", "exp"])
                    .clone(),
            )
            .await
            .map_err(store_error)?;
        login(OP, &v, now)
    }

    async fn take(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError> {
        const OP: &str = "mfa.token.take";
        let key = self.key(token);
        let v: Vec<Option<String>> = self
            .redis
            .script(OP, &TAKE, &[&key], &[])
            .await
            .map_err(store_error)?;
        login(OP, &v, now)
    }
}
