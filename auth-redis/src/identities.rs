//! [`RedisIdentityStore`] and [`RedisUsedStateStore`]: the stores of `auth_core::oidc_login`.

use std::sync::LazyLock;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::oidc_login::{
    ExternalIdentity, IdentityStore, LinkOutcome, LinkedIdentity, UsedStateStore,
};
use auth_core::store::StoreError;
use redis::Script;

use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::{hex, parse_time, time20};

static LINK: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/oidc_identity_link.lua")));
static UNLINK: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/oidc_identity_unlink.lua")));
static LIST: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/oidc_identity_list.lua")));

fn store_error(e: Error) -> StoreError {
    StoreError::with_source(e.operation(), e)
}

/// An [`IdentityStore`] on Redis.
///
/// # Atomicity
///
/// [`link_if_absent`](IdentityStore::link_if_absent) checks and links in one script, so two
/// instances completing the first sign-in of one identity at once link it to one account.
///
/// # Keys
///
/// - `<prefix>oidc:id:<hex iss>.<hex sub>`: hash `iss`, `sub`, `provider`, `account`,
///   `linked_at`; no TTL (a link lives until unlinked).
/// - `<prefix>oidc:account:<hex account>`: sorted set of the account's identity members
///   (`<hex iss>.<hex sub>`) scored by link time.
///
/// Issuers, subjects and accounts are hex-encoded in keys, so no value can forge a separator.
#[derive(Clone, Debug)]
pub struct RedisIdentityStore {
    redis: RedisBackend,
}

impl RedisIdentityStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }

    fn member(identity: &ExternalIdentity) -> String {
        format!(
            "{}.{}",
            hex(identity.issuer().as_bytes()),
            hex(identity.subject().as_bytes())
        )
    }

    fn identity_prefix(&self) -> String {
        self.redis.key(&["{oidc}:id:"])
    }

    fn identity_key(&self, identity: &ExternalIdentity) -> String {
        self.redis.key(&["{oidc}:id:", &Self::member(identity)])
    }

    fn account_key(&self, account: &str) -> String {
        self.redis
            .key(&["{oidc}:account:", &hex(account.as_bytes())])
    }
}

/// A link from `[iss, sub, provider, account, linked_at]`; `None` when the hash is gone.
pub(crate) fn link(
    op: &'static str,
    v: &[Option<String>],
) -> Result<Option<LinkedIdentity>, StoreError> {
    let [iss, sub, provider, account, linked_at] = v else {
        return Err(store_error(Error::unexpected(op, "reply length")));
    };
    let (Some(iss), Some(sub), Some(provider), Some(account), Some(linked_at)) =
        (iss, sub, provider, account, linked_at)
    else {
        return Ok(None);
    };
    let linked_at =
        parse_time(linked_at).ok_or_else(|| store_error(Error::unexpected(op, "linked_at")))?;
    Ok(Some(LinkedIdentity::new(
        ExternalIdentity::new(iss.as_str(), sub.as_str()),
        provider.as_str(),
        account.as_str(),
        linked_at,
    )))
}

#[async_trait]
impl IdentityStore for RedisIdentityStore {
    async fn link_if_absent(&self, l: &LinkedIdentity) -> Result<LinkOutcome, StoreError> {
        const OP: &str = "oidc.identity.link";
        l.check()?;
        let id = l.identity();
        let (id_key, account_key) = (self.identity_key(id), self.account_key(l.account()));
        let args: [&dyn ToArg; 7] = [
            &id.issuer(),
            &id.subject(),
            &l.provider(),
            &l.account(),
            &time20(l.linked_at()),
            &l.linked_at().as_secs(),
            &Self::member(id),
        ];
        let v: Vec<Option<String>> = self
            .redis
            .script(OP, &LINK, &[&id_key, &account_key], &args)
            .await
            .map_err(store_error)?;
        if v.is_empty() {
            return Ok(LinkOutcome::Linked);
        }
        match link(OP, &v)? {
            Some(existing) => Ok(LinkOutcome::Existing(existing)),
            None => Err(store_error(Error::unexpected(OP, "partial link"))),
        }
    }

    async fn find(
        &self,
        identity: &ExternalIdentity,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        const OP: &str = "oidc.identity.find";
        let v: Vec<Option<String>> = self
            .redis
            .command(
                OP,
                redis::cmd("HMGET")
                    .arg(self.identity_key(identity))
                    .arg(&["iss", "sub", "provider", "account", "linked_at"])
                    .clone(),
            )
            .await
            .map_err(store_error)?;
        link(OP, &v)
    }

    async fn list_for_account(&self, account: &str) -> Result<Vec<LinkedIdentity>, StoreError> {
        const OP: &str = "oidc.identity.list";
        let key = self.account_key(account);
        let prefix = self.identity_prefix();
        let args: [&dyn ToArg; 2] = [&prefix, &account];
        let rows: Vec<Vec<Option<String>>> = self
            .redis
            .script(OP, &LIST, &[&key], &args)
            .await
            .map_err(store_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(l) = link(OP, &row)? {
                out.push(l);
            }
        }
        Ok(out)
    }

    async fn unlink(&self, identity: &ExternalIdentity, account: &str) -> Result<bool, StoreError> {
        const OP: &str = "oidc.identity.unlink";
        let (id_key, account_key) = (self.identity_key(identity), self.account_key(account));
        let member = Self::member(identity);
        let args: [&dyn ToArg; 2] = [&account, &member];
        let r: i64 = self
            .redis
            .script(OP, &UNLINK, &[&id_key, &account_key], &args)
            .await
            .map_err(store_error)?;
        Ok(r == 1)
    }
}

/// A [`UsedStateStore`] on Redis: `SET <prefix>oidc:used:<state digest> 1 NX PX <ttl>`, one
/// atomic command, so a callback replayed to another instance is refused too. The key lives
/// until the transaction would have expired.
#[derive(Clone, Debug)]
pub struct RedisUsedStateStore {
    redis: RedisBackend,
}

impl RedisUsedStateStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl UsedStateStore for RedisUsedStateStore {
    async fn mark_used(
        &self,
        state_id: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        const OP: &str = "oidc.state.mark_used";
        if now >= expires_at {
            // Expired transactions are refused before this; nothing to remember.
            return Ok(false);
        }
        let key = self.redis.key(&["oidc:used:", &hex(state_id.as_bytes())]);
        self.redis
            .set_once(OP, key, expires_at.saturating_duration_since(now))
            .await
            .map_err(store_error)
    }
}
