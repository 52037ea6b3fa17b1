//! [`ApiKeyStore`]: where records live. Small and backend-neutral: every method is one atomic
//! operation (a dashmap entry lock in memory, a script or transaction in Redis or SQL), never a
//! read followed by a write the caller has to keep consistent.

use std::fmt;

use async_trait::async_trait;

use super::hash::ApiKeyHash;
use super::prepared::PreparedKey;
use super::record::{ApiKeyId, ApiKeyRecord, Rotation};
use crate::clock::UnixTime;

/// Storage for [`ApiKeyRecord`]s, indexed by digest (verification), id (management) and owner
/// (listing).
///
/// Implementations never see a key's plaintext: [`ApiKeys`](super::ApiKeys) hashes before it
/// calls them. Verification calls only [`find_by_hash`](Self::find_by_hash) (or its synchronous
/// twin [`find_by_hash_now`](Self::find_by_hash_now)), so its cost must not grow with the
/// number of keys (a hash index, not a scan).
///
/// "Owned by" checks are part of the atomic operations so another owner's key id behaves
/// exactly like an unknown one (no enumeration, no check-then-act race).
#[async_trait]
pub trait ApiKeyStore: fmt::Debug + Send + Sync + 'static {
    /// Stores a new record.
    ///
    /// # Errors
    ///
    /// [`StoreError::Duplicate`] when the id or digest is already stored (for 128- and 256-bit
    /// random values, in practice a broken random source); [`StoreError::Unavailable`] when
    /// the backend fails.
    async fn create(&self, record: ApiKeyRecord) -> Result<(), StoreError>;

    /// The record whose digest is `hash`, whatever its status.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the backend fails.
    async fn find_by_hash(&self, hash: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// What [`find_by_hash`](Self::find_by_hash) would answer, as a [`PreparedKey`], when it
    /// is available without waiting; `None` (the default) means "await `find_by_hash`".
    ///
    /// In-memory stores return `Some`: [`ApiKeys::verify`](super::ApiKeys::verify) then
    /// completes without a boxed future, and `ApiKeyLayer` calls the inner service directly.
    /// A store that keeps a `PreparedKey` per key answers by cloning it (no record strings
    /// copied), which keeps the cost per request flat as the number of keys grows.
    fn find_by_hash_now(
        &self,
        hash: &ApiKeyHash,
    ) -> Option<Result<Option<PreparedKey>, StoreError>> {
        let _ = hash;
        None
    }

    /// Every record of `owner` (any status), oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the backend fails.
    async fn list_by_owner(&self, owner: &str) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Atomically: if key `id` exists and belongs to `owner`, applies
    /// [`ApiKeyRecord::revoke`] at `at` and returns the updated record; `None` otherwise.
    /// Revoking twice keeps the first time.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the backend fails.
    async fn revoke(
        &self,
        id: &ApiKeyId,
        owner: &str,
        at: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Atomically: if key `id` exists, belongs to `owner` and
    /// [`can_rotate`](ApiKeyRecord::can_rotate) at `rotation.now`, applies
    /// [`ApiKeyRecord::rotate_into`] and stores the replacement it returns.
    ///
    /// # Errors
    ///
    /// [`StoreError::Duplicate`] when the replacement's id or digest is taken;
    /// [`StoreError::Unavailable`] when the backend fails.
    async fn rotate(
        &self,
        id: &ApiKeyId,
        owner: &str,
        rotation: Rotation,
    ) -> Result<RotateOutcome, StoreError>;

    /// Applies [`ApiKeyRecord::record_use`] at `at` to key `id`, if it exists.
    ///
    /// Called off the request path, at most once per key per coalescing interval.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the backend fails.
    async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError>;
}

/// What [`ApiKeyStore::rotate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// Rotated.
    Rotated {
        /// The old record after the change (expiry moved to the end of the grace period).
        previous: Box<ApiKeyRecord>,
        /// The stored replacement.
        replacement: Box<ApiKeyRecord>,
    },
    /// No key with that id belongs to that owner.
    NotFound,
    /// The key is revoked, expired or already rotated.
    NotActive,
}

/// A key store failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or answered with an error; the detail is for logs.
    Unavailable(String),
    /// A record with the same id or digest is already stored.
    Duplicate,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(d) => write!(f, "api key store unavailable: {d}"),
            Self::Duplicate => f.write_str("api key id or digest already stored"),
        }
    }
}

impl std::error::Error for StoreError {}
