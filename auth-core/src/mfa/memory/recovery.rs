//! [`MemoryRecoveryCodeStore`].

use async_trait::async_trait;
use dashmap::DashMap;

use crate::mfa::recovery::RecoveryCodeDigest;
use crate::mfa::recovery_store::RecoveryCodeStore;
use crate::store::StoreError;

/// An in-memory [`RecoveryCodeStore`]: each account's digests in one entry; `redeem` finds
/// and removes a digest under the entry lock, comparing every stored digest in constant time.
#[derive(Debug, Default)]
pub struct MemoryRecoveryCodeStore {
    map: DashMap<Box<str>, Vec<RecoveryCodeDigest>>,
}

impl MemoryRecoveryCodeStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RecoveryCodeStore for MemoryRecoveryCodeStore {
    async fn replace(
        &self,
        account: &str,
        digests: &[RecoveryCodeDigest],
    ) -> Result<(), StoreError> {
        if digests.is_empty() {
            self.map.remove(account);
        } else {
            self.map.insert(account.into(), digests.to_vec());
        }
        Ok(())
    }

    async fn redeem(&self, account: &str, digest: &RecoveryCodeDigest) -> Result<bool, StoreError> {
        let Some(mut set) = self.map.get_mut(account) else {
            return Ok(false);
        };
        // Look at every digest (constant-time equality), then remove the match, if any.
        let mut found = None;
        for (i, d) in set.iter().enumerate() {
            if d == digest {
                found = Some(i);
            }
        }
        let Some(i) = found else {
            return Ok(false);
        };
        set.swap_remove(i);
        let empty = set.is_empty();
        drop(set);
        if empty {
            self.map.remove_if(account, |_, s| s.is_empty());
        }
        Ok(true)
    }

    async fn remaining(&self, account: &str) -> Result<usize, StoreError> {
        Ok(self.map.get(account).map_or(0, |s| s.len()))
    }
}
