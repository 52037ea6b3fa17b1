//! [`MemoryRevocationStore`]: the in-memory default (dashmap), O(1) per check.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::store::{RevocationStore, TokenRef};
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::store::{Housekeeping, LazyPurge, StoreError};

/// How often [`MemoryRevocationStore`] purges expired entries by default.
pub const DEFAULT_REVOCATION_PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// An in-memory [`RevocationStore`].
///
/// # Cost
///
/// A check is at most two hash lookups (the `jti`, then the subject) in sharded hash maps:
/// O(1) whatever the number of revocations, and answered synchronously
/// ([`RevocationStore::is_revoked_now`]), so `BearerLayer` needs no boxed future. Keys are
/// hashed with the standard library's randomly keyed SipHash, so crafted `jti`s cannot force
/// collisions.
///
/// # Memory
///
/// One entry per revoked `jti` and per revoked subject. Expired entries are ignored by checks
/// at once and removed by a lazy purge that runs on writes at most once per interval (default
/// one minute, reading the store's clock), so memory is bounded by the revocations made within
/// one access-token lifetime.
///
/// ```
/// use auth_core::clock::{ManualClock, UnixTime};
/// use auth_core::revocation::MemoryRevocationStore;
/// use auth_core::store::Housekeeping;
///
/// let store = MemoryRevocationStore::new().with_clock(ManualClock::new(UnixTime::from_secs(5)));
/// assert!(store.is_empty());
/// ```
#[derive(Debug)]
pub struct MemoryRevocationStore {
    tokens: DashMap<Box<str>, UnixTime>,
    subjects: DashMap<Box<str>, Cutoff>,
    purge: LazyPurge,
    clock: Arc<dyn Clock>,
}

#[derive(Clone, Copy, Debug)]
struct Cutoff {
    issued_before: UnixTime,
    until: UnixTime,
}

impl Default for MemoryRevocationStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryRevocationStore {
    /// An empty store (system clock, one-minute purge interval).
    #[must_use]
    pub fn new() -> Self {
        Self {
            tokens: DashMap::new(),
            subjects: DashMap::new(),
            purge: LazyPurge::new(DEFAULT_REVOCATION_PURGE_INTERVAL),
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock the lazy purge reads (checks use the `now` they are given).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How often the lazy purge may run.
    #[must_use]
    pub fn with_purge_interval(mut self, interval: Duration) -> Self {
        self.purge = LazyPurge::new(interval);
        self
    }

    fn maybe_purge(&self) {
        let now = self.clock.now();
        if self.purge.due(now) {
            let removed = self.purge_expired(now);
            tracing::trace!(target: "auth::revocation", removed, "purged expired revocations");
        }
    }

    fn check(&self, token: TokenRef<'_>, now: UnixTime) -> bool {
        if let Some(jti) = token.jti()
            && self.tokens.get(jti).is_some_and(|until| *until > now)
        {
            return true;
        }
        self.subjects.get(token.subject()).is_some_and(|c| {
            c.until > now && token.issued_at().is_none_or(|iat| iat <= c.issued_before)
        })
    }
}

#[async_trait]
impl RevocationStore for MemoryRevocationStore {
    async fn revoke_token(&self, jti: &str, until: UnixTime) -> Result<bool, StoreError> {
        self.maybe_purge();
        Ok(match self.tokens.entry(jti.into()) {
            Entry::Occupied(mut e) => {
                let v = e.get_mut();
                *v = (*v).max(until);
                false
            }
            Entry::Vacant(e) => {
                e.insert(until);
                true
            }
        })
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        issued_before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError> {
        self.maybe_purge();
        match self.subjects.entry(subject.into()) {
            Entry::Occupied(mut e) => {
                let c = e.get_mut();
                c.issued_before = c.issued_before.max(issued_before);
                c.until = c.until.max(until);
            }
            Entry::Vacant(e) => {
                e.insert(Cutoff {
                    issued_before,
                    until,
                });
            }
        }
        Ok(())
    }

    async fn is_revoked(&self, token: TokenRef<'_>, now: UnixTime) -> Result<bool, StoreError> {
        Ok(self.check(token, now))
    }

    fn is_revoked_now(
        &self,
        token: TokenRef<'_>,
        now: UnixTime,
    ) -> Option<Result<bool, StoreError>> {
        Some(Ok(self.check(token, now)))
    }
}

impl Housekeeping for MemoryRevocationStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        let before = self.len();
        self.tokens.retain(|_, until| *until > now);
        self.subjects.retain(|_, c| c.until > now);
        before.saturating_sub(self.len())
    }

    fn len(&self) -> usize {
        self.tokens.len() + self.subjects.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    #[test]
    fn entries_only_ever_extend() {
        let s = MemoryRevocationStore::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(s.revoke_token("j", t(100)).await.unwrap());
            assert!(!s.revoke_token("j", t(50)).await.unwrap());
            let tok = TokenRef::new(Some("j"), "a", Some(t(1)));
            assert!(s.is_revoked(tok, t(99)).await.unwrap());
            s.revoke_subject("a", t(10), t(100)).await.unwrap();
            s.revoke_subject("a", t(5), t(50)).await.unwrap();
            let late = TokenRef::new(None, "a", Some(t(10)));
            assert!(s.is_revoked(late, t(99)).await.unwrap());
        });
    }

    #[test]
    fn a_token_without_iat_cannot_escape_a_subject_cutoff() {
        let s = MemoryRevocationStore::new();
        s.subjects.insert(
            "a".into(),
            Cutoff {
                issued_before: t(10),
                until: t(100),
            },
        );
        assert!(s.check(TokenRef::new(None, "a", None), t(20)));
        assert!(!s.check(TokenRef::new(None, "a", Some(t(11))), t(20)));
        assert!(!s.check(TokenRef::new(None, "b", None), t(20)));
    }
}
