//! [`MemoryRefreshStore`]: the in-memory default (dashmap), with lazy purging.

use std::time::Duration;

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::store::{NewFamily, NewToken, RefreshTokenStore, RevokedFamilies, RotateOutcome};
use super::token::{FamilyId, TokenHash};
use crate::clock::UnixTime;
use crate::store::{Housekeeping, LazyPurge, StoreError};

/// How often the in-memory stores purge expired entries by default.
pub const DEFAULT_PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// How long [`MemoryRefreshStore`] remembers a token after it expired by default, so that it
/// still answers `REFRESH_TOKEN_EXPIRED` (not `INVALID_REFRESH_TOKEN`) and a used one still
/// counts as reuse.
pub const DEFAULT_EXPIRED_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// An in-memory [`RefreshTokenStore`] for single-process deployments, tests and demos.
///
/// # Atomicity
///
/// Each family's entry is the serialization point: `rotate` holds the family's entry lock while
/// it checks the presented token, marks it used and inserts the replacement, so concurrent
/// rotations of one family run one after the other and exactly one caller wins a given token.
/// Lock order is always family, then token, never the reverse, so there is no deadlock.
///
/// # Memory
///
/// One entry per token (used tokens are kept for reuse detection), one per family and one per
/// user. A token is remembered until its expiry plus a retention period (default 7 days, see
/// [`DEFAULT_EXPIRED_RETENTION`]); then it, families without remembered tokens and users without
/// families are purged lazily: the first operation after each purge interval (default one
/// minute) sweeps the maps. Memory is therefore bounded by the tokens issued within one token
/// lifetime plus the retention. [`Housekeeping`] lets tests and operators purge and count
/// directly.
///
/// ```
/// use auth_core::refresh::MemoryRefreshStore;
/// use auth_core::store::Housekeeping;
/// use std::time::Duration;
///
/// let store = MemoryRefreshStore::with_purge_interval(Duration::from_secs(300))
///     .with_expired_retention(Duration::from_secs(24 * 3600));
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Debug)]
pub struct MemoryRefreshStore {
    tokens: DashMap<TokenHash, TokenEntry>,
    families: DashMap<FamilyId, FamilyEntry>,
    subjects: DashMap<Box<str>, Vec<FamilyId>>,
    purge: LazyPurge,
    retention: Duration,
}

#[derive(Debug)]
struct TokenEntry {
    family: FamilyId,
    expires_at: UnixTime,
    used: bool,
}

#[derive(Debug)]
struct FamilyEntry {
    subject: Box<str>,
    revoked: bool,
    /// The latest expiry of any of its tokens; the family can be purged after it.
    expires_at: UnixTime,
}

impl Default for MemoryRefreshStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryRefreshStore {
    /// An empty store that purges expired entries at most once a minute.
    #[must_use]
    pub fn new() -> Self {
        Self::with_purge_interval(DEFAULT_PURGE_INTERVAL)
    }

    /// An empty store that purges expired entries at most once per `interval`.
    #[must_use]
    pub fn with_purge_interval(interval: Duration) -> Self {
        Self {
            tokens: DashMap::new(),
            families: DashMap::new(),
            subjects: DashMap::new(),
            purge: LazyPurge::new(interval),
            retention: DEFAULT_EXPIRED_RETENTION,
        }
    }

    /// How long a token is remembered after its expiry (default 7 days). Zero purges tokens as
    /// soon as they expire; an expired token then answers like an unknown one.
    #[must_use]
    pub fn with_expired_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    fn maybe_purge(&self, now: UnixTime) {
        if self.purge.due(now) {
            let removed = self.purge_expired(now);
            tracing::trace!(target: "auth::refresh", removed, "purged expired refresh tokens");
        }
    }

    fn revoke_family_entry(&self, family: &FamilyId) -> bool {
        match self.families.get_mut(family) {
            Some(mut f) if !f.revoked => {
                f.revoked = true;
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl RefreshTokenStore for MemoryRefreshStore {
    async fn insert_family(&self, new: NewFamily) -> Result<(), StoreError> {
        let now = new.token().issued_at();
        self.maybe_purge(now);
        let token = *new.token();
        match self.families.entry(new.family().clone()) {
            Entry::Occupied(_) => return Err(StoreError::new("refresh family id already exists")),
            Entry::Vacant(v) => {
                // Family first, then token: the same order as `rotate`.
                match self.tokens.entry(token.hash()) {
                    Entry::Occupied(_) => {
                        return Err(StoreError::new("refresh token digest already exists"));
                    }
                    Entry::Vacant(t) => {
                        t.insert(TokenEntry {
                            family: new.family().clone(),
                            expires_at: token.expires_at(),
                            used: false,
                        });
                    }
                }
                v.insert(FamilyEntry {
                    subject: new.subject().into(),
                    revoked: false,
                    expires_at: token.expires_at(),
                });
            }
        }
        self.subjects
            .entry(new.subject().into())
            .or_default()
            .push(new.family().clone());
        Ok(())
    }

    async fn rotate(
        &self,
        presented: &TokenHash,
        replacement: NewToken,
        now: UnixTime,
    ) -> Result<RotateOutcome, StoreError> {
        self.maybe_purge(now);
        // Find the family without holding the token's lock, then lock the family: every
        // rotation of this family is serialized from here on.
        let Some(family_id) = self.tokens.get(presented).map(|t| t.family.clone()) else {
            return Ok(RotateOutcome::Unknown);
        };
        let Some(mut family) = self.families.get_mut(&family_id) else {
            return Ok(RotateOutcome::Unknown);
        };
        let outcome = {
            let Some(mut token) = self.tokens.get_mut(presented) else {
                return Ok(RotateOutcome::Unknown);
            };
            if token.used {
                family.revoked = true;
                return Ok(RotateOutcome::Reused {
                    family: family_id,
                    subject: family.subject.to_string(),
                });
            }
            if family.revoked {
                return Ok(RotateOutcome::Revoked);
            }
            if now >= token.expires_at {
                return Ok(RotateOutcome::Expired);
            }
            token.used = true;
            RotateOutcome::Rotated {
                family: family_id.clone(),
                subject: family.subject.to_string(),
            }
            // The token's guard is dropped here, before the replacement (which may hash to the
            // same shard) is inserted.
        };
        match self.tokens.entry(replacement.hash()) {
            Entry::Occupied(_) => {
                return Err(StoreError::new("refresh token digest already exists"));
            }
            Entry::Vacant(v) => {
                v.insert(TokenEntry {
                    family: family_id,
                    expires_at: replacement.expires_at(),
                    used: false,
                });
            }
        }
        family.expires_at = family.expires_at.max(replacement.expires_at());
        Ok(outcome)
    }

    async fn revoke_family(&self, family: &FamilyId) -> Result<bool, StoreError> {
        Ok(self.revoke_family_entry(family))
    }

    async fn revoke_family_of(&self, token: &TokenHash) -> Result<Option<FamilyId>, StoreError> {
        let Some(family) = self.tokens.get(token).map(|t| t.family.clone()) else {
            return Ok(None);
        };
        self.revoke_family_entry(&family);
        Ok(Some(family))
    }

    async fn revoke_subject(&self, subject: &str) -> Result<RevokedFamilies, StoreError> {
        let mut families = self
            .subjects
            .get(subject)
            .map(|f| f.clone())
            .unwrap_or_default();
        // Families purged since (expired) are not reported, as the Redis store drops them.
        families.retain(|f| self.families.contains_key(f));
        let newly = families
            .iter()
            .filter(|f| self.revoke_family_entry(f))
            .count();
        Ok(RevokedFamilies::new(families, newly))
    }
}

impl Housekeeping for MemoryRefreshStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        let before = self.tokens.len();
        let keep = |expires_at: UnixTime| expires_at.saturating_add(self.retention) > now;
        self.tokens.retain(|_, t| keep(t.expires_at));
        let removed = before.saturating_sub(self.tokens.len());
        self.families.retain(|_, f| keep(f.expires_at));
        // Lock order subjects -> families; nothing takes them the other way round.
        self.subjects.retain(|_, families| {
            families.retain(|f| self.families.contains_key(f));
            !families.is_empty()
        });
        removed
    }

    fn len(&self) -> usize {
        self.tokens.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh::RefreshToken;

    fn tok(issued: u64, expires: u64) -> (RefreshToken, NewToken) {
        let t = RefreshToken::generate().unwrap();
        let n = NewToken::new(
            t.hash(),
            UnixTime::from_secs(issued),
            UnixTime::from_secs(expires),
        );
        (t, n)
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn purge_removes_expired_tokens_families_and_subjects() {
        block_on(async {
            let store = MemoryRefreshStore::new().with_expired_retention(Duration::ZERO);
            let (_, first) = tok(0, 100);
            let family = FamilyId::generate().unwrap();
            store
                .insert_family(NewFamily::new(first, family, "alice"))
                .await
                .unwrap();
            let (_, second) = tok(0, 50);
            store
                .insert_family(NewFamily::new(second, FamilyId::generate().unwrap(), "bob"))
                .await
                .unwrap();
            assert_eq!(store.len(), 2);
            assert_eq!(store.purge_expired(UnixTime::from_secs(50)), 1);
            assert_eq!(store.families.len(), 1);
            assert_eq!(store.subjects.len(), 1);
            assert_eq!(store.purge_expired(UnixTime::from_secs(100)), 1);
            assert!(store.is_empty());
            assert!(store.families.is_empty() && store.subjects.is_empty());
        });
    }

    #[test]
    fn duplicate_family_or_digest_is_a_store_error() {
        block_on(async {
            let store = MemoryRefreshStore::new();
            let (_, a) = tok(0, 10);
            let family = FamilyId::generate().unwrap();
            store
                .insert_family(NewFamily::new(a, family.clone(), "s"))
                .await
                .unwrap();
            let (_, b) = tok(0, 10);
            assert!(
                store
                    .insert_family(NewFamily::new(b, family, "s"))
                    .await
                    .is_err()
            );
            assert!(
                store
                    .insert_family(NewFamily::new(a, FamilyId::generate().unwrap(), "s"))
                    .await
                    .is_err()
            );
        });
    }

    #[test]
    fn expired_tokens_are_remembered_for_the_retention_period() {
        block_on(async {
            let store = MemoryRefreshStore::new().with_expired_retention(Duration::from_secs(10));
            let (_, first) = tok(0, 100);
            store
                .insert_family(NewFamily::new(first, FamilyId::generate().unwrap(), "a"))
                .await
                .unwrap();
            assert_eq!(store.purge_expired(UnixTime::from_secs(109)), 0);
            assert_eq!(store.purge_expired(UnixTime::from_secs(110)), 1);
        });
    }
}
