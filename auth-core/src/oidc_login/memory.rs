//! In-memory stores: [`MemoryIdentityStore`] and [`MemoryUsedStateStore`] (dashmap).

use std::time::Duration;

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::identity::{
    ExternalIdentity, IdentityStore, LinkOutcome, LinkedIdentity, UsedStateStore,
};
use crate::clock::UnixTime;
use crate::store::{Housekeeping, LazyPurge, StoreError};

/// An in-memory [`IdentityStore`]: links by `(issuer, subject)` (a dashmap entry makes
/// [`link_if_absent`](IdentityStore::link_if_absent) atomic) and an index by account.
///
/// For one instance, or tests; several instances need a shared store (`auth-redis`).
#[derive(Debug, Default)]
pub struct MemoryIdentityStore {
    links: DashMap<ExternalIdentity, LinkedIdentity>,
    by_account: DashMap<String, Vec<ExternalIdentity>>,
}

impl MemoryIdentityStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl IdentityStore for MemoryIdentityStore {
    async fn link_if_absent(&self, link: &LinkedIdentity) -> Result<LinkOutcome, StoreError> {
        link.check()?;
        // Lock order: `links` entry, then `by_account` (no operation takes them the other way
        // round while holding the first).
        match self.links.entry(link.identity().clone()) {
            Entry::Occupied(existing) => Ok(LinkOutcome::Existing(existing.get().clone())),
            Entry::Vacant(slot) => {
                self.by_account
                    .entry(link.account().to_owned())
                    .or_default()
                    .push(link.identity().clone());
                slot.insert(link.clone());
                Ok(LinkOutcome::Linked)
            }
        }
    }

    async fn find(
        &self,
        identity: &ExternalIdentity,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        Ok(self.links.get(identity).map(|l| l.clone()))
    }

    async fn list_for_account(&self, account: &str) -> Result<Vec<LinkedIdentity>, StoreError> {
        let ids = self
            .by_account
            .get(account)
            .map(|v| v.clone())
            .unwrap_or_default();
        let mut out: Vec<LinkedIdentity> = ids
            .iter()
            .filter_map(|id| self.links.get(id).map(|l| l.clone()))
            .filter(|l| l.account() == account)
            .collect();
        out.sort_by_key(LinkedIdentity::linked_at);
        Ok(out)
    }

    async fn unlink(&self, identity: &ExternalIdentity, account: &str) -> Result<bool, StoreError> {
        let removed = self
            .links
            .remove_if(identity, |_, l| l.account() == account)
            .is_some();
        if removed && let Some(mut ids) = self.by_account.get_mut(account) {
            ids.retain(|i| i != identity);
        }
        self.by_account.remove_if(account, |_, ids| ids.is_empty());
        Ok(removed)
    }
}

/// An in-memory [`UsedStateStore`]: used state digests until their transaction would have
/// expired; expired entries are purged lazily (at most once a minute) and on
/// [`Housekeeping::purge_expired`], so memory holds at most the logins of one transaction
/// lifetime.
#[derive(Debug)]
pub struct MemoryUsedStateStore {
    used: DashMap<String, UnixTime>,
    purge: LazyPurge,
}

impl Default for MemoryUsedStateStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryUsedStateStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self {
            used: DashMap::new(),
            purge: LazyPurge::new(Duration::from_secs(60)),
        }
    }
}

#[async_trait]
impl UsedStateStore for MemoryUsedStateStore {
    async fn mark_used(
        &self,
        state_id: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        if self.purge.due(now) {
            self.purge_expired(now);
        }
        if now >= expires_at {
            // An expired transaction never completes; nothing to remember.
            return Ok(false);
        }
        match self.used.entry(state_id.to_owned()) {
            Entry::Occupied(mut e) => {
                if now < *e.get() {
                    Ok(false)
                } else {
                    e.insert(expires_at);
                    Ok(true)
                }
            }
            Entry::Vacant(v) => {
                v.insert(expires_at);
                Ok(true)
            }
        }
    }
}

impl Housekeeping for MemoryUsedStateStore {
    fn purge_expired(&self, now: UnixTime) -> usize {
        let before = self.used.len();
        self.used.retain(|_, exp| now < *exp);
        before.saturating_sub(self.used.len())
    }

    fn len(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(sub: &str, account: &str, at: u64) -> LinkedIdentity {
        LinkedIdentity::new(
            ExternalIdentity::new("https://idp.example", sub),
            "acme",
            account,
            UnixTime::from_secs(at),
        )
    }

    #[tokio::test]
    async fn an_identity_is_linked_once_and_listed_for_its_account() {
        let s = MemoryIdentityStore::new();
        assert_eq!(
            s.link_if_absent(&link("u1", "a", 2)).await.unwrap(),
            LinkOutcome::Linked
        );
        assert_eq!(
            s.link_if_absent(&link("u1", "b", 3)).await.unwrap(),
            LinkOutcome::Existing(link("u1", "a", 2))
        );
        s.link_if_absent(&link("u0", "a", 1)).await.unwrap();
        let listed = s.list_for_account("a").await.unwrap();
        let subs: Vec<_> = listed.iter().map(|l| l.identity().subject()).collect();
        assert_eq!(subs, ["u0", "u1"]);
        assert!(s.list_for_account("b").await.unwrap().is_empty());
        assert!(!s.unlink(link("u1", "b", 0).identity(), "b").await.unwrap());
        assert!(s.unlink(link("u1", "a", 0).identity(), "a").await.unwrap());
        assert_eq!(s.find(link("u1", "a", 0).identity()).await.unwrap(), None);
        assert!(s.link_if_absent(&link("", "a", 0)).await.is_err());
    }

    #[tokio::test]
    async fn concurrent_first_links_of_one_identity_have_one_winner() {
        let s = std::sync::Arc::new(MemoryIdentityStore::new());
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.link_if_absent(&link("same", &format!("acct-{i}"), 1))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap() == LinkOutcome::Linked {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
    }

    #[tokio::test]
    async fn a_state_is_used_once_until_it_expires() {
        let s = MemoryUsedStateStore::new();
        let t = UnixTime::from_secs;
        assert!(s.mark_used("x", t(600), t(0)).await.unwrap());
        assert!(!s.mark_used("x", t(600), t(1)).await.unwrap());
        assert!(s.mark_used("y", t(600), t(1)).await.unwrap());
        assert_eq!(s.purge_expired(t(600)), 2);
        assert!(s.is_empty());
    }
}
