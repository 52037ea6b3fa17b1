//! [`RedisRecoveryCodeStore`]: recovery-code digests, each redeemed at most once.

use std::sync::LazyLock;

use async_trait::async_trait;
use auth_core::mfa::{RecoveryCodeDigest, RecoveryCodeStore};
use auth_core::store::StoreError;
use redis::Script;

use super::store_error;
use crate::backend::{RedisBackend, ToArg};
use crate::codec::hex;

static REPLACE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_recovery_replace.lua")));

/// A [`RecoveryCodeStore`] on Redis.
///
/// # Atomicity
///
/// Redeeming is one `SREM` of the code's digest: of concurrent redemptions of one code,
/// through any number of instances, exactly one removes it. Replacing a set is one script
/// (`DEL` then `SADD`), so no code of the old set survives a regeneration.
///
/// # Keys
///
/// `<prefix>mfa:recovery:<account>`: a set of HMAC-SHA256 digests (hex), never the codes; no
/// TTL (the set lives until regenerated, used up or removed with the credential).
#[derive(Clone, Debug)]
pub struct RedisRecoveryCodeStore {
    redis: RedisBackend,
}

impl RedisRecoveryCodeStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }

    fn key(&self, account: &str) -> String {
        self.redis.key(&["mfa:recovery:", account])
    }
}

#[async_trait]
impl RecoveryCodeStore for RedisRecoveryCodeStore {
    async fn replace(
        &self,
        account: &str,
        digests: &[RecoveryCodeDigest],
    ) -> Result<(), StoreError> {
        let key = self.key(account);
        let hexes: Vec<String> = digests.iter().map(|d| hex(d.as_bytes())).collect();
        let args: Vec<&dyn ToArg> = hexes.iter().map(|h| h as &dyn ToArg).collect();
        let _: i64 = self
            .redis
            .script("mfa.recovery.replace", &REPLACE, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn redeem(&self, account: &str, digest: &RecoveryCodeDigest) -> Result<bool, StoreError> {
        let removed: i64 = self
            .redis
            .command(
                "mfa.recovery.redeem",
                redis::cmd("SREM")
                    .arg(self.key(account))
                    .arg(hex(digest.as_bytes()))
                    .clone(),
            )
            .await
            .map_err(store_error)?;
        Ok(removed == 1)
    }

    async fn remaining(&self, account: &str) -> Result<usize, StoreError> {
        let n: u64 = self
            .redis
            .command(
                "mfa.recovery.remaining",
                redis::cmd("SCARD").arg(self.key(account)).clone(),
            )
            .await
            .map_err(store_error)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
