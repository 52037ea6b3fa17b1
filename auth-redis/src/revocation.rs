//! [`RedisRevocationStore`]: revoked access tokens, visible to every instance.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use auth_core::clock::{Clock, SystemClock, UnixTime};
use auth_core::revocation::{RevocationStore, TokenRef};
use auth_core::store::StoreError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
/// A check is **one `MGET`** of the token's `jti` entry, its session's entry and its subject's
/// entry (one round trip), whatever the number of revocations; `BearerLayer` awaits it after
/// the signature check.
///
/// # Keys
///
/// Every entry is qualified by the token's issuer, written as `<iss>`: the issuer in base64url
/// without padding, or `-` for tokens without `iss` (never a base64url encoding, whose length
/// is never 1 modulo 4; and an encoding never holds `:`, so each key names exactly one
/// `(issuer, value)` pair):
///
/// - `<prefix>revoked:jti:<iss>:<jti>`: the instant the entry ends (`until`, 20-digit
///   nanoseconds);
/// - `<prefix>revoked:session:<iss>:<sid>`: the same, for every token of the session;
/// - `<prefix>revoked:subject:<iss>:<subject>`: `<issued_before> <until>`.
///
/// Each key's TTL is its `until` (read from this store's [`Clock`], so relative to now): the
/// list never holds more than the revocations of one access-token lifetime. Writes are one
/// script each that only ever extends an entry, so concurrent revocations cannot undo each
/// other.
///
/// Entries written by releases before the issuer was part of the key
/// (`revoked:jti:<jti>`, `revoked:subject:<subject>`) are not read: tokens revoked before an
/// upgrade count as revoked again only once revoked again, or expire within one access-token
/// lifetime.
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
/// revoker.revoke_session(Some("https://auth.example"), "family-1").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisRevocationStore {
    redis: RedisBackend,
    clock: Arc<dyn Clock>,
}

/// The issuer as it appears in keys: base64url without padding, or `-` without an issuer.
fn namespace(issuer: Option<&str>) -> String {
    issuer.map_or_else(|| "-".to_owned(), |iss| URL_SAFE_NO_PAD.encode(iss))
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

    fn jti_key(&self, ns: &str, jti: &str) -> String {
        self.redis.key(&["{revoked:", ns, "}:jti:", jti])
    }

    fn session_key(&self, ns: &str, session: &str) -> String {
        self.redis.key(&["{revoked:", ns, "}:session:", session])
    }

    fn subject_key(&self, ns: &str, subject: &str) -> String {
        self.redis.key(&["{revoked:", ns, "}:subject:", subject])
    }

    fn ttl(&self, until: UnixTime) -> u64 {
        ttl_ms(until.saturating_duration_since(self.clock.now()))
    }

    /// Lists `key` until `until` (only ever extending). Returns whether it is new.
    async fn revoke_until(
        &self,
        operation: &'static str,
        key: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        let args: [&dyn ToArg; 2] = [&time20(until), &self.ttl(until)];
        let newly: i64 = self
            .redis
            .script(operation, &REVOKE_TOKEN, &[key], &args)
            .await
            .map_err(store_error)?;
        Ok(newly == 1)
    }
}

fn store_error(e: Error) -> StoreError {
    StoreError::with_source(e.operation(), e)
}

/// `<issued_before> <until>`.
pub(crate) fn parse_cutoff(v: &str) -> Option<(UnixTime, UnixTime)> {
    let (before, until) = v.split_once(' ')?;
    Some((parse_time(before)?, parse_time(until)?))
}

#[async_trait]
impl RevocationStore for RedisRevocationStore {
    async fn revoke_token(
        &self,
        issuer: Option<&str>,
        jti: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        let key = self.jti_key(&namespace(issuer), jti);
        self.revoke_until("revocation.revoke_token", &key, until)
            .await
    }

    async fn revoke_subject(
        &self,
        issuer: Option<&str>,
        subject: &str,
        issued_before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError> {
        let key = self.subject_key(&namespace(issuer), subject);
        let args: [&dyn ToArg; 3] = [&time20(issued_before), &time20(until), &self.ttl(until)];
        let _: i64 = self
            .redis
            .script("revocation.revoke_subject", &REVOKE_SUBJECT, &[&key], &args)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn revoke_session(
        &self,
        issuer: Option<&str>,
        session: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        let key = self.session_key(&namespace(issuer), session);
        self.revoke_until("revocation.revoke_session", &key, until)
            .await
    }

    async fn is_revoked(&self, token: TokenRef<'_>, now: UnixTime) -> Result<bool, StoreError> {
        const OP: &str = "revocation.is_revoked";
        let unexpected = |what: String| store_error(Error::unexpected(OP, what));
        let ns = namespace(token.issuer());
        let mut cmd = redis::cmd("MGET");
        if let Some(jti) = token.jti() {
            cmd.arg(self.jti_key(&ns, jti));
        }
        if let Some(session) = token.session() {
            cmd.arg(self.session_key(&ns, session));
        }
        cmd.arg(self.subject_key(&ns, token.subject()));
        let values: Vec<Option<String>> = self.redis.command(OP, cmd).await.map_err(store_error)?;
        let until_entries =
            usize::from(token.jti().is_some()) + usize::from(token.session().is_some());
        if values.len() != until_entries + 1 {
            return Err(unexpected(format!("{} values", values.len())));
        }
        let mut values = values.into_iter();
        // In the order asked: the jti's and the session's entries (each an end instant), then
        // the subject's cutoff.
        for value in values.by_ref().take(until_entries).flatten() {
            let until = parse_time(&value).ok_or_else(|| unexpected("unreadable entry".into()))?;
            if until > now {
                return Ok(true);
            }
        }
        if let Some(Some(v)) = values.next() {
            let (issued_before, until) =
                parse_cutoff(&v).ok_or_else(|| unexpected("unreadable subject entry".into()))?;
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

    #[test]
    fn issuers_are_written_injectively_into_keys() {
        // Issue 12, item 7: one key per (issuer, value), and no issuer is "no issuer".
        assert_eq!(namespace(None), "-");
        assert_eq!(namespace(Some("")), "");
        assert_eq!(
            namespace(Some("https://idp.example")),
            "aHR0cHM6Ly9pZHAuZXhhbXBsZQ"
        );
        for iss in ["-", "a:b", "~", "\u{0}", "https://a.example/x?y=z"] {
            let ns = namespace(Some(iss));
            assert_ne!(ns, "-");
            assert!(!ns.contains(':'), "{ns}");
        }
    }
}
