//! [`PreparedKey`]: a stored key as verification reads it, with its principal built once.

use std::fmt;

use super::hash::ApiKeyHash;
use super::record::{ApiKeyId, ApiKeyRecord, ApiKeyStatus, KeyOrigin};
use crate::clock::UnixTime;
use crate::principal::PrincipalParts;
use crate::{AuthMethod, Principal};

/// A stored key as [`ApiKeys::verify`](super::ApiKeys::verify) reads it: the digest, the
/// times its status depends on, and the [`Principal`] it authenticates as, built once from
/// the record instead of on every request.
///
/// Cloning copies a few words and bumps one reference count, so a store that keeps one per key
/// (as [`MemoryApiKeyStore`](super::MemoryApiKeyStore) does) answers
/// [`ApiKeyStore::find_by_hash_now`](super::ApiKeyStore::find_by_hash_now) without touching the
/// record's strings: with a million keys, that is the difference between a few cache misses
/// per request and a dozen.
///
/// The principal inside is only handed out by `ApiKeys` after the status check; this type
/// never exposes it, so it cannot be used to fabricate an authenticated caller.
///
/// ```
/// use auth_core::api_key::{ApiKeyRecord, ApiKeyStatus, PreparedKey};
/// use auth_core::clock::UnixTime;
///
/// # let json = serde_json::json!({
/// #     "id": "k1", "hash": "07".repeat(32), "name": "ci", "owner": "alice",
/// #     "scopes": ["read:orders"], "roles": [], "created_at": 0u64,
/// #     "expires_at": 2_000_000_000u64, "revoked_at": null, "last_used_at": null,
/// #     "replaced_by": null,
/// # });
/// let record: ApiKeyRecord = serde_json::from_value(json)?;
/// let key = PreparedKey::from(record);
/// assert_eq!(key.id(), "k1");
/// assert_eq!(key.status(UnixTime::from_secs(1)), ApiKeyStatus::Active);
/// assert_eq!(key.status(UnixTime::from_secs(2)), ApiKeyStatus::Expired);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct PreparedKey {
    hash: ApiKeyHash,
    state: KeyState,
}

/// A [`PreparedKey`] but for its digest: what a table keyed by digest keeps per key.
#[derive(Clone)]
pub(crate) struct KeyState {
    /// The principal carries it too; kept here so the status is read from the store's bucket
    /// without reaching into the principal's fields.
    expires_at: Option<UnixTime>,
    revoked_at: Option<UnixTime>,
    last_used_at: Option<UnixTime>,
    /// Subject = owner, the key's roles and scopes, method `ApiKey { key_id }`,
    /// `expires_at` = the record's, `issued_at` = `created_at`.
    principal: Principal,
}

impl PreparedKey {
    /// The key's public id.
    #[must_use]
    pub fn id(&self) -> &str {
        self.state.id()
    }

    /// The owner: the subject the key authenticates as.
    #[must_use]
    pub fn owner(&self) -> &str {
        self.state.owner()
    }

    /// The stored digest.
    #[must_use]
    pub fn hash(&self) -> &ApiKeyHash {
        &self.hash
    }

    /// The key's status at `now`, as [`ApiKeyRecord::status`] gives it.
    #[must_use]
    pub fn status(&self, now: UnixTime) -> ApiKeyStatus {
        status(self.state.revoked_at, self.state.expires_at, now)
    }

    /// When the key was last used, to the coalescing interval's precision.
    #[must_use]
    pub fn last_used_at(&self) -> Option<UnixTime> {
        self.state.last_used_at
    }

    /// The principal, for [`ApiKeys`](super::ApiKeys) once the key checked out.
    pub(crate) fn into_principal(self) -> Principal {
        self.state.principal
    }

    /// A prepared key from its digest and the rest.
    #[cfg_attr(not(feature = "memory-store"), allow(dead_code))]
    pub(crate) fn new(hash: ApiKeyHash, state: KeyState) -> Self {
        Self { hash, state }
    }

    /// The digest and the rest.
    #[cfg_attr(not(feature = "memory-store"), allow(dead_code))]
    pub(crate) fn into_parts(self) -> (ApiKeyHash, KeyState) {
        (self.hash, self.state)
    }
}

#[cfg_attr(not(feature = "memory-store"), allow(dead_code))]
impl KeyState {
    pub(crate) fn owner(&self) -> &str {
        self.principal.subject()
    }

    fn id(&self) -> &str {
        match self.principal.auth_method() {
            AuthMethod::ApiKey { key_id } => key_id,
            // Only `From<ApiKeyRecord>` builds the principal, always with this method.
            AuthMethod::Bearer => "",
        }
    }

    /// The record back, given the fields verification does not read.
    pub(crate) fn to_record(
        &self,
        hash: ApiKeyHash,
        name: String,
        replaced_by: Option<ApiKeyId>,
        origin: KeyOrigin,
    ) -> ApiKeyRecord {
        let p = &self.principal;
        ApiKeyRecord {
            id: ApiKeyId::from(self.id()),
            hash,
            name,
            owner: p.subject().to_owned(),
            scopes: p.scopes().to_vec(),
            roles: p.roles().to_vec(),
            created_at: p.issued_at().unwrap_or(UnixTime::EPOCH),
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
            replaced_by,
            origin,
        }
    }
}

/// Revocation wins over expiry.
pub(crate) fn status(
    revoked_at: Option<UnixTime>,
    expires_at: Option<UnixTime>,
    now: UnixTime,
) -> ApiKeyStatus {
    if revoked_at.is_some() {
        ApiKeyStatus::Revoked
    } else if expires_at.is_some_and(|exp| now >= exp) {
        ApiKeyStatus::Expired
    } else {
        ApiKeyStatus::Active
    }
}

impl From<ApiKeyRecord> for PreparedKey {
    /// Builds the principal from the record (moving its strings, not copying them); `name`,
    /// `replaced_by` and `origin` are dropped (verification does not read them).
    fn from(r: ApiKeyRecord) -> Self {
        let principal = Principal::from_parts(PrincipalParts {
            subject: r.owner,
            roles: r.roles,
            scopes: r.scopes,
            method: AuthMethod::ApiKey {
                key_id: String::from(r.id),
            },
            token_id: None,
            issuer: None,
            session_id: None,
            expires_at: r.expires_at,
            issued_at: Some(r.created_at),
            not_before: None,
            claims_json: None,
            confirmation: None,
        });
        Self {
            hash: r.hash,
            state: KeyState {
                expires_at: r.expires_at,
                revoked_at: r.revoked_at,
                last_used_at: r.last_used_at,
                principal,
            },
        }
    }
}

impl fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedKey")
            .field("id", &self.id())
            .field("hash", &self.hash)
            .field("expires_at", &self.state.expires_at)
            .field("revoked_at", &self.state.revoked_at)
            .field("last_used_at", &self.state.last_used_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::record::NewRecord;

    fn record() -> ApiKeyRecord {
        let mut r: ApiKeyRecord = NewRecord {
            id: "id-1".into(),
            hash: ApiKeyHash::from_bytes([1; 32]),
            name: "ci".into(),
            owner: "alice".into(),
            scopes: vec!["read:orders".into(), "write:orders".into()],
            roles: vec!["user".into()],
            created_at: UnixTime::from_secs(100),
            expires_at: Some(UnixTime::from_secs(500)),
        }
        .into();
        r.record_use(UnixTime::from_secs(150));
        r.replaced_by = Some("id-2".into());
        r
    }

    #[test]
    fn the_record_comes_back_whole() {
        let r = record();
        let key = PreparedKey::from(r.clone());
        let (hash, state) = key.into_parts();
        assert_eq!(
            state.to_record(hash, r.name.clone(), r.replaced_by.clone(), r.origin),
            r
        );
        let mut revoked = r.clone();
        revoked.revoke(UnixTime::from_secs(200));
        let key = PreparedKey::from(revoked.clone());
        let (hash, state) = key.into_parts();
        assert_eq!(
            state.to_record(hash, "ci".into(), Some("id-2".into()), KeyOrigin::Native),
            revoked
        );
    }

    #[test]
    fn status_matches_the_record() {
        let mut r = record();
        for t in [0, 499, 500, 501] {
            let now = UnixTime::from_secs(t);
            assert_eq!(PreparedKey::from(r.clone()).status(now), r.status(now));
        }
        r.revoke(UnixTime::from_secs(10));
        let now = UnixTime::from_secs(20);
        assert_eq!(PreparedKey::from(r).status(now), ApiKeyStatus::Revoked);
    }

    #[test]
    fn the_principal_is_the_owner_with_the_key_grants() {
        let key = PreparedKey::from(record());
        assert_eq!(key.id(), "id-1");
        assert_eq!(key.last_used_at(), Some(UnixTime::from_secs(150)));
        let p = key.into_principal();
        assert_eq!(p.subject(), "alice");
        assert_eq!(p.scopes(), ["read:orders", "write:orders"]);
        assert_eq!(p.roles(), ["user"]);
        assert_eq!(
            p.auth_method(),
            &AuthMethod::ApiKey {
                key_id: "id-1".into()
            }
        );
        assert_eq!(p.expires_at(), Some(UnixTime::from_secs(500)));
        assert_eq!(p.issued_at(), Some(UnixTime::from_secs(100)));
    }

    #[test]
    fn debug_shows_no_grants() {
        let s = format!("{:?}", PreparedKey::from(record()));
        assert!(s.starts_with("PreparedKey { id: \"id-1\""), "{s}");
        assert!(!s.contains("alice"), "{s}");
    }
}
