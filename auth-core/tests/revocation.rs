//! Revocation store: by `jti` until `exp` (+ leeway), by subject "issued at or before", entries
//! expiring by themselves, and the purge that bounds memory. Manual clock, no sleeping.
#![cfg(all(feature = "revocation", feature = "test-util"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::revocation::{
    MemoryRevocationStore, REVOCATION_LEEWAY, RevocationStore, Revoker, TokenRef,
};
use auth_core::store::Housekeeping;
use auth_core::{ErrorCode, Principal};

const T0: u64 = 1_750_000_000;

fn setup() -> (ManualClock, Arc<MemoryRevocationStore>, Revoker) {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let store = Arc::new(MemoryRevocationStore::new().with_clock(clock.clone()));
    let revoker = Revoker::builder(store.clone())
        .clock(clock.clone())
        .max_token_lifetime(Duration::from_secs(900))
        .build()
        .unwrap();
    (clock, store, revoker)
}

fn token(jti: &str, sub: &str, iat: u64) -> Principal {
    Principal::insecure_token_for_tests(
        sub,
        jti,
        UnixTime::from_secs(iat),
        UnixTime::from_secs(iat + 900),
    )
}

#[tokio::test]
async fn a_revoked_jti_is_listed_until_exp_plus_leeway_then_expires_by_itself() {
    let (clock, store, revoker) = setup();
    let p = token("jti-1", "alice", T0);
    assert!(revoker.revoke_token(&p).await.unwrap());
    assert!(!revoker.revoke_token(&p).await.unwrap(), "already revoked");
    let other = token("jti-2", "alice", T0);

    assert!(
        store
            .is_revoked(TokenRef::of(&p), clock.now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_revoked(TokenRef::of(&other), clock.now())
            .await
            .unwrap()
    );

    // Still listed during the verifier's leeway after exp...
    clock.advance(Duration::from_secs(900) + REVOCATION_LEEWAY - Duration::from_secs(1));
    assert!(
        store
            .is_revoked(TokenRef::of(&p), clock.now())
            .await
            .unwrap()
    );
    // ...and gone after it, without anyone deleting it.
    clock.advance(Duration::from_secs(1));
    assert!(
        !store
            .is_revoked(TokenRef::of(&p), clock.now())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn revoking_a_subject_revokes_tokens_issued_at_or_before_the_instant() {
    let (clock, store, revoker) = setup();
    let older = token("a", "alice", T0 - 600);
    let same_second = token("b", "alice", T0);
    let bobs = token("c", "bob", T0 - 600);
    revoker.revoke_subject("alice").await.unwrap();

    let now = clock.now();
    assert!(store.is_revoked(TokenRef::of(&older), now).await.unwrap());
    assert!(
        store
            .is_revoked(TokenRef::of(&same_second), now)
            .await
            .unwrap()
    );
    assert!(!store.is_revoked(TokenRef::of(&bobs), now).await.unwrap());

    clock.advance(Duration::from_secs(1));
    let next_login = token("d", "alice", T0 + 1);
    assert!(
        !store
            .is_revoked(TokenRef::of(&next_login), clock.now())
            .await
            .unwrap()
    );

    // The cutoff outlives every token it covers, then expires by itself.
    clock.advance(Duration::from_secs(900) + REVOCATION_LEEWAY);
    assert!(
        !store
            .is_revoked(TokenRef::of(&older), clock.now())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn expired_entries_are_purged_lazily_so_memory_stays_bounded() {
    let (clock, store, revoker) = setup();
    for i in 0..100 {
        revoker
            .revoke_jti(&format!("j{i}"), clock.now())
            .await
            .unwrap();
    }
    revoker.revoke_subject("alice").await.unwrap();
    assert_eq!(store.len(), 101);

    // Past every entry's expiry: the next write purges the old ones on its way.
    clock.advance(Duration::from_secs(900) + REVOCATION_LEEWAY + Duration::from_secs(60));
    revoker.revoke_jti("fresh", clock.now()).await.unwrap();
    assert_eq!(store.len(), 1);
    assert_eq!(store.purge_expired(clock.now()), 0);
}

#[tokio::test]
async fn a_principal_without_jti_cannot_be_revoked_alone() {
    let (_, _, revoker) = setup();
    let p = Principal::insecure_for_tests("alice", &[], &[]);
    assert_eq!(
        revoker.revoke_token(&p).await.unwrap_err().code(),
        ErrorCode::InvalidToken
    );
}
