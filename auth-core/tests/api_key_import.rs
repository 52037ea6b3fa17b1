//! API keys from an existing system (issue 18, "API keys from an existing system"): keys in
//! another format imported by plaintext or by their SHA-256 digest, verified without the
//! format check only when imports are accepted and only for values not shaped like ours;
//! native keys and their typos are unaffected.
#![cfg(all(feature = "api-key", feature = "memory-store"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::api_key::{
    ApiKeyError, ApiKeyHash, ApiKeyId, ApiKeyRecord, ApiKeyStore, ApiKeys, ImportedKey, KeyOrigin,
    LegacyDigest, MemoryApiKeyStore, NewApiKey, Pepper, RotateOutcome, Rotation, StoreError,
};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::{AuthMethod, ErrorCode};
use sha2::{Digest, Sha256};

const T0: u64 = 1_800_000_000;
const LEGACY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
const PEPPER: &[u8] = b"a server-side pepper of 32 bytes or more!";

/// A memory store that counts digest lookups.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryApiKeyStore,
    lookups: AtomicUsize,
}

#[async_trait]
impl ApiKeyStore for Counting {
    async fn create(&self, r: ApiKeyRecord) -> Result<(), StoreError> {
        self.inner.create(r).await
    }
    async fn find_by_hash(&self, h: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.find_by_hash(h).await
    }
    async fn list_by_owner(&self, o: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.inner.list_by_owner(o).await
    }
    async fn revoke(
        &self,
        id: &ApiKeyId,
        o: &str,
        at: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.inner.revoke(id, o, at).await
    }
    async fn rotate(
        &self,
        id: &ApiKeyId,
        o: &str,
        r: Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        self.inner.rotate(id, o, r).await
    }
    async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError> {
        self.inner.record_use(id, at).await
    }
}

struct Setup {
    keys: ApiKeys,
    store: Arc<Counting>,
    clock: ManualClock,
}

fn setup(imports: bool, pepper: bool) -> Setup {
    let store = Arc::new(Counting::default());
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let mut b = ApiKeys::builder_shared(store.clone())
        .prefix("acme_live")
        .clock(clock.clone());
    if imports {
        b = b.accept_imported_keys();
    }
    if pepper {
        b = b.pepper(Pepper::new(PEPPER).unwrap());
    }
    Setup {
        keys: b.build().unwrap(),
        store,
        clock,
    }
}

fn legacy_owner() -> NewApiKey {
    NewApiKey::new("alice", "legacy export key")
        .scopes(["read:orders"])
        .roles(["exporter"])
}

fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

async fn code(keys: &ApiKeys, key: &str) -> ErrorCode {
    keys.verify(key).await.unwrap_err().code()
}

#[tokio::test]
async fn a_key_imported_by_plaintext_verifies_to_its_owner_with_its_grants() {
    for pepper in [false, true] {
        let s = setup(true, pepper);
        let record = s
            .keys
            .import(ImportedKey::from_plaintext(LEGACY, legacy_owner()))
            .await
            .unwrap();
        assert_eq!(record.origin, KeyOrigin::Imported);

        let p = s.keys.verify(LEGACY).await.unwrap().principal().clone();
        assert_eq!(p.subject(), "alice");
        assert_eq!(p.scopes(), ["read:orders"]);
        assert_eq!(p.roles(), ["exporter"]);
        assert_eq!(
            p.auth_method(),
            &AuthMethod::ApiKey {
                key_id: record.id.to_string()
            }
        );
        // One character off is an unknown key, not a format error, and costs one lookup.
        let before = s.store.lookups.load(Ordering::SeqCst);
        assert_eq!(
            code(&s.keys, "sk_live_4eC39HqLyjWDarjtT1zdp7dd").await,
            ErrorCode::InvalidApiKey
        );
        assert_eq!(s.store.lookups.load(Ordering::SeqCst), before + 1);
    }
}

#[tokio::test]
async fn a_key_imported_by_its_legacy_sha256_digest_verifies() {
    for pepper in [false, true] {
        let s = setup(true, pepper);
        let digest = LegacyDigest::sha256(sha256(LEGACY));
        s.keys
            .import(ImportedKey::from_digest(digest, legacy_owner()))
            .await
            .unwrap();
        assert_eq!(
            s.keys.verify(LEGACY).await.unwrap().principal().subject(),
            "alice",
            "pepper: {pepper}"
        );
    }
}

#[tokio::test]
async fn only_a_digest_is_stored_and_with_a_pepper_not_the_legacy_one() {
    let plain = setup(true, false);
    plain
        .keys
        .import(ImportedKey::from_plaintext(LEGACY, legacy_owner()))
        .await
        .unwrap();
    let stored = plain.store.inner.records();
    assert_eq!(stored[0].hash.as_bytes(), &sha256(LEGACY));
    assert!(!serde_json::to_string(&stored).unwrap().contains(LEGACY));

    let peppered = setup(true, true);
    peppered
        .keys
        .import(ImportedKey::from_plaintext(LEGACY, legacy_owner()))
        .await
        .unwrap();
    let stored = peppered.store.inner.records();
    assert_ne!(stored[0].hash.as_bytes(), &sha256(LEGACY));
    assert!(!serde_json::to_string(&stored).unwrap().contains(LEGACY));
}

#[tokio::test]
async fn typos_of_native_keys_never_reach_the_store_with_imports_on() {
    let s = setup(true, false);
    let native = s
        .keys
        .create(NewApiKey::new("bob", "ci"))
        .await
        .unwrap()
        .key;
    let key = native.expose_secret();
    assert_eq!(
        s.keys.verify(key).await.unwrap().principal().subject(),
        "bob"
    );
    let lookups = s.store.lookups.load(Ordering::SeqCst);

    let mut typo = key.to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    let truncated = &key[..key.len() - 1];
    let other_prefix = key.replacen("acme_live", "acme_lvie", 1);
    for bad in [
        typo.as_str(),
        truncated,
        &other_prefix,
        "acme_live_",
        "acme_live_x_y",
    ] {
        assert_eq!(code(&s.keys, bad).await, ErrorCode::InvalidApiKey, "{bad}");
    }
    assert_eq!(s.store.lookups.load(Ordering::SeqCst), lookups);
}

#[tokio::test]
async fn without_accepting_imports_foreign_values_are_refused_without_a_lookup() {
    let s = setup(false, false);
    assert_eq!(code(&s.keys, LEGACY).await, ErrorCode::InvalidApiKey);
    assert_eq!(s.store.lookups.load(Ordering::SeqCst), 0);
    assert_eq!(
        s.keys
            .import(ImportedKey::from_plaintext(LEGACY, legacy_owner()))
            .await
            .unwrap_err(),
        ApiKeyError::ImportsDisabled
    );
}

#[tokio::test]
async fn values_that_cannot_be_legacy_keys_are_refused_without_a_lookup() {
    let s = setup(true, false);
    for bad in [
        "",
        "has space",
        "caf\u{e9}-key-0123456789",
        &"x".repeat(513),
    ] {
        assert_eq!(
            code(&s.keys, bad).await,
            ErrorCode::InvalidApiKey,
            "{bad:?}"
        );
    }
    assert_eq!(s.store.lookups.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn plaintexts_that_are_short_odd_or_shaped_like_our_keys_are_refused_at_import() {
    let s = setup(true, false);
    let native_shaped = s.keys.prefix().generate().unwrap();
    let foreign_but_our_shape = native_shaped
        .expose_secret()
        .replacen("acme_live", "legacy", 1);
    for bad in [
        "short-key",
        "has a space in it 0123",
        native_shaped.expose_secret(),
        &foreign_but_our_shape,
        "acme_live_0123456789abcdef",
        &"k".repeat(513),
    ] {
        assert_eq!(
            s.keys
                .import(ImportedKey::from_plaintext(bad, legacy_owner()))
                .await
                .unwrap_err(),
            ApiKeyError::InvalidImportedKey,
            "{bad}"
        );
    }
    // Owner, grants and expiry are checked as for created keys.
    assert_eq!(
        s.keys
            .import(ImportedKey::from_plaintext(LEGACY, NewApiKey::new("", "x")))
            .await
            .unwrap_err(),
        ApiKeyError::InvalidOwner
    );
    assert!(s.store.inner.is_empty());
}

#[tokio::test]
async fn importing_the_same_key_twice_is_a_duplicate() {
    let s = setup(true, false);
    s.keys
        .import(ImportedKey::from_plaintext(LEGACY, legacy_owner()))
        .await
        .unwrap();
    let again = ImportedKey::from_digest(LegacyDigest::sha256(sha256(LEGACY)), legacy_owner());
    assert_eq!(
        s.keys.import(again).await.unwrap_err(),
        ApiKeyError::Store(StoreError::Duplicate)
    );
}

#[tokio::test]
async fn an_imported_key_expires_is_revoked_and_rotates_into_a_native_key() {
    let s = setup(true, false);
    let record = s
        .keys
        .import(ImportedKey::from_plaintext(
            LEGACY,
            legacy_owner().expires_in(Duration::from_secs(3_600)),
        ))
        .await
        .unwrap();
    assert_eq!(
        s.keys.list("alice").await.unwrap()[0].origin,
        KeyOrigin::Imported
    );

    // The migration: rotate into a native key, the legacy one works for the grace period.
    let native = s
        .keys
        .rotate(&record.id, "alice", Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(native.record.origin, KeyOrigin::Native);
    assert!(native.key.expose_secret().starts_with("acme_live_"));
    assert_eq!(native.record.scopes, ["read:orders"]);
    assert!(s.keys.verify(LEGACY).await.is_ok());
    s.clock.advance(Duration::from_secs(600));
    assert_eq!(code(&s.keys, LEGACY).await, ErrorCode::ApiKeyExpired);
    let p = s.keys.verify(native.key.expose_secret()).await.unwrap();
    assert_eq!(p.principal().subject(), "alice");

    // Revocation works on imported keys too.
    let other = "tok_9b8c7d6e5f4a3b2c1d0e";
    let r = s
        .keys
        .import(ImportedKey::from_plaintext(other, legacy_owner()))
        .await
        .unwrap();
    s.keys.revoke(&r.id, "alice").await.unwrap();
    assert_eq!(code(&s.keys, other).await, ErrorCode::ApiKeyRevoked);
}

#[test]
fn the_plaintext_never_shows_in_debug() {
    let k = ImportedKey::from_plaintext(LEGACY, legacy_owner());
    assert!(!format!("{k:?}").contains("4eC39"));
}
