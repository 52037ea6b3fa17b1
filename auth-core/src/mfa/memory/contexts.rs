//! [`MemoryAuthContextStore`].

use async_trait::async_trait;
use dashmap::DashMap;

use crate::clock::UnixTime;
use crate::mfa::context::AuthContext;
use crate::mfa::context_store::AuthContextStore;
use crate::store::{Housekeeping, LazyPurge, StoreError};

/// An in-memory [`AuthContextStore`]. Expired entries are purged lazily (at most once a
/// minute) and on [`Housekeeping::purge_expired`].
#[derive(Debug)]
pub struct MemoryAuthContextStore {
    map: DashMap<Box<str>, (AuthContext, UnixTime)>,
    purge: LazyPurge,
}

impl Default for MemoryAuthContextStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryAuthContextStore {
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
impl AuthContextStore for MemoryAuthContextStore {
    async fn save(
        &self,
        session: &str,
        context: &AuthContext,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        if self.purge.due(now) {
            self.purge_expired(now);
        }
        self.map
            .insert(session.into(), (context.clone(), expires_at));
        Ok(())
    }

    async fn load(&self, session: &str, now: UnixTime) -> Result<Option<AuthContext>, StoreError> {
        Ok(self
            .map
            .get(session)
            .filter(|e| now < e.1)
            .map(|e| e.0.clone()))
    }

    async fn remove(&self, session: &str) -> Result<bool, StoreError> {
        Ok(self.map.remove(session).is_some())
    }
}

impl Housekeeping for MemoryAuthContextStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        let before = self.map.len();
        self.map.retain(|_, e| now < e.1);
        before.saturating_sub(self.map.len())
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}
