//! Conformance cases of [`ApiKeyStore`](auth_core::api_key::ApiKeyStore): lookup by digest,
//! owner checks, rotation with grace, imported keys.

use std::sync::Arc;

use auth_core::api_key::{
    ApiKeyHash, ApiKeyRecord, ApiKeys, ImportedKey, KeyOrigin, LegacyDigest, NewApiKey, Pepper,
    RotateOutcome as KeyRotateOutcome, Rotation, StoreError as KeyStoreError,
};

use super::{Stores, at};

fn record(id: &str, byte: u8, owner: &str, created: u64, expires: Option<u64>) -> ApiKeyRecord {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "hash": ApiKeyHash::from_bytes([byte; 32]).to_hex(),
        "name": format!("key {id}"),
        "owner": owner,
        "scopes": ["read:orders"],
        "roles": ["user"],
        "created_at": at(created).as_nanos(),
        "expires_at": expires.map(|e| at(e).as_nanos()),
        "revoked_at": null,
        "last_used_at": null,
        "replaced_by": null,
    }))
    .unwrap()
}

fn rotation(new_id: &str, byte: u8, now: u64, grace: u64) -> Rotation {
    Rotation::new(
        new_id.into(),
        ApiKeyHash::from_bytes([byte; 32]),
        at(now),
        at(now + grace),
    )
}

fn hash(byte: u8) -> ApiKeyHash {
    ApiKeyHash::from_bytes([byte; 32])
}

pub async fn api_keys_are_found_by_digest_only(s: &Stores) {
    let st = &s.api_keys;
    let r = record("a", 1, "alice", 1, Some(1000));
    st.create(r.clone()).await.unwrap();
    assert_eq!(st.find_by_hash(&hash(1)).await.unwrap(), Some(r));
    assert_eq!(st.find_by_hash(&hash(2)).await.unwrap(), None);
    let forever = record("b", 3, "alice", 1, None);
    st.create(forever.clone()).await.unwrap();
    assert_eq!(st.find_by_hash(&hash(3)).await.unwrap(), Some(forever));
}

pub async fn api_keys_duplicate_id_or_digest_is_refused(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("a", 1, "alice", 1, Some(1000)))
        .await
        .unwrap();
    assert_eq!(
        st.create(record("a", 2, "alice", 1, Some(1000))).await,
        Err(KeyStoreError::Duplicate)
    );
    assert_eq!(
        st.create(record("b", 1, "bob", 1, Some(1000))).await,
        Err(KeyStoreError::Duplicate)
    );
    assert_eq!(st.find_by_hash(&hash(2)).await.unwrap(), None);
    assert!(st.list_by_owner("bob").await.unwrap().is_empty());
    assert_eq!(st.list_by_owner("alice").await.unwrap().len(), 1);
}

pub async fn api_keys_are_listed_by_owner_oldest_first(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("c", 3, "alice", 3, Some(1000)))
        .await
        .unwrap();
    st.create(record("a", 1, "alice", 1, None)).await.unwrap();
    st.create(record("b", 2, "alice", 2, Some(1000)))
        .await
        .unwrap();
    st.create(record("z", 4, "bob", 0, Some(1000)))
        .await
        .unwrap();
    let ids: Vec<String> = st
        .list_by_owner("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(st.list_by_owner("carol").await.unwrap().is_empty());
}

pub async fn api_keys_revoke_checks_the_owner_and_keeps_the_first_time(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("a", 1, "alice", 1, None)).await.unwrap();
    assert_eq!(st.revoke(&"a".into(), "bob", at(5)).await.unwrap(), None);
    assert_eq!(
        st.revoke(&"missing".into(), "alice", at(5)).await.unwrap(),
        None
    );
    let r = st
        .revoke(&"a".into(), "alice", at(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.revoked_at, Some(at(5)));
    let r = st
        .revoke(&"a".into(), "alice", at(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.revoked_at, Some(at(5)));
    let found = st.find_by_hash(&hash(1)).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(at(5)));
    assert_eq!(st.list_by_owner("alice").await.unwrap().len(), 1);
}

pub async fn api_keys_rotation_moves_the_old_expiry_and_stores_the_replacement(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("a", 1, "alice", 1, None)).await.unwrap();
    assert_eq!(
        st.rotate(&"a".into(), "bob", rotation("b", 2, 100, 10))
            .await
            .unwrap(),
        KeyRotateOutcome::NotFound
    );
    let KeyRotateOutcome::Rotated {
        previous,
        replacement,
    } = st
        .rotate(&"a".into(), "alice", rotation("b", 2, 100, 10))
        .await
        .unwrap()
    else {
        panic!("not rotated")
    };
    assert_eq!(previous.expires_at, Some(at(110)));
    assert_eq!(previous.replaced_by, Some("b".into()));
    assert_eq!(replacement.id.as_str(), "b");
    assert_eq!(replacement.owner, "alice");
    assert_eq!(replacement.name, "key a");
    assert_eq!(replacement.scopes, previous.scopes);
    assert_eq!(replacement.roles, previous.roles);
    assert_eq!(replacement.created_at, at(100));
    assert_eq!(replacement.expires_at, None);
    assert_eq!(
        st.find_by_hash(&hash(1)).await.unwrap().as_ref(),
        Some(&*previous)
    );
    assert_eq!(
        st.find_by_hash(&hash(2)).await.unwrap().as_ref(),
        Some(&*replacement)
    );
    // The old key cannot be rotated again; the new one can.
    assert_eq!(
        st.rotate(&"a".into(), "alice", rotation("c", 3, 101, 10))
            .await
            .unwrap(),
        KeyRotateOutcome::NotActive
    );
    assert!(matches!(
        st.rotate(&"b".into(), "alice", rotation("c", 3, 101, 10))
            .await
            .unwrap(),
        KeyRotateOutcome::Rotated { .. }
    ));
    assert_eq!(st.list_by_owner("alice").await.unwrap().len(), 3);
}

pub async fn api_keys_rotation_never_extends_an_expiring_key(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("a", 1, "alice", 1, Some(1010)))
        .await
        .unwrap();
    let KeyRotateOutcome::Rotated {
        previous,
        replacement,
    } = st
        .rotate(&"a".into(), "alice", rotation("b", 2, 1000, 3600))
        .await
        .unwrap()
    else {
        panic!("not rotated")
    };
    assert_eq!(previous.expires_at, Some(at(1010)));
    assert_eq!(replacement.expires_at, Some(at(1010)));
}

pub async fn api_keys_rotation_with_a_taken_id_or_digest_changes_nothing(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("a", 1, "alice", 1, None)).await.unwrap();
    st.create(record("b", 2, "alice", 1, None)).await.unwrap();
    assert_eq!(
        st.rotate(&"a".into(), "alice", rotation("b", 9, 100, 10))
            .await,
        Err(KeyStoreError::Duplicate)
    );
    assert_eq!(
        st.rotate(&"a".into(), "alice", rotation("z", 2, 100, 10))
            .await,
        Err(KeyStoreError::Duplicate)
    );
    let a = st.find_by_hash(&hash(1)).await.unwrap().unwrap();
    assert_eq!(a.expires_at, None);
    assert_eq!(a.replaced_by, None);
    assert_eq!(st.find_by_hash(&hash(9)).await.unwrap(), None);
}

pub async fn api_keys_expired_and_revoked_keys_cannot_be_rotated(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("a", 1, "alice", 1, Some(50)))
        .await
        .unwrap();
    assert_eq!(
        st.rotate(&"a".into(), "alice", rotation("b", 2, 50, 10))
            .await
            .unwrap(),
        KeyRotateOutcome::NotActive
    );
    st.create(record("c", 3, "alice", 1, None)).await.unwrap();
    st.revoke(&"c".into(), "alice", at(5)).await.unwrap();
    assert_eq!(
        st.rotate(&"c".into(), "alice", rotation("d", 4, 6, 10))
            .await
            .unwrap(),
        KeyRotateOutcome::NotActive
    );
    assert_eq!(
        st.rotate(&"missing".into(), "alice", rotation("e", 5, 6, 10))
            .await
            .unwrap(),
        KeyRotateOutcome::NotFound
    );
}

pub async fn api_keys_concurrent_rotations_yield_one_replacement(s: &Stores) {
    s.api_keys
        .create(record("a", 1, "alice", 1, None))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8u8)
        .map(|i| {
            let st = Arc::clone(&s.api_keys);
            tokio::spawn(async move {
                st.rotate(
                    &"a".into(),
                    "alice",
                    rotation(&format!("n{i}"), 10 + i, 100, 10),
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut rotated = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), KeyRotateOutcome::Rotated { .. }) {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1);
    assert_eq!(s.api_keys.list_by_owner("alice").await.unwrap().len(), 2);
}

pub async fn api_keys_last_use_only_moves_forward(s: &Stores) {
    let st = &s.api_keys;
    st.create(record("a", 1, "alice", 1, None)).await.unwrap();
    st.record_use(&"a".into(), at(9)).await.unwrap();
    st.record_use(&"a".into(), at(5)).await.unwrap();
    st.record_use(&"missing".into(), at(9)).await.unwrap();
    let r = st.find_by_hash(&hash(1)).await.unwrap().unwrap();
    assert_eq!(r.last_used_at, Some(at(9)));
}

/// `record`, imported from another system.
fn imported(id: &str, byte: u8, owner: &str, created: u64, expires: Option<u64>) -> ApiKeyRecord {
    let mut r = record(id, byte, owner, created, expires);
    r.origin = KeyOrigin::Imported;
    r
}

// Issue 18, API keys from an existing system: the origin survives every store operation.
pub async fn api_keys_imported_records_keep_their_origin(s: &Stores) {
    let st = &s.api_keys;
    let r = imported("a", 1, "alice", 1, None);
    st.create(r.clone()).await.unwrap();
    st.create(record("b", 2, "alice", 2, None)).await.unwrap();
    assert_eq!(st.find_by_hash(&hash(1)).await.unwrap(), Some(r));
    let origins: Vec<KeyOrigin> = st
        .list_by_owner("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.origin)
        .collect();
    assert_eq!(origins, [KeyOrigin::Imported, KeyOrigin::Native]);
    st.record_use(&"a".into(), at(5)).await.unwrap();
    let revoked = st
        .revoke(&"a".into(), "alice", at(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.origin, KeyOrigin::Imported);
    assert_eq!(revoked.last_used_at, Some(at(5)));
    let found = st.find_by_hash(&hash(1)).await.unwrap().unwrap();
    assert_eq!(found.origin, KeyOrigin::Imported);
}

// Issue 18, API keys from an existing system: rotation is the way off the old format.
pub async fn api_keys_rotating_an_imported_key_stores_a_native_replacement(s: &Stores) {
    let st = &s.api_keys;
    st.create(imported("a", 1, "alice", 1, None)).await.unwrap();
    let KeyRotateOutcome::Rotated {
        previous,
        replacement,
    } = st
        .rotate(&"a".into(), "alice", rotation("b", 2, 100, 10))
        .await
        .unwrap()
    else {
        panic!("not rotated")
    };
    assert_eq!(previous.origin, KeyOrigin::Imported);
    assert_eq!(replacement.origin, KeyOrigin::Native);
    assert_eq!(
        st.find_by_hash(&hash(1)).await.unwrap().as_ref(),
        Some(&*previous)
    );
    assert_eq!(
        st.find_by_hash(&hash(2)).await.unwrap().as_ref(),
        Some(&*replacement)
    );
}

// Issue 18, API keys from an existing system: imported by plaintext and by digest, with and
// without a pepper, verified through `ApiKeys` over this store.
pub async fn api_keys_imported_keys_verify_through_the_store(s: &Stores) {
    // Without a pepper, `ApiKeys::hash` is the plain SHA-256 of a key: the legacy digest.
    let sha256 = |key: &str| {
        let plain = ApiKeys::builder(auth_core::api_key::MemoryApiKeyStore::new())
            .prefix("any_prefix")
            .build()
            .unwrap();
        *plain.hash(key).as_bytes()
    };
    for (pepper, legacy) in [
        (None, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        (
            Some(b"a server-side pepper of 32 bytes or more!"),
            "sk_live_Zq8Wm2Rt6Yp0Ls4Kd9Fh3Jx7",
        ),
    ] {
        let mut b = ApiKeys::builder_shared(Arc::clone(&s.api_keys))
            .prefix("acme_live")
            .clock(s.clock.clone())
            .accept_imported_keys();
        if let Some(p) = pepper {
            b = b.pepper(Pepper::new(p.as_slice()).unwrap());
        }
        let keys = b.build().unwrap();
        keys.import(ImportedKey::from_plaintext(
            legacy,
            NewApiKey::new("alice", "legacy").scopes(["read:orders"]),
        ))
        .await
        .unwrap();
        let by_digest = format!("{legacy}-by-digest");
        keys.import(ImportedKey::from_digest(
            LegacyDigest::sha256(sha256(&by_digest)),
            NewApiKey::new("bob", "legacy").roles(["billing"]),
        ))
        .await
        .unwrap();
        let alice = keys.verify(legacy).await.unwrap();
        assert_eq!(alice.principal().subject(), "alice");
        assert!(alice.principal().has_scope("read:orders"));
        let bob = keys.verify(&by_digest).await.unwrap();
        assert!(bob.principal().has_role("billing"));
        let native = keys.create(NewApiKey::new("carol", "new")).await.unwrap();
        assert!(keys.verify(native.key.expose_secret()).await.is_ok());
        assert!(keys.verify("sk_live_unknown_0000000000").await.is_err());
    }
}

/// Issue 19: rotations and revocations of one key racing (e.g. an owner's two browser tabs, or
/// two instances). Whatever the interleaving, each operation sees one consistent record: the key
/// ends revoked; at most one replacement exists, and a rotation that won before the revocation
/// left the old record pointing at it, and one that lost changed nothing.
pub async fn api_keys_concurrent_rotation_and_revocation_leave_a_consistent_record(s: &Stores) {
    for round in 0..10u8 {
        let id = format!("race{round}");
        let base = 10 + round * 20;
        s.api_keys
            .create(record(&id, base, "alice", 1, None))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..4u8 {
            let st = Arc::clone(&s.api_keys);
            let key = id.clone();
            tasks.push(tokio::spawn(async move {
                let new_id = format!("{key}-n{i}");
                let r = rotation(&new_id, base + 1 + i, 100, 10);
                matches!(
                    st.rotate(&key.as_str().into(), "alice", r).await.unwrap(),
                    KeyRotateOutcome::Rotated { .. }
                )
            }));
            let st = Arc::clone(&s.api_keys);
            let key = id.clone();
            tasks.push(tokio::spawn(async move {
                st.revoke(&key.as_str().into(), "alice", at(100 + u64::from(i)))
                    .await
                    .unwrap()
                    .is_some()
            }));
        }
        let mut successes = 0;
        for t in tasks {
            if t.await.unwrap() {
                successes += 1;
            }
        }
        let old = s.api_keys.find_by_hash(&hash(base)).await.unwrap().unwrap();
        assert!(
            old.revoked_at.is_some(),
            "round {round}: the key ends revoked"
        );
        let mine: Vec<_> = s
            .api_keys
            .list_by_owner("alice")
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.id.as_str().starts_with(&format!("{id}-")))
            .collect();
        // Every revocation succeeds (the key exists and is alice's); at most one rotation does.
        assert!(mine.len() <= 1, "round {round}: {mine:?}");
        assert_eq!(successes, 4 + mine.len(), "round {round}");
        match (&old.replaced_by, mine.first()) {
            (Some(next), Some(replacement)) => {
                assert_eq!(next, &replacement.id);
                assert_eq!(replacement.revoked_at, None);
                assert_eq!(old.expires_at, Some(at(110)));
            }
            (None, None) => assert_eq!(old.expires_at, None),
            other => panic!("round {round}: inconsistent {other:?}"),
        }
    }
}
