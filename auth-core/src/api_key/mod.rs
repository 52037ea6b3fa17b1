//! API keys: generation, storage as digests only, verification, revocation and rotation.
//!
//! [`ApiKeys`] is the service: it generates keys, hashes them, talks to an [`ApiKeyStore`]
//! ([`MemoryApiKeyStore`] with the `memory-store` feature) and turns a presented key into a
//! [`Principal`](crate::Principal) with method [`AuthMethod::ApiKey`](crate::AuthMethod), the
//! owner as subject and the key's scopes and roles. `auth-tower`'s `ApiKeyLayer` puts it in
//! front of services.
//!
//! # Format
//!
//! `<prefix>_<random><checksum>`, e.g. `demo_live_` followed by 49 base62 characters:
//!
//! - `prefix`: yours, `[a-z][a-z0-9_]{1,23}` ([`ApiKeyPrefix`]);
//! - `random`: 32 bytes from the OS CSPRNG (`getrandom`) in base62, exactly 43 characters;
//! - `checksum`: CRC32 of `<prefix>_<random>` in base62, exactly 6 characters.
//!
//! A typo, a truncated paste or a random string fails the checksum and is rejected
//! (`INVALID_API_KEY`) without a store lookup; secret scanners can match
//! `<prefix>_[0-9A-Za-z]{49}` and confirm with the CRC. Each key also has a public
//! [`ApiKeyId`] (22 base62 characters) for listings, URLs and logs.
//!
//! # At rest: a digest, never the key
//!
//! The store gets an [`ApiKeyHash`]: SHA-256 of the key or, with a [`Pepper`] configured,
//! HMAC-SHA256 under that server-side secret. The plaintext exists only in the
//! [`CreatedApiKey`] returned by [`ApiKeys::create`] / [`ApiKeys::rotate`]; its type
//! ([`ApiKeySecret`]) redacts itself in `Debug`. Verification hashes the presented key and
//! looks it up by digest (one hash-index lookup, whatever the number of keys), then compares
//! the digests again in constant time.
//!
//! # Keys from another system
//!
//! [`ApiKeys::import`] takes keys a service cannot re-issue (another format, another system):
//! by plaintext, hashed at import, or by the SHA-256 digest the old system kept
//! ([`LegacyDigest`]; nothing weaker is accepted). With
//! [`accept_imported_keys`](ApiKeysBuilder::accept_imported_keys), values not shaped like this
//! service's keys are looked up as imported keys; values shaped like them still must pass the
//! checksum. See [`ImportedKey`] for the rules, and rotate imported keys into native ones.
//!
//! # Rotation and usage
//!
//! [`ApiKeys::rotate`] issues a replacement with the same name, grants and expiry; the old
//! key keeps working until `now + grace`, then is rejected as `API_KEY_EXPIRED`.
//! `last_used_at` is written at most once per key per interval (60 s by default): a
//! successful verification may hand back a [`UsageWrite`] for the caller to spawn, so no
//! request waits on a store write and auth-core needs no runtime.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "memory-store")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_core::api_key::{ApiKeys, MemoryApiKeyStore, NewApiKey};
//! use auth_core::clock::{ManualClock, UnixTime};
//! use auth_core::ErrorCode;
//! use std::time::Duration;
//!
//! let clock = ManualClock::new(UnixTime::from_secs(1_800_000_000));
//! let keys = ApiKeys::builder(MemoryApiKeyStore::new())
//!     .prefix("demo_live")
//!     .clock(clock.clone())
//!     .build()?;
//!
//! let created = keys
//!     .create(NewApiKey::new("alice", "nightly export").scopes(["read:orders"]))
//!     .await?;
//! let key = created.key.expose_secret(); // shown once; only its digest is stored
//! assert!(key.starts_with("demo_live_"));
//!
//! let principal = keys.verify(key).await?.principal().clone();
//! assert_eq!(principal.subject(), "alice");
//! assert!(principal.has_scope("read:orders"));
//!
//! // Rotate with a five-minute grace period: both keys work until it ends.
//! let replacement = keys.rotate(&created.record.id, "alice", Duration::from_secs(300)).await?;
//! clock.advance(Duration::from_secs(300));
//! assert_eq!(keys.verify(key).await.unwrap_err().code(), ErrorCode::ApiKeyExpired);
//! assert!(keys.verify(replacement.key.expose_secret()).await.is_ok());
//! # Ok(()) }
//! # #[cfg(not(feature = "memory-store"))]
//! # fn main() {}
//! ```
//!
//! # Security considerations
//!
//! - 256 random bits make guessing hopeless, so a fast hash is the right one (a slow password
//!   hash would only add latency). The pepper means a stolen copy of the store alone cannot
//!   even confirm a leaked key; changing it invalidates every key.
//! - Format errors, unknown keys and digest mismatches are all `INVALID_API_KEY`; the precise
//!   reason goes to `tracing` (target `auth::api_key`, debug). Keys are never logged; key ids
//!   may be.
//! - Another owner's key id behaves like an unknown id in [`ApiKeys::revoke`] and
//!   [`ApiKeys::rotate`] (both [`ApiKeyError::NotFound`]).
//! - Rotation never extends a key: the replacement inherits the old expiry, and the old key's
//!   grace period ends no later than its own expiry.

mod generate;
mod hash;
mod import;
#[cfg(feature = "memory-store")]
mod memory;
mod prepared;
mod record;
mod store;
mod usage;
mod verifier;

pub use generate::{ApiKeyPrefix, ApiKeySecret, KeyFormatError, RandomError};
pub use hash::{ApiKeyHash, Pepper};
pub use import::{ImportedKey, LegacyDigest, MAX_IMPORTED_KEY_LEN, MIN_IMPORTED_KEY_LEN};
#[cfg(feature = "memory-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory-store")))]
pub use memory::MemoryApiKeyStore;
pub use prepared::PreparedKey;
pub use record::{ApiKeyId, ApiKeyRecord, ApiKeyStatus, KeyOrigin, Rotation};
pub use store::{ApiKeyStore, RotateOutcome, StoreError};
pub use usage::UsageWrite;
pub use verifier::{
    ApiKeyError, ApiKeys, ApiKeysBuilder, CreatedApiKey, DEFAULT_USAGE_INTERVAL, MAX_GRANTS,
    NewApiKey, Verified, Verify,
};
