//! Keys from another system: [`ImportedKey`], [`LegacyDigest`] and [`ApiKeys::import`]; see
//! [`ImportedKey`] for the rules.

use std::fmt;

use super::generate::{ApiKeyPrefix, CHECKSUM_CHARS, RANDOM_CHARS, new_id};
use super::hash::ApiKeyHash;
use super::record::{ApiKeyId, ApiKeyRecord, KeyOrigin};
use super::verifier::{ApiKeyError, ApiKeys, NewApiKey};

/// The shortest plaintext [`ImportedKey::from_plaintext`] accepts, in bytes.
pub const MIN_IMPORTED_KEY_LEN: usize = 16;
/// The longest imported key, in bytes: longer plaintexts are refused at import, longer
/// presented values are refused without a store lookup.
pub const MAX_IMPORTED_KEY_LEN: usize = 512;

/// The SHA-256 digest of a legacy key, as another system stored it: for
/// [`ImportedKey::from_digest`] when the plaintexts are gone.
///
/// **Only SHA-256 of the exact key bytes** (no salt, no encoding step, not truncated) can be
/// imported: the presented key is hashed the same way at verification. Keys the old system
/// kept under a weaker or different hash (MD5, SHA-1, a salted or slow hash, a truncated
/// digest) cannot be imported by digest: import their plaintexts if they still exist, or
/// re-issue them. There is deliberately no constructor for another algorithm.
///
/// With a [`Pepper`](super::Pepper), the digest is stored as `HMAC-SHA256(pepper, digest)`,
/// so a stolen copy of the store cannot confirm an imported key either.
///
/// ```
/// use auth_core::api_key::LegacyDigest;
///
/// // A SHA-256 digest as the old system's database holds it, in hex.
/// let d = LegacyDigest::sha256_hex("7b1a3c2f5d1f0f4d7c1f1d7e8b8a2e3c0d5f6a7b8c9d0e1f2a3b4c5d6e7f8091");
/// assert!(d.is_some());
/// assert!(LegacyDigest::sha256_hex("d41d8cd98f00b204e9800998ecf8427e").is_none()); // an MD5
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LegacyDigest([u8; 32]);

impl LegacyDigest {
    /// The SHA-256 digest of the key, as bytes.
    #[must_use]
    pub const fn sha256(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The SHA-256 digest of the key, as 64 hex digits (either case); `None` for anything
    /// else (including the 32 or 40 digits of an MD5 or SHA-1 digest).
    #[must_use]
    pub fn sha256_hex(hex: &str) -> Option<Self> {
        ApiKeyHash::from_hex(hex).map(|h| Self(*h.as_bytes()))
    }
}

impl fmt::Debug for LegacyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = ApiKeyHash::from_bytes(self.0).to_hex();
        write!(f, "LegacyDigest({}..)", hex.get(..8).unwrap_or_default())
    }
}

/// A key from another system, for [`ApiKeys::import`]: its secret (plaintext or
/// [`LegacyDigest`]) and what a [`NewApiKey`] says (owner, name, scopes, roles, expiry).
///
/// A service migrating here may hold keys it cannot re-issue at once. They keep their format
/// (whatever it is) and are imported with their owner and grants, by plaintext (hashed at
/// import, never stored) or by the SHA-256 digest the old system kept. Verification accepts
/// them only when the [`ApiKeys`] was built with
/// [`accept_imported_keys`](super::ApiKeysBuilder::accept_imported_keys), and only for
/// presented values that are not shaped like this service's keys:
///
/// - a value with this service's prefix (`<prefix>_...`), or ending in `_` and 49 base62
///   characters, is a native key: it must pass the checksum, and a typo is still refused
///   without a store lookup (so legacy keys shaped like that cannot be imported: give this
///   service a prefix the old keys do not use);
/// - any other value of at most [`MAX_IMPORTED_KEY_LEN`] visible ASCII characters is looked up
///   under the imported-key digest (see [`LegacyDigest`]): one store lookup, like a native key.
///
/// Imported keys are otherwise ordinary records ([`KeyOrigin::Imported`]): listed, revoked,
/// expired and rotated like native ones. Rotating one issues a native key and keeps the
/// imported one working for the grace period: that is the way off the old format.
///
/// Import does not judge a legacy key's strength beyond the minimum length of plaintexts
/// (a digest cannot be checked at all): rotate short or low-entropy legacy keys first.
///
/// `Debug` never shows the plaintext.
///
/// ```
/// use auth_core::api_key::{ImportedKey, LegacyDigest, NewApiKey};
///
/// let by_plaintext = ImportedKey::from_plaintext(
///     "sk_3f9a7c1e5b2d4f6a8c0e1b3d5f7a9c2e",
///     NewApiKey::new("alice", "legacy export key").scopes(["read:orders"]),
/// );
/// assert!(!format!("{by_plaintext:?}").contains("3f9a7c"));
///
/// let by_digest = ImportedKey::from_digest(
///     LegacyDigest::sha256([0x5e; 32]),
///     NewApiKey::new("bob", "legacy billing key").roles(["billing"]),
/// );
/// # let _ = by_digest;
/// ```
#[derive(Clone)]
#[must_use]
pub struct ImportedKey {
    secret: Secret,
    new: NewApiKey,
}

#[derive(Clone)]
enum Secret {
    Plaintext(String),
    Digest(LegacyDigest),
}

impl ImportedKey {
    /// A key whose plaintext is known: hashed at import (SHA-256, through the pepper if any),
    /// never stored. It must be [`MIN_IMPORTED_KEY_LEN`] to [`MAX_IMPORTED_KEY_LEN`] visible
    /// ASCII characters and not shaped like this service's keys (see above).
    pub fn from_plaintext(key: impl Into<String>, new: NewApiKey) -> Self {
        Self {
            secret: Secret::Plaintext(key.into()),
            new,
        }
    }

    /// A key known only by the SHA-256 digest the old system kept.
    pub fn from_digest(digest: LegacyDigest, new: NewApiKey) -> Self {
        Self {
            secret: Secret::Digest(digest),
            new,
        }
    }
}

impl fmt::Debug for ImportedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ImportedKey");
        match &self.secret {
            Secret::Plaintext(_) => d.field("plaintext", &"REDACTED"),
            Secret::Digest(digest) => d.field("digest", digest),
        };
        d.field("new", &self.new).finish()
    }
}

/// Whether `value` looks like one of this service's keys (right or mistyped): it carries
/// `prefix` followed by `_`, or ends in `_` and as many base62 characters as a key has.
/// Such values are checked as native keys only, never looked up as imported ones.
pub(super) fn native_shaped(prefix: &ApiKeyPrefix, value: &str) -> bool {
    let claims_prefix = value
        .strip_prefix(prefix.as_str())
        .is_some_and(|rest| rest.starts_with('_'));
    let native_tail = value.rsplit_once('_').is_some_and(|(_, tail)| {
        tail.len() == RANDOM_CHARS + CHECKSUM_CHARS
            && tail.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    claims_prefix || native_tail
}

/// Whether a presented value that failed the native format check may be an imported key:
/// not shaped like a native key, 1 to [`MAX_IMPORTED_KEY_LEN`] visible ASCII characters.
pub(super) fn may_be_imported(prefix: &ApiKeyPrefix, value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_IMPORTED_KEY_LEN
        && value.bytes().all(|b| b.is_ascii_graphic())
        && !native_shaped(prefix, value)
}

impl ApiKeys {
    /// Imports a key from another system, stored like a native key (its digest only) with
    /// [`KeyOrigin::Imported`], and returns the stored record. Needs
    /// [`accept_imported_keys`](super::ApiKeysBuilder::accept_imported_keys), without which
    /// imported keys would never verify. See the [`ImportedKey`] and [`LegacyDigest`] docs for
    /// what can be imported, and the README's "API keys" section for the migration path.
    ///
    /// ```
    /// # #[cfg(feature = "memory-store")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::api_key::{ApiKeys, ImportedKey, KeyOrigin, MemoryApiKeyStore, NewApiKey};
    ///
    /// let keys = ApiKeys::builder(MemoryApiKeyStore::new())
    ///     .prefix("acme_live")
    ///     .accept_imported_keys()
    ///     .build()?;
    /// let legacy = "sk_3f9a7c1e5b2d4f6a8c0e1b3d5f7a9c2e";
    /// let record = keys
    ///     .import(ImportedKey::from_plaintext(legacy, NewApiKey::new("alice", "legacy").scopes(["read:orders"])))
    ///     .await?;
    /// assert_eq!(record.origin, KeyOrigin::Imported);
    ///
    /// let principal = keys.verify(legacy).await?.principal().clone();
    /// assert_eq!(principal.subject(), "alice");
    /// assert!(principal.has_scope("read:orders"));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "memory-store"))]
    /// # fn main() {}
    /// ```
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::ImportsDisabled`] without `accept_imported_keys`;
    /// [`ApiKeyError::InvalidImportedKey`] for a plaintext that is too short, too long, not
    /// visible ASCII or shaped like this service's keys; what [`ApiKeys::create`] reports for
    /// the owner, name, grants and expiry; [`ApiKeyError::Store`] with
    /// [`StoreError::Duplicate`](super::StoreError::Duplicate) when the key was imported
    /// before.
    pub async fn import(&self, imported: ImportedKey) -> Result<ApiKeyRecord, ApiKeyError> {
        if !self.accepts_imported_keys() {
            return Err(ApiKeyError::ImportsDisabled);
        }
        let (hash, source) = match &imported.secret {
            Secret::Plaintext(key) => {
                let len_ok = (MIN_IMPORTED_KEY_LEN..=MAX_IMPORTED_KEY_LEN).contains(&key.len());
                if !len_ok || !may_be_imported(self.prefix(), key) {
                    return Err(ApiKeyError::InvalidImportedKey);
                }
                (self.hasher().hash_imported(key), "plaintext")
            }
            Secret::Digest(d) => (self.hasher().hash_imported_sha256(d.0), "digest"),
        };
        let mut record = imported
            .new
            .into_record(ApiKeyId::from(new_id()?), hash, self.now())?;
        record.origin = KeyOrigin::Imported;
        self.store().create(record.clone()).await?;
        tracing::info!(
            target: "auth::api_key",
            key_id = %record.id,
            owner = %record.owner,
            source,
            "api key imported",
        );
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix() -> ApiKeyPrefix {
        ApiKeyPrefix::new("acme_live").unwrap()
    }

    #[test]
    fn values_shaped_like_native_keys_are_never_imported_ones() {
        let p = prefix();
        let native = p.generate().unwrap();
        let mut typo = native.expose_secret().to_owned();
        typo.pop();
        typo.push('!');
        for v in [
            native.expose_secret(),
            typo.as_str(),
            "acme_live_short",
            "acme_live_",
            "acme_live_with_more_underscores",
            // Another prefix, but our shape: a mistyped prefix of a native key.
            &format!(
                "acme_lvie_{}",
                &native.expose_secret()["acme_live_".len()..]
            ),
        ] {
            assert!(native_shaped(&p, v), "{v}");
            assert!(!may_be_imported(&p, v), "{v}");
        }
    }

    #[test]
    fn other_visible_ascii_values_may_be_imported_keys() {
        let p = prefix();
        for v in [
            "sk_3f9a7c1e5b2d4f6a8c0e1b3d5f7a9c2e",
            "acme_3f9a7c1e5b2d4f6a",
            "acme_liveX",
            "0123456789abcdef0123456789abcdef",
            "k",
        ] {
            assert!(may_be_imported(&p, v), "{v}");
        }
        for v in ["", "has space", "tab\there", "caf\u{e9}", &"x".repeat(513)] {
            assert!(!may_be_imported(&p, v), "{v:?}");
        }
    }

    #[test]
    fn legacy_digests_are_sha256_only() {
        let hex = "AB".repeat(32);
        assert_eq!(
            LegacyDigest::sha256_hex(&hex),
            Some(LegacyDigest::sha256([0xab; 32]))
        );
        for weaker in [
            "d41d8cd98f00b204e9800998ecf8427e",         // MD5
            "da39a3ee5e6b4b0d3255bfef95601890afd80709", // SHA-1
        ] {
            assert!(LegacyDigest::sha256_hex(weaker).is_none(), "{weaker}");
        }
        assert_eq!(
            format!("{:?}", LegacyDigest::sha256([0xab; 32])),
            "LegacyDigest(abababab..)"
        );
    }
}
