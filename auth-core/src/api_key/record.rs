//! What a store keeps per key: [`ApiKeyRecord`] (never the plaintext), its public
//! [`ApiKeyId`], and the state changes stores apply atomically ([`ApiKeyRecord::rotate_into`]).

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::hash::ApiKeyHash;
use crate::clock::UnixTime;

/// A key's public, non-secret id: for listings, URLs and logs.
///
/// Generated ids are 22 base62 characters (16 random bytes); ids read back from a store or a
/// URL are taken as they are (an unknown id simply matches nothing).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyId(String);

impl ApiKeyId {
    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for ApiKeyId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for ApiKeyId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<ApiKeyId> for String {
    fn from(id: ApiKeyId) -> Self {
        id.0
    }
}

impl Borrow<str> for ApiKeyId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a key stands at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiKeyStatus {
    /// Accepted.
    Active,
    /// Past `expires_at` (including the end of a rotation's grace period).
    Expired,
    /// Revoked.
    Revoked,
}

impl ApiKeyStatus {
    /// `"active"`, `"expired"` or `"revoked"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

impl fmt::Display for ApiKeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything stored about one key. Holds the key's digest, never its plaintext.
///
/// Records are made by [`ApiKeys::create`](super::ApiKeys::create) and
/// [`ApiKeys::rotate`](super::ApiKeys::rotate); store backends keep them as they are (serde
/// gives a JSON form with times as Unix nanoseconds and the digest as hex) and apply the
/// documented state changes atomically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyRecord {
    /// Public id.
    pub id: ApiKeyId,
    /// Digest of the key (see [`ApiKeyHash`]).
    pub hash: ApiKeyHash,
    /// A label chosen by the owner.
    pub name: String,
    /// The subject the key authenticates as.
    pub owner: String,
    /// Scopes granted to requests made with this key.
    pub scopes: Vec<String>,
    /// Roles granted to requests made with this key.
    pub roles: Vec<String>,
    /// When the key was made.
    #[serde(with = "nanos")]
    pub created_at: UnixTime,
    /// When the key stops working, if ever. Rotation moves it to the end of the grace period.
    #[serde(with = "opt_nanos")]
    pub expires_at: Option<UnixTime>,
    /// When the key was revoked, if it was.
    #[serde(with = "opt_nanos")]
    pub revoked_at: Option<UnixTime>,
    /// When the key was last used, to the coalescing interval's precision.
    #[serde(with = "opt_nanos")]
    pub last_used_at: Option<UnixTime>,
    /// The key that replaced this one, once rotated.
    pub replaced_by: Option<ApiKeyId>,
}

/// What a store needs to rotate a key: the replacement's id and digest, the current time and
/// when the old key's grace period ends. Made by [`ApiKeys::rotate`](super::ApiKeys::rotate).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Rotation {
    /// The replacement's id.
    pub new_id: ApiKeyId,
    /// The replacement's digest.
    pub new_hash: ApiKeyHash,
    /// The time of the rotation.
    pub now: UnixTime,
    /// When the old key stops working (`now + grace`).
    pub grace_until: UnixTime,
}

impl Rotation {
    /// A rotation to `new_id` / `new_hash` at `now`, the old key working until `grace_until`
    /// (for store implementations and their tests; [`ApiKeys::rotate`](super::ApiKeys::rotate)
    /// makes these itself).
    ///
    /// ```
    /// use auth_core::api_key::{ApiKeyHash, Rotation};
    /// use auth_core::clock::UnixTime;
    ///
    /// let r = Rotation::new(
    ///     "new-id".into(),
    ///     ApiKeyHash::from_bytes([2; 32]),
    ///     UnixTime::from_secs(100),
    ///     UnixTime::from_secs(160),
    /// );
    /// assert_eq!(r.grace_until, UnixTime::from_secs(160));
    /// ```
    #[must_use]
    pub fn new(
        new_id: ApiKeyId,
        new_hash: ApiKeyHash,
        now: UnixTime,
        grace_until: UnixTime,
    ) -> Self {
        Self {
            new_id,
            new_hash,
            now,
            grace_until,
        }
    }
}

impl ApiKeyRecord {
    /// The key's status at `now`. Revocation wins over expiry.
    #[must_use]
    pub fn status(&self, now: UnixTime) -> ApiKeyStatus {
        super::prepared::status(self.revoked_at, self.expires_at, now)
    }

    /// Whether the key can be rotated at `now`: active and not rotated before.
    #[must_use]
    pub fn can_rotate(&self, now: UnixTime) -> bool {
        self.status(now) == ApiKeyStatus::Active && self.replaced_by.is_none()
    }

    /// Applies a rotation to this (old) record and returns the replacement record.
    ///
    /// The old key's expiry moves to `grace_until` (never later than it already was) and it
    /// records its successor. The replacement keeps name, owner, scopes, roles and the original
    /// expiry: rotation changes the secret, not what it grants or for how long.
    ///
    /// Store backends call this inside their atomic section, after checking
    /// [`can_rotate`](Self::can_rotate) and the owner.
    #[must_use]
    pub fn rotate_into(&mut self, rotation: &Rotation) -> ApiKeyRecord {
        let replacement = ApiKeyRecord {
            id: rotation.new_id.clone(),
            hash: rotation.new_hash,
            name: self.name.clone(),
            owner: self.owner.clone(),
            scopes: self.scopes.clone(),
            roles: self.roles.clone(),
            created_at: rotation.now,
            expires_at: self.expires_at,
            revoked_at: None,
            last_used_at: None,
            replaced_by: None,
        };
        self.expires_at = Some(match self.expires_at {
            Some(exp) => exp.min(rotation.grace_until),
            None => rotation.grace_until,
        });
        self.replaced_by = Some(rotation.new_id.clone());
        replacement
    }

    /// Marks the key revoked at `at`, unless it already was (the first time is kept).
    pub fn revoke(&mut self, at: UnixTime) {
        if self.revoked_at.is_none() {
            self.revoked_at = Some(at);
        }
    }

    /// Moves `last_used_at` forward to `at` (never backwards).
    pub fn record_use(&mut self, at: UnixTime) {
        if self.last_used_at.is_none_or(|t| t < at) {
            self.last_used_at = Some(at);
        }
    }
}

/// Builds a new record; only [`ApiKeys`](super::ApiKeys) creates keys.
pub(crate) struct NewRecord {
    pub(crate) id: ApiKeyId,
    pub(crate) hash: ApiKeyHash,
    pub(crate) name: String,
    pub(crate) owner: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) created_at: UnixTime,
    pub(crate) expires_at: Option<UnixTime>,
}

impl From<NewRecord> for ApiKeyRecord {
    fn from(n: NewRecord) -> Self {
        Self {
            id: n.id,
            hash: n.hash,
            name: n.name,
            owner: n.owner,
            scopes: n.scopes,
            roles: n.roles,
            created_at: n.created_at,
            expires_at: n.expires_at,
            revoked_at: None,
            last_used_at: None,
            replaced_by: None,
        }
    }
}

/// `UnixTime` as integer nanoseconds.
mod nanos {
    use super::UnixTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &UnixTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(t.as_nanos())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UnixTime, D::Error> {
        u64::deserialize(d).map(UnixTime::from_nanos)
    }
}

/// `Option<UnixTime>` as integer nanoseconds or `null`.
mod opt_nanos {
    use super::UnixTime;
    use serde::{Deserialize, Deserializer, Serializer};

    // serde's `with` hands over `&Option<T>`.
    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(t: &Option<UnixTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.as_nanos()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<UnixTime>, D::Error> {
        Option::<u64>::deserialize(d).map(|o| o.map(UnixTime::from_nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_at: Option<u64>) -> ApiKeyRecord {
        NewRecord {
            id: "id-1".into(),
            hash: ApiKeyHash::from_bytes([1; 32]),
            name: "ci".into(),
            owner: "alice".into(),
            scopes: vec!["read:orders".into()],
            roles: vec!["user".into()],
            created_at: UnixTime::from_secs(100),
            expires_at: expires_at.map(UnixTime::from_secs),
        }
        .into()
    }

    fn rotation(now: u64, grace: u64) -> Rotation {
        Rotation {
            new_id: "id-2".into(),
            new_hash: ApiKeyHash::from_bytes([2; 32]),
            now: UnixTime::from_secs(now),
            grace_until: UnixTime::from_secs(now + grace),
        }
    }

    #[test]
    fn status_follows_expiry_and_revocation() {
        let mut r = record(Some(200));
        assert_eq!(r.status(UnixTime::from_secs(199)), ApiKeyStatus::Active);
        assert_eq!(r.status(UnixTime::from_secs(200)), ApiKeyStatus::Expired);
        r.revoke(UnixTime::from_secs(150));
        assert_eq!(r.status(UnixTime::from_secs(151)), ApiKeyStatus::Revoked);
        r.revoke(UnixTime::from_secs(160));
        assert_eq!(r.revoked_at, Some(UnixTime::from_secs(150)));
    }

    #[test]
    fn rotation_moves_the_old_expiry_to_the_grace_end_and_copies_grants() {
        let mut old = record(None);
        let new = old.rotate_into(&rotation(1_000, 60));
        assert_eq!(old.expires_at, Some(UnixTime::from_secs(1_060)));
        assert_eq!(old.replaced_by, Some("id-2".into()));
        assert!(!old.can_rotate(UnixTime::from_secs(1_001)));
        assert_eq!(new.id.as_str(), "id-2");
        assert_eq!(new.owner, "alice");
        assert_eq!(new.scopes, old.scopes);
        assert_eq!(new.roles, old.roles);
        assert_eq!(new.expires_at, None);
        assert_eq!(new.created_at, UnixTime::from_secs(1_000));
        assert!(new.can_rotate(UnixTime::from_secs(1_000)));
    }

    #[test]
    fn rotation_never_extends_the_old_key() {
        let mut old = record(Some(1_010));
        let new = old.rotate_into(&rotation(1_000, 3_600));
        assert_eq!(old.expires_at, Some(UnixTime::from_secs(1_010)));
        assert_eq!(new.expires_at, Some(UnixTime::from_secs(1_010)));
    }

    #[test]
    fn last_use_only_moves_forward() {
        let mut r = record(None);
        r.record_use(UnixTime::from_secs(500));
        r.record_use(UnixTime::from_secs(400));
        assert_eq!(r.last_used_at, Some(UnixTime::from_secs(500)));
    }

    #[test]
    fn records_round_trip_through_json() {
        let mut r = record(Some(300));
        r.record_use(UnixTime::from_nanos(123_456_789_012));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["created_at"], 100_000_000_000u64);
        assert_eq!(json["revoked_at"], serde_json::Value::Null);
        assert_eq!(json["hash"].as_str().unwrap().len(), 64);
        let back: ApiKeyRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
