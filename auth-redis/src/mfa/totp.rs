//! [`RedisTotpStore`]: TOTP credentials with an atomic replay guard across instances.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::mfa::{
    CredentialId, CredentialState, SealedSecret, TotpAlgorithm, TotpCredential, TotpParams,
    TotpStore,
};
use auth_core::store::StoreError;
use redis::Script;

use super::{step20, store_error};
use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::{parse_time, time20, ttl_ms};

static PUT_PENDING: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_totp_put_pending.lua")));
static ACTIVATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_totp_activate.lua")));
static CONSUME: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_totp_consume.lua")));
static REMOVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/mfa_totp_remove.lua")));

/// A [`TotpStore`] on Redis: a code is accepted once, whichever instance the requests reach.
///
/// # Atomicity
///
/// [`consume_step`](TotpStore::consume_step) is one Lua script: it compares the presented step
/// with the last accepted one and records it in one step on the server, so of any number of
/// concurrent submissions of one code, through any number of instances, exactly one is
/// accepted. Activation (pending to active, for exactly the enrolment that was checked) and
/// the "never replace an active credential" rule of enrolment are one script each.
///
/// # Keys
///
/// `<prefix>mfa:totp:<account>`: hash `id`, `secret` (the **sealed** secret, base64url),
/// `alg`, `digits`, `period`, `created`, `state` (`pending`/`active`), `exp` (pending only),
/// `step` (active only, the last accepted step). A pending credential expires with its
/// enrolment; an active one has no TTL (it lives until it is disabled).
#[derive(Clone, Debug)]
pub struct RedisTotpStore {
    redis: RedisBackend,
}

impl RedisTotpStore {
    /// A store on `redis`.
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self { redis }
    }

    fn key(&self, account: &str) -> String {
        self.redis.key(&["mfa:totp:", account])
    }
}

pub(crate) fn parse(
    op: &'static str,
    h: &HashMap<String, String>,
) -> Result<TotpCredential, StoreError> {
    let field = |name: &str| h.get(name).map(String::as_str);
    let bad = |what: &str| store_error(Error::unexpected(op, format!("credential field {what}")));
    let id = CredentialId::new(field("id").ok_or_else(|| bad("id"))?);
    let sealed = field("secret")
        .and_then(SealedSecret::from_base64)
        .ok_or_else(|| bad("secret"))?;
    let alg = field("alg")
        .and_then(TotpAlgorithm::from_name)
        .ok_or_else(|| bad("alg"))?;
    let digits: u8 = field("digits")
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| bad("digits"))?;
    let period: u64 = field("period")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| bad("period"))?;
    let params =
        TotpParams::new(alg, digits, Duration::from_secs(period)).map_err(|_| bad("params"))?;
    let created = field("created")
        .and_then(parse_time)
        .ok_or_else(|| bad("created"))?;
    let state = match field("state") {
        Some("pending") => CredentialState::Pending {
            expires_at: field("exp")
                .and_then(parse_time)
                .ok_or_else(|| bad("exp"))?,
        },
        Some("active") => CredentialState::Active {
            last_step: field("step")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("step"))?,
        },
        _ => return Err(bad("state")),
    };
    Ok(TotpCredential::new(id, sealed, params, state, created))
}

#[async_trait]
impl TotpStore for RedisTotpStore {
    async fn put_pending(
        &self,
        account: &str,
        credential: &TotpCredential,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let CredentialState::Pending { expires_at } = credential.state() else {
            return Err(StoreError::new("put_pending needs a pending credential"));
        };
        let key = self.key(account);
        let params = credential.params();
        let args: [&dyn ToArg; 8] = [
            &credential.id().as_str(),
            &credential.sealed_secret().to_base64(),
            &params.algorithm().as_str(),
            &params.digits(),
            &params.period().as_secs(),
            &time20(credential.created_at()),
            &time20(expires_at),
            &ttl_ms(expires_at.saturating_duration_since(now)),
        ];
        let r: i64 = self
            .redis
            .script("mfa.totp.put_pending", &PUT_PENDING, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(r == 1)
    }

    async fn get(
        &self,
        account: &str,
        now: UnixTime,
    ) -> Result<Option<TotpCredential>, StoreError> {
        const OP: &str = "mfa.totp.get";
        let h: HashMap<String, String> = self
            .redis
            .command(OP, redis::cmd("HGETALL").arg(self.key(account)).clone())
            .await
            .map_err(store_error)?;
        if h.is_empty() {
            return Ok(None);
        }
        let c = parse(OP, &h)?;
        // The key's TTL is computed from the caller's clock, but decide with `now` too.
        Ok(match c.state() {
            CredentialState::Pending { expires_at } if expires_at <= now => None,
            _ => Some(c),
        })
    }

    async fn activate(
        &self,
        account: &str,
        id: &CredentialId,
        step: u64,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let key = self.key(account);
        let args: [&dyn ToArg; 3] = [&id.as_str(), &step20(step), &time20(now)];
        let r: i64 = self
            .redis
            .script("mfa.totp.activate", &ACTIVATE, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(r == 1)
    }

    async fn consume_step(
        &self,
        account: &str,
        id: &CredentialId,
        step: u64,
    ) -> Result<bool, StoreError> {
        let key = self.key(account);
        let args: [&dyn ToArg; 2] = [&id.as_str(), &step20(step)];
        let r: i64 = self
            .redis
            .script("mfa.totp.consume_step", &CONSUME, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(r == 1)
    }

    async fn remove(&self, account: &str) -> Result<bool, StoreError> {
        let key = self.key(account);
        let r: i64 = self
            .redis
            .script("mfa.totp.remove", &REMOVE, &[&key], &[])
            .await
            .map_err(store_error)?;
        Ok(r == 1)
    }
}
