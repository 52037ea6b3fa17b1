//! [`MemoryTotpStore`].

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::clock::UnixTime;
use crate::mfa::credential::{CredentialState, TotpCredential, TotpStore};
use crate::mfa::secret::CredentialId;
use crate::store::{Housekeeping, LazyPurge, StoreError};

/// An in-memory [`TotpStore`]: one entry per account, every operation under the account's
/// entry lock. Expired pending enrolments are purged lazily (at most once a minute) and on
/// [`Housekeeping::purge_expired`].
///
/// ```
/// use auth_core::mfa::{MemoryTotpStore, TotpStore};
/// use auth_core::clock::UnixTime;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryTotpStore::new();
/// assert!(store.get("alice", UnixTime::from_secs(0)).await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MemoryTotpStore {
    map: DashMap<Box<str>, TotpCredential>,
    purge: LazyPurge,
}

impl Default for MemoryTotpStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryTotpStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self {
            map: DashMap::new(),
            purge: LazyPurge::new(crate::mfa::memory_purge_interval()),
        }
    }

    fn maybe_purge(&self, now: UnixTime) {
        if self.purge.due(now) {
            self.purge_expired(now);
        }
    }
}

fn lapsed(c: &TotpCredential, now: UnixTime) -> bool {
    matches!(c.state(), CredentialState::Pending { expires_at } if expires_at <= now)
}

#[async_trait]
impl TotpStore for MemoryTotpStore {
    async fn put_pending(
        &self,
        account: &str,
        credential: &TotpCredential,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.maybe_purge(now);
        if credential.is_active() {
            return Err(StoreError::new("put_pending needs a pending credential"));
        }
        match self.map.entry(account.into()) {
            Entry::Occupied(o) if o.get().is_active() => Ok(false),
            Entry::Occupied(mut o) => {
                o.insert(credential.clone());
                Ok(true)
            }
            Entry::Vacant(v) => {
                v.insert(credential.clone());
                Ok(true)
            }
        }
    }

    async fn get(
        &self,
        account: &str,
        now: UnixTime,
    ) -> Result<Option<TotpCredential>, StoreError> {
        self.maybe_purge(now);
        Ok(self
            .map
            .get(account)
            .map(|c| c.clone())
            .filter(|c| !lapsed(c, now)))
    }

    async fn activate(
        &self,
        account: &str,
        id: &CredentialId,
        step: u64,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let Some(mut c) = self.map.get_mut(account) else {
            return Ok(false);
        };
        let pending =
            matches!(c.state(), CredentialState::Pending { expires_at } if now < expires_at);
        if !pending || c.id() != id {
            return Ok(false);
        }
        let active = c
            .clone()
            .with_state(CredentialState::Active { last_step: step });
        *c = active;
        Ok(true)
    }

    async fn consume_step(
        &self,
        account: &str,
        id: &CredentialId,
        step: u64,
    ) -> Result<bool, StoreError> {
        let Some(mut c) = self.map.get_mut(account) else {
            return Ok(false);
        };
        match c.state() {
            CredentialState::Active { last_step } if c.id() == id && last_step < step => {
                let next = c
                    .clone()
                    .with_state(CredentialState::Active { last_step: step });
                *c = next;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn remove(&self, account: &str) -> Result<bool, StoreError> {
        Ok(self.map.remove(account).is_some_and(|(_, c)| c.is_active()))
    }
}

impl Housekeeping for MemoryTotpStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        let before = self.map.len();
        self.map.retain(|_, c| !lapsed(c, now));
        before.saturating_sub(self.map.len())
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}
