//! [`RedisRefreshStore`]: refresh-token families with atomic rotation across instances.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::refresh::{
    DEFAULT_EXPIRED_RETENTION, FamilyId, NewFamily, NewToken, RefreshTokenStore, RevokedFamilies,
    RotateOutcome, TokenHash,
};
use auth_core::store::StoreError;
use redis::Script;

use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::{hex, time20, ttl_ms};

static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/refresh_common.lua"),
        include_str!("lua/refresh_insert.lua")
    ))
});
static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/refresh_common.lua"),
        include_str!("lua/refresh_rotate.lua")
    ))
});
static REVOKE_FAMILY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/refresh_revoke_family.lua")));
static REVOKE_FAMILY_OF: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/refresh_revoke_family_of.lua")));
static REVOKE_SUBJECT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/refresh_revoke_subject.lua")));

/// A [`RefreshTokenStore`] on Redis: one rotation wins, whichever instance the requests reach.
///
/// # Atomicity
///
/// [`rotate`](RefreshTokenStore::rotate) is one Lua script (one round trip): it reads the
/// presented token and its family, and either marks the token used and stores the replacement,
/// or reports reuse and revokes the family, in one step on the server. Of any number of
/// concurrent rotations of one token, through any number of instances, exactly one gets
/// [`RotateOutcome::Rotated`]; the others see a used token, and the family dies for everyone.
///
/// # Keys
///
/// - `<prefix>refresh:token:<sha256 hex>`: hash `family`, `exp`, `used`;
/// - `<prefix>refresh:family:<family id>`: hash `subject`, `revoked`, `exp` (latest expiry of
///   its tokens);
/// - `<prefix>refresh:subject:<subject>`: set of the subject's family ids.
///
/// Only digests are stored, never tokens. Every key expires at its token's (or family's latest
/// token's) expiry plus the retention period (default 7 days, as the in-memory store), so a
/// used token is remembered for reuse detection for as long as it could have been valid and
/// expired tokens still answer `REFRESH_TOKEN_EXPIRED`; then it leaves by itself.
///
/// # Failures
///
/// Every operation fails with [`StoreError`] after the backend's timeout; `RefreshTokens`
/// turns that into 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed). A rotation that timed out is
/// indeterminate: it may have been applied, in which case the client's retry with the same
/// token counts as reuse.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::refresh::RefreshTokens;
/// use auth_redis::{RedisBackend, RedisRefreshStore};
///
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379").build()?;
/// let refresh = RefreshTokens::builder(RedisRefreshStore::new(redis)).build()?;
/// let session = refresh.issue("alice").await?;
/// let next = refresh.rotate(session.token().as_str()).await?;
/// # let _ = next;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisRefreshStore {
    redis: RedisBackend,
    retention: Duration,
}

impl RedisRefreshStore {
    /// A store on `redis`, remembering tokens [`DEFAULT_EXPIRED_RETENTION`] (7 days) past their
    /// expiry.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self {
            redis,
            retention: DEFAULT_EXPIRED_RETENTION,
        }
    }

    /// How long a token is remembered after its expiry (default 7 days).
    #[must_use]
    pub fn with_expired_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    fn token_key(&self, hash: &TokenHash) -> String {
        self.redis.key(&["{refresh}:token:", &hex(hash.as_bytes())])
    }

    fn family_key(&self, family: &FamilyId) -> String {
        self.redis.key(&["{refresh}:family:", family.as_str()])
    }

    fn subject_key(&self, subject: &str) -> String {
        self.redis.key(&["{refresh}:subject:", subject])
    }

    /// TTL of a token issued at `now` that expires at `token.expires_at()`.
    fn ttl(&self, token: &NewToken, now: auth_core::clock::UnixTime) -> u64 {
        ttl_ms(
            token
                .expires_at()
                .saturating_duration_since(now)
                .saturating_add(self.retention),
        )
    }
}

fn store_error(e: Error) -> StoreError {
    StoreError::with_source(e.operation(), e)
}

#[async_trait]
impl RefreshTokenStore for RedisRefreshStore {
    async fn insert_family(&self, new: NewFamily) -> Result<(), StoreError> {
        let token = new.token();
        let family_key = self.family_key(new.family());
        let token_key = self.token_key(&token.hash());
        let subject_key = self.subject_key(new.subject());
        let args: [&dyn ToArg; 5] = [
            &self.redis.key(&["{refresh}:"]),
            &new.family().as_str(),
            &new.subject(),
            &time20(token.expires_at()),
            &self.ttl(token, token.issued_at()),
        ];
        let r: i64 = self
            .redis
            .script(
                "refresh.insert_family",
                &INSERT,
                &[&family_key, &token_key, &subject_key],
                &args,
            )
            .await
            .map_err(store_error)?;
        match r {
            0 => Ok(()),
            1 => Err(StoreError::new("refresh family id already exists")),
            _ => Err(StoreError::new("refresh token digest already exists")),
        }
    }

    async fn rotate(
        &self,
        presented: &TokenHash,
        replacement: NewToken,
        now: auth_core::clock::UnixTime,
    ) -> Result<RotateOutcome, StoreError> {
        const OP: &str = "refresh.rotate";
        let presented_key = self.token_key(presented);
        let replacement_key = self.token_key(&replacement.hash());
        let args: [&dyn ToArg; 4] = [
            &self.redis.key(&["{refresh}:"]),
            &time20(now),
            &time20(replacement.expires_at()),
            &self.ttl(&replacement, now),
        ];
        let r: Vec<String> = self
            .redis
            .script(OP, &ROTATE, &[&presented_key, &replacement_key], &args)
            .await
            .map_err(store_error)?;
        let outcome = match r.as_slice() {
            [kind, family, subject] if kind == "rotated" => RotateOutcome::Rotated {
                family: FamilyId::new(family.as_str()),
                subject: subject.clone(),
            },
            [kind, family, subject] if kind == "reused" => RotateOutcome::Reused {
                family: FamilyId::new(family.as_str()),
                subject: subject.clone(),
            },
            [kind] if kind == "revoked" => RotateOutcome::Revoked,
            [kind] if kind == "expired" => RotateOutcome::Expired,
            [kind] if kind == "unknown" => RotateOutcome::Unknown,
            [kind] if kind == "duplicate" => {
                return Err(StoreError::new("refresh token digest already exists"));
            }
            _ => return Err(store_error(Error::unexpected(OP, format!("reply {r:?}")))),
        };
        Ok(outcome)
    }

    async fn revoke_family(&self, family: &FamilyId) -> Result<bool, StoreError> {
        let key = self.family_key(family);
        let r: i64 = self
            .redis
            .script("refresh.revoke_family", &REVOKE_FAMILY, &[&key], &[])
            .await
            .map_err(store_error)?;
        Ok(r == 1)
    }

    async fn revoke_family_of(&self, token: &TokenHash) -> Result<Option<FamilyId>, StoreError> {
        let key = self.token_key(token);
        let args: [&dyn ToArg; 1] = [&self.redis.key(&["{refresh}:"])];
        let r: Option<String> = self
            .redis
            .script(
                "refresh.revoke_family_of",
                &REVOKE_FAMILY_OF,
                &[&key],
                &args,
            )
            .await
            .map_err(store_error)?;
        Ok(r.map(FamilyId::new))
    }

    async fn revoke_subject(&self, subject: &str) -> Result<RevokedFamilies, StoreError> {
        const OP: &str = "refresh.revoke_subject";
        let key = self.subject_key(subject);
        let args: [&dyn ToArg; 1] = [&self.redis.key(&["{refresh}:"])];
        let reply: Vec<String> = self
            .redis
            .script(OP, &REVOKE_SUBJECT, &[&key], &args)
            .await
            .map_err(store_error)?;
        let mut reply = reply.into_iter();
        let newly = reply
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| store_error(Error::unexpected(OP, "no count")))?;
        Ok(RevokedFamilies::new(
            reply.map(FamilyId::new).collect(),
            newly,
        ))
    }
}
