//! [`RedisAuthContextStore`]: each session's authentication context, for refreshes to copy.

use std::sync::LazyLock;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::mfa::{AuthContext, AuthContextStore};
use auth_core::store::StoreError;
use redis::Script;

use super::store_error;
use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::{parse_time, time20, ttl_ms};

static SAVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_context_save.lua")));

/// An [`AuthContextStore`] on Redis.
///
/// # Keys
///
/// `<prefix>mfa:context:<session>`: hash `claims` (the context's `amr`, `acr`, `auth_time` as
/// JSON) and `exp`, with the session's remaining lifetime as TTL.
#[derive(Clone, Debug)]
pub struct RedisAuthContextStore {
    redis: RedisBackend,
}

impl RedisAuthContextStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }

    fn key(&self, session: &str) -> String {
        self.redis.key(&["mfa:context:", session])
    }
}

#[async_trait]
impl AuthContextStore for RedisAuthContextStore {
    async fn save(
        &self,
        session: &str,
        context: &AuthContext,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let key = self.key(session);
        let claims = serde_json::Value::Object(context.claims()).to_string();
        let args: [&dyn ToArg; 3] = [
            &claims,
            &time20(expires_at),
            &ttl_ms(expires_at.saturating_duration_since(now)),
        ];
        let _: i64 = self
            .redis
            .script("mfa.context.save", &SAVE, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn load(&self, session: &str, now: UnixTime) -> Result<Option<AuthContext>, StoreError> {
        const OP: &str = "mfa.context.load";
        let v: (Option<String>, Option<String>) = self
            .redis
            .command(
                OP,
                redis::cmd("HMGET")
                    .arg(self.key(session))
                    .arg(&["claims", "exp"])
                    .clone(),
            )
            .await
            .map_err(store_error)?;
        let (Some(claims), Some(exp)) = v else {
            return Ok(None);
        };
        let exp = parse_time(&exp).ok_or_else(|| store_error(Error::unexpected(OP, "exp")))?;
        if now >= exp {
            return Ok(None);
        }
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&claims)
            .map_err(|e| store_error(Error::unexpected(OP, format!("claims: {e}"))))?;
        AuthContext::from_claims(&map)
            .map(Some)
            .ok_or_else(|| store_error(Error::unexpected(OP, "claims without auth_time")))
    }

    async fn remove(&self, session: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .redis
            .command(
                "mfa.context.remove",
                redis::cmd("DEL").arg(self.key(session)).clone(),
            )
            .await
            .map_err(store_error)?;
        Ok(n == 1)
    }
}
