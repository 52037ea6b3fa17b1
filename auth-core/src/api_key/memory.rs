//! [`MemoryApiKeyStore`]: the default [`ApiKeyStore`], on dashmap.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::hash::ApiKeyHash;
use super::prepared::{KeyState, PreparedKey};
use super::record::{ApiKeyId, ApiKeyRecord, KeyOrigin, Rotation};
use super::store::{ApiKeyStore, RotateOutcome, StoreError};
use crate::clock::UnixTime;

/// An in-process [`ApiKeyStore`]. Cheap to clone; clones share the same keys.
///
/// Records live in a dashmap keyed by digest, so verification is one sharded hash-map lookup
/// whatever the number of keys; an id index and an owner index serve management. Each entry
/// holds the key as verification reads it, a [`PreparedKey`] with its principal built when the
/// record is stored or changed, inline in the table's bucket: a verification touches the
/// bucket and the principal's reference count, and copies no string, so a million keys cost
/// about what one does. Every
/// operation holds at most one shard lock of each map at a time, always in the order id index,
/// then records, then owner index, so operations cannot deadlock.
///
/// Keys are kept for the life of the process (revoked and expired ones too, so owners can
/// list them). Use a persistent backend for keys that must survive a restart.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::api_key::{ApiKeys, MemoryApiKeyStore, NewApiKey};
///
/// let store = MemoryApiKeyStore::new();
/// let keys = ApiKeys::builder(store.clone()).prefix("demo_live").build()?;
/// keys.create(NewApiKey::new("alice", "ci")).await?;
/// assert_eq!(store.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct MemoryApiKeyStore {
    maps: Arc<Maps>,
}

#[derive(Default)]
struct Maps {
    records: DashMap<ApiKeyHash, Slot>,
    by_id: DashMap<ApiKeyId, ApiKeyHash>,
    by_owner: DashMap<String, Vec<ApiKeyId>>,
}

/// One stored key: what verification reads inline in the bucket (beside the digest, the
/// table's key), and behind a pointer the fields only management reads: 96 bytes a bucket.
/// The record is rebuilt from it on demand, and every change goes through [`ApiKeyRecord`]'s
/// own methods, so the store keeps no second copy.
struct Slot {
    state: KeyState,
    cold: Box<Cold>,
}

struct Cold {
    name: String,
    replaced_by: Option<ApiKeyId>,
    origin: KeyOrigin,
}

impl Slot {
    fn new(mut record: ApiKeyRecord) -> Self {
        let cold = Box::new(Cold {
            name: std::mem::take(&mut record.name),
            replaced_by: record.replaced_by.take(),
            origin: record.origin,
        });
        let (_, state) = PreparedKey::from(record).into_parts();
        Self { state, cold }
    }

    fn prepared(&self, hash: &ApiKeyHash) -> PreparedKey {
        PreparedKey::new(*hash, self.state.clone())
    }

    fn record(&self, hash: &ApiKeyHash) -> ApiKeyRecord {
        self.state.to_record(
            *hash,
            self.cold.name.clone(),
            self.cold.replaced_by.clone(),
            self.cold.origin,
        )
    }

    /// Applies `change` to the record and stores the result, principal rebuilt. Revocation
    /// and usage writes only, never verification.
    fn update<T>(&mut self, hash: &ApiKeyHash, change: impl FnOnce(&mut ApiKeyRecord) -> T) -> T {
        let mut record = self.record(hash);
        let out = change(&mut record);
        *self = Self::new(record);
        out
    }
}

impl MemoryApiKeyStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of stored keys (any status).
    #[must_use]
    pub fn len(&self) -> usize {
        self.maps.records.len()
    }

    /// Whether no key is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.maps.records.is_empty()
    }

    /// A copy of every stored record, in no particular order: for inspection and tests.
    #[must_use]
    pub fn records(&self) -> Vec<ApiKeyRecord> {
        self.maps
            .records
            .iter()
            .map(|e| e.value().record(e.key()))
            .collect()
    }

    fn hash_of(&self, id: &ApiKeyId) -> Option<ApiKeyHash> {
        self.maps.by_id.get(id).map(|h| *h.value())
    }

    fn index_owner(&self, owner: &str, id: ApiKeyId) {
        self.maps
            .by_owner
            .entry(owner.to_owned())
            .or_default()
            .push(id);
    }
}

impl fmt::Debug for MemoryApiKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryApiKeyStore")
            .field("keys", &self.len())
            .finish()
    }
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeyStore {
    async fn create(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        let Entry::Vacant(id_slot) = self.maps.by_id.entry(record.id.clone()) else {
            return Err(StoreError::Duplicate);
        };
        let hash = record.hash;
        let owner = record.owner.clone();
        let id = record.id.clone();
        match self.maps.records.entry(hash) {
            Entry::Occupied(_) => return Err(StoreError::Duplicate),
            Entry::Vacant(v) => {
                v.insert(Slot::new(record));
            }
        }
        id_slot.insert(hash);
        self.index_owner(&owner, id);
        Ok(())
    }

    async fn find_by_hash(&self, hash: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.maps.records.get(hash).map(|r| r.value().record(hash)))
    }

    fn find_by_hash_now(
        &self,
        hash: &ApiKeyHash,
    ) -> Option<Result<Option<PreparedKey>, StoreError>> {
        Some(Ok(self
            .maps
            .records
            .get(hash)
            .map(|r| r.value().prepared(hash))))
    }

    async fn list_by_owner(&self, owner: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let ids = self
            .maps
            .by_owner
            .get(owner)
            .map(|ids| ids.value().clone())
            .unwrap_or_default();
        let mut out: Vec<ApiKeyRecord> = ids
            .iter()
            .filter_map(|id| self.hash_of(id))
            .filter_map(|h| self.maps.records.get(&h).map(|r| r.value().record(&h)))
            .collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn revoke(
        &self,
        id: &ApiKeyId,
        owner: &str,
        at: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let Some(hash) = self.hash_of(id) else {
            return Ok(None);
        };
        let Some(mut slot) = self.maps.records.get_mut(&hash) else {
            return Ok(None);
        };
        if slot.state.owner() != owner {
            return Ok(None);
        }
        Ok(Some(slot.update(&hash, |record| {
            record.revoke(at);
            record.clone()
        })))
    }

    async fn rotate(
        &self,
        id: &ApiKeyId,
        owner: &str,
        rotation: Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        // Read the old digest before taking any lock (the old and new ids may share a shard).
        let Some(old_hash) = self.hash_of(id) else {
            return Ok(RotateOutcome::NotFound);
        };
        let Entry::Vacant(new_id_slot) = self.maps.by_id.entry(rotation.new_id.clone()) else {
            return Err(StoreError::Duplicate);
        };
        if self.maps.records.contains_key(&rotation.new_hash) {
            return Err(StoreError::Duplicate);
        }
        // The check and the change happen under the old record's entry lock.
        let (previous, replacement) = {
            let Some(mut old) = self.maps.records.get_mut(&old_hash) else {
                return Ok(RotateOutcome::NotFound);
            };
            let mut record = old.record(&old_hash);
            if record.owner != owner {
                return Ok(RotateOutcome::NotFound);
            }
            if !record.can_rotate(rotation.now) {
                return Ok(RotateOutcome::NotActive);
            }
            let replacement = record.rotate_into(&rotation);
            *old = Slot::new(record.clone());
            (record, replacement)
        };
        self.maps
            .records
            .insert(rotation.new_hash, Slot::new(replacement.clone()));
        new_id_slot.insert(rotation.new_hash);
        self.index_owner(owner, rotation.new_id);
        Ok(RotateOutcome::Rotated {
            previous: Box::new(previous),
            replacement: Box::new(replacement),
        })
    }

    async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError> {
        if let Some(hash) = self.hash_of(id)
            && let Some(mut slot) = self.maps.records.get_mut(&hash)
        {
            slot.update(&hash, |record| record.record_use(at));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::record::NewRecord;

    fn record(id: &str, byte: u8, owner: &str, created: u64) -> ApiKeyRecord {
        NewRecord {
            id: id.into(),
            hash: ApiKeyHash::from_bytes([byte; 32]),
            name: format!("key {id}"),
            owner: owner.into(),
            scopes: vec![],
            roles: vec![],
            created_at: UnixTime::from_secs(created),
            expires_at: None,
        }
        .into()
    }

    fn rotation(new_id: &str, byte: u8, now: u64) -> Rotation {
        Rotation {
            new_id: new_id.into(),
            new_hash: ApiKeyHash::from_bytes([byte; 32]),
            now: UnixTime::from_secs(now),
            grace_until: UnixTime::from_secs(now + 10),
        }
    }

    #[tokio::test]
    async fn records_are_found_by_digest_only() {
        let s = MemoryApiKeyStore::new();
        s.create(record("a", 1, "alice", 1)).await.unwrap();
        let found = s
            .find_by_hash(&ApiKeyHash::from_bytes([1; 32]))
            .await
            .unwrap();
        assert_eq!(found.unwrap().id.as_str(), "a");
        let missing = s
            .find_by_hash(&ApiKeyHash::from_bytes([2; 32]))
            .await
            .unwrap();
        assert!(missing.is_none());
    }

    #[tokio::test]
    async fn duplicate_ids_and_digests_are_refused() {
        let s = MemoryApiKeyStore::new();
        s.create(record("a", 1, "alice", 1)).await.unwrap();
        assert_eq!(
            s.create(record("a", 2, "alice", 1)).await,
            Err(StoreError::Duplicate)
        );
        assert_eq!(
            s.create(record("b", 1, "alice", 1)).await,
            Err(StoreError::Duplicate)
        );
        assert_eq!(s.len(), 1);
    }

    #[tokio::test]
    async fn listing_is_per_owner_and_oldest_first() {
        let s = MemoryApiKeyStore::new();
        s.create(record("b", 2, "alice", 20)).await.unwrap();
        s.create(record("a", 1, "alice", 10)).await.unwrap();
        s.create(record("c", 3, "bob", 5)).await.unwrap();
        let ids: Vec<_> = s
            .list_by_owner("alice")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id.to_string())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(s.list_by_owner("carol").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn only_the_owner_can_revoke() {
        let s = MemoryApiKeyStore::new();
        s.create(record("a", 1, "alice", 1)).await.unwrap();
        let at = UnixTime::from_secs(5);
        assert_eq!(s.revoke(&"a".into(), "bob", at).await.unwrap(), None);
        assert_eq!(s.revoke(&"x".into(), "alice", at).await.unwrap(), None);
        let r = s.revoke(&"a".into(), "alice", at).await.unwrap().unwrap();
        assert_eq!(r.revoked_at, Some(at));
    }

    #[tokio::test]
    async fn rotation_is_checked_and_applied_atomically() {
        let s = MemoryApiKeyStore::new();
        s.create(record("a", 1, "alice", 1)).await.unwrap();
        assert_eq!(
            s.rotate(&"a".into(), "bob", rotation("b", 2, 100))
                .await
                .unwrap(),
            RotateOutcome::NotFound
        );
        let RotateOutcome::Rotated {
            previous,
            replacement,
        } = s
            .rotate(&"a".into(), "alice", rotation("b", 2, 100))
            .await
            .unwrap()
        else {
            panic!("not rotated")
        };
        assert_eq!(previous.expires_at, Some(UnixTime::from_secs(110)));
        assert_eq!(replacement.id.as_str(), "b");
        assert_eq!(s.len(), 2);
        // Rotating the old key again is refused; the new one can be rotated.
        assert_eq!(
            s.rotate(&"a".into(), "alice", rotation("c", 3, 101))
                .await
                .unwrap(),
            RotateOutcome::NotActive
        );
        assert!(matches!(
            s.rotate(&"b".into(), "alice", rotation("c", 3, 101))
                .await
                .unwrap(),
            RotateOutcome::Rotated { .. }
        ));
        assert_eq!(s.list_by_owner("alice").await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn rotation_with_a_taken_id_changes_nothing() {
        let s = MemoryApiKeyStore::new();
        s.create(record("a", 1, "alice", 1)).await.unwrap();
        s.create(record("b", 2, "alice", 1)).await.unwrap();
        assert_eq!(
            s.rotate(&"a".into(), "alice", rotation("b", 9, 100)).await,
            Err(StoreError::Duplicate)
        );
        assert_eq!(
            s.rotate(&"a".into(), "alice", rotation("z", 2, 100)).await,
            Err(StoreError::Duplicate)
        );
        let a = s
            .find_by_hash(&ApiKeyHash::from_bytes([1; 32]))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.expires_at, None);
        assert_eq!(a.replaced_by, None);
    }

    #[tokio::test]
    async fn concurrent_rotations_of_one_key_yield_one_replacement() {
        let s = MemoryApiKeyStore::new();
        s.create(record("a", 1, "alice", 1)).await.unwrap();
        let handles: Vec<_> = (0..8u8)
            .map(|i| {
                let s = s.clone();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    rt.block_on(s.rotate(
                        &"a".into(),
                        "alice",
                        rotation(&format!("n{i}"), 10 + i, 100),
                    ))
                    .unwrap()
                })
            })
            .collect();
        let rotated = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|o| matches!(o, RotateOutcome::Rotated { .. }))
            .count();
        assert_eq!(rotated, 1);
        assert_eq!(s.len(), 2);
    }

    #[tokio::test]
    async fn record_use_moves_last_used_forward() {
        let s = MemoryApiKeyStore::new();
        s.create(record("a", 1, "alice", 1)).await.unwrap();
        s.record_use(&"a".into(), UnixTime::from_secs(9))
            .await
            .unwrap();
        s.record_use(&"missing".into(), UnixTime::from_secs(9))
            .await
            .unwrap();
        assert_eq!(s.records()[0].last_used_at, Some(UnixTime::from_secs(9)));
    }

    #[test]
    fn debug_shows_only_the_count() {
        assert_eq!(
            format!("{:?}", MemoryApiKeyStore::new()),
            "MemoryApiKeyStore { keys: 0 }"
        );
    }
}
