//! [`MemoryRevocationStore`]: the in-memory default (dashmap), O(1) per check.

use std::fmt;
use std::sync::{Arc, OnceLock};
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
/// Entries are kept in one **namespace per issuer** (plus one for tokens without `iss`), each
/// with its own maps of revoked `jti`s, subjects and sessions. A check finds the token's
/// namespace by comparing its issuer with each namespace's (a handful: one per trusted issuer
/// that has revocations), then makes at most three hash lookups (the `jti`, the session, the
/// subject) in sharded hash maps: O(1) whatever the number of revocations, allocation-free,
/// and answered synchronously ([`RevocationStore::is_revoked_now`]), so `BearerLayer` needs no
/// boxed future. A token of an issuer without revocations costs no lookup at all. Keys are
/// hashed with the standard library's randomly keyed SipHash, so crafted `jti`s cannot force
/// collisions.
///
/// # Memory
///
/// One entry per revoked `jti`, subject and session, holding only the identifier and its times
/// (the issuer is stored once, in its namespace). Expired entries are ignored by checks at once
/// and removed by a lazy purge that runs on writes at most once per interval (default one
/// minute, reading the store's clock), so memory is bounded by the revocations made within one
/// access-token lifetime. A namespace, once created by a revocation for its issuer, stays for
/// the store's lifetime (a few kilobytes each; issuers come from verified tokens, so there are
/// no more of them than trusted issuers).
///
/// ```
/// use auth_core::clock::{ManualClock, UnixTime};
/// use auth_core::revocation::MemoryRevocationStore;
/// use auth_core::store::Housekeeping;
///
/// let store = MemoryRevocationStore::new().with_clock(ManualClock::new(UnixTime::from_secs(5)));
/// assert!(store.is_empty());
/// ```
pub struct MemoryRevocationStore {
    /// The namespace of tokens without an issuer, then (linked) one per issuer.
    namespaces: Namespace,
    purge: LazyPurge,
    clock: Arc<dyn Clock>,
}

/// The revocations of one issuer. Namespaces form an append-only list: readers follow it
/// without locks, and a writer appends a missing issuer's namespace with one `OnceLock`.
struct Namespace {
    issuer: Option<Box<str>>,
    tokens: DashMap<Box<str>, UnixTime>,
    subjects: DashMap<Box<str>, Cutoff>,
    sessions: DashMap<Box<str>, UnixTime>,
    next: OnceLock<Box<Namespace>>,
}

#[derive(Clone, Copy, Debug)]
struct Cutoff {
    issued_before: UnixTime,
    until: UnixTime,
}

impl Namespace {
    fn new(issuer: Option<&str>) -> Self {
        Self {
            issuer: issuer.map(Into::into),
            tokens: DashMap::new(),
            subjects: DashMap::new(),
            sessions: DashMap::new(),
            next: OnceLock::new(),
        }
    }

    fn is(&self, issuer: Option<&str>) -> bool {
        self.issuer.as_deref() == issuer
    }

    fn iter(&self) -> impl Iterator<Item = &Self> {
        std::iter::successors(Some(self), |ns| ns.next.get().map(|n| &**n))
    }

    fn len(&self) -> usize {
        self.tokens.len() + self.subjects.len() + self.sessions.len()
    }

    fn check(&self, token: TokenRef<'_>, now: UnixTime) -> bool {
        if let Some(jti) = token.jti()
            && self.tokens.get(jti).is_some_and(|until| *until > now)
        {
            return true;
        }
        if let Some(sid) = token.session()
            && self.sessions.get(sid).is_some_and(|until| *until > now)
        {
            return true;
        }
        self.subjects.get(token.subject()).is_some_and(|c| {
            c.until > now && token.issued_at().is_none_or(|iat| iat <= c.issued_before)
        })
    }
}

/// Inserts `until` for `key`, or extends the existing entry to it. Returns whether it is new.
fn extend(map: &DashMap<Box<str>, UnixTime>, key: &str, until: UnixTime) -> bool {
    match map.entry(key.into()) {
        Entry::Occupied(mut e) => {
            let v = e.get_mut();
            *v = (*v).max(until);
            false
        }
        Entry::Vacant(e) => {
            e.insert(until);
            true
        }
    }
}

impl Default for MemoryRevocationStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryRevocationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let issuers: Vec<Option<&str>> = self
            .namespaces
            .iter()
            .map(|n| n.issuer.as_deref())
            .collect();
        f.debug_struct("MemoryRevocationStore")
            .field("issuers", &issuers)
            .field("entries", &self.len())
            .field("purge", &self.purge)
            .field("clock", &self.clock)
            .finish()
    }
}

impl MemoryRevocationStore {
    /// An empty store (system clock, one-minute purge interval).
    #[must_use]
    pub fn new() -> Self {
        Self {
            namespaces: Namespace::new(None),
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

    /// The namespace of `issuer`, if anything was ever revoked for it.
    fn find(&self, issuer: Option<&str>) -> Option<&Namespace> {
        self.namespaces.iter().find(|ns| ns.is(issuer))
    }

    /// The namespace of `issuer`, appended if missing (once, however many writers race).
    fn namespace(&self, issuer: Option<&str>) -> &Namespace {
        let mut ns = &self.namespaces;
        while !ns.is(issuer) {
            // The first writer to reach the end appends `issuer`; a writer that loses the race
            // moves on to the winner's namespace and compares again.
            ns = ns.next.get_or_init(|| Box::new(Namespace::new(issuer)));
        }
        ns
    }

    fn check(&self, token: TokenRef<'_>, now: UnixTime) -> bool {
        self.find(token.issuer())
            .is_some_and(|ns| ns.check(token, now))
    }
}

#[async_trait]
impl RevocationStore for MemoryRevocationStore {
    async fn revoke_token(
        &self,
        issuer: Option<&str>,
        jti: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        self.maybe_purge();
        Ok(extend(&self.namespace(issuer).tokens, jti, until))
    }

    async fn revoke_subject(
        &self,
        issuer: Option<&str>,
        subject: &str,
        issued_before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError> {
        self.maybe_purge();
        match self.namespace(issuer).subjects.entry(subject.into()) {
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

    async fn revoke_session(
        &self,
        issuer: Option<&str>,
        session: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        self.maybe_purge();
        Ok(extend(&self.namespace(issuer).sessions, session, until))
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
        for ns in self.namespaces.iter() {
            ns.tokens.retain(|_, until| *until > now);
            ns.subjects.retain(|_, c| c.until > now);
            ns.sessions.retain(|_, until| *until > now);
        }
        before.saturating_sub(self.len())
    }

    fn len(&self) -> usize {
        self.namespaces.iter().map(Namespace::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn entries_only_ever_extend() {
        let s = MemoryRevocationStore::new();
        block_on(async {
            assert!(s.revoke_token(None, "j", t(100)).await.unwrap());
            assert!(!s.revoke_token(None, "j", t(50)).await.unwrap());
            let tok = TokenRef::new(Some("j"), "a", Some(t(1)));
            assert!(s.is_revoked(tok, t(99)).await.unwrap());
            s.revoke_subject(None, "a", t(10), t(100)).await.unwrap();
            s.revoke_subject(None, "a", t(5), t(50)).await.unwrap();
            let late = TokenRef::new(None, "a", Some(t(10)));
            assert!(s.is_revoked(late, t(99)).await.unwrap());
            assert!(s.revoke_session(None, "f", t(100)).await.unwrap());
            assert!(!s.revoke_session(None, "f", t(50)).await.unwrap());
            let in_session = TokenRef::new(None, "b", Some(t(1))).with_session(Some("f"));
            assert!(s.is_revoked(in_session, t(99)).await.unwrap());
        });
    }

    #[test]
    fn a_token_without_iat_cannot_escape_a_subject_cutoff() {
        let s = MemoryRevocationStore::new();
        s.namespaces.subjects.insert(
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

    #[test]
    fn each_issuer_gets_one_namespace_and_none_is_its_own() {
        // Issue 12, item 7: entries are qualified by the issuer; `None` and `Some("")` are two
        // namespaces, distinct from every other issuer's.
        let s = MemoryRevocationStore::new();
        block_on(async {
            for iss in [
                Some("https://a"),
                Some("https://b"),
                Some(""),
                Some("https://a"),
            ] {
                s.revoke_token(iss, "j", t(100)).await.unwrap();
            }
        });
        let issuers: Vec<_> = s.namespaces.iter().map(|n| n.issuer.as_deref()).collect();
        assert_eq!(
            issuers,
            [None, Some("https://a"), Some("https://b"), Some("")]
        );
        assert_eq!(s.len(), 3);
        assert!(!s.check(TokenRef::new(Some("j"), "x", None), t(1)));
        assert!(s.check(
            TokenRef::new(Some("j"), "x", None).with_issuer(Some("")),
            t(1)
        ));
        assert!(!s.check(
            TokenRef::new(Some("j"), "x", None).with_issuer(Some("https://c")),
            t(1)
        ));
    }

    #[test]
    fn writers_racing_for_a_new_issuer_share_one_namespace() {
        let s = Arc::new(MemoryRevocationStore::new());
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    block_on(s.revoke_token(Some("https://idp"), &format!("j{i}"), t(100)))
                        .unwrap();
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(s.namespaces.iter().count(), 2);
        assert_eq!(s.len(), 8);
    }

    #[test]
    fn the_purge_empties_every_namespace() {
        let s = MemoryRevocationStore::new();
        block_on(async {
            s.revoke_token(Some("https://a"), "j", t(10)).await.unwrap();
            s.revoke_session(Some("https://b"), "f", t(20))
                .await
                .unwrap();
            s.revoke_subject(None, "a", t(1), t(30)).await.unwrap();
        });
        assert_eq!(s.purge_expired(t(20)), 2);
        assert_eq!(s.purge_expired(t(30)), 1);
        assert!(s.is_empty());
    }
}
