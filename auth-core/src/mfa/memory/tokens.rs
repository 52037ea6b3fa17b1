//! [`MemoryMfaTokenStore`].

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::clock::UnixTime;
use crate::mfa::login_token::{MfaTokenHash, MfaTokenStore, PendingLogin};
use crate::store::{Housekeeping, LazyPurge, StoreError};

/// An in-memory [`MfaTokenStore`]: pending logins by token digest; `take` removes atomically.
/// Expired entries are purged lazily (at most once a minute) and on
/// [`Housekeeping::purge_expired`].
#[derive(Debug)]
pub struct MemoryMfaTokenStore {
    map: DashMap<MfaTokenHash, (PendingLogin, UnixTime)>,
    purge: LazyPurge,
}

impl Default for MemoryMfaTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryMfaTokenStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self {
            map: DashMap::new(),
            purge: LazyPurge::new(crate::mfa::memory_purge_interval()),
        }
    }
}

#[async_trait]
impl MfaTokenStore for MemoryMfaTokenStore {
    async fn insert(
        &self,
        token: &MfaTokenHash,
        login: &PendingLogin,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        if self.purge.due(now) {
            self.purge_expired(now);
        }
        match self.map.entry(*token) {
            Entry::Occupied(_) => Err(StoreError::new("mfa token digest already exists")),
            Entry::Vacant(v) => {
                v.insert((login.clone(), expires_at));
                Ok(())
            }
        }
    }

    async fn get(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError> {
        Ok(self
            .map
            .get(token)
            .filter(|e| now < e.1)
            .map(|e| e.0.clone()))
    }

    async fn take(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError> {
        Ok(self
            .map
            .remove(token)
            .filter(|(_, (_, exp))| now < *exp)
            .map(|(_, (login, _))| login))
    }
}

impl Housekeeping for MemoryMfaTokenStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        let before = self.map.len();
        self.map.retain(|_, e| now < e.1);
        before.saturating_sub(self.map.len())
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}
