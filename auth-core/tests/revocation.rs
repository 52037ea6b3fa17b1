//! Revocation store: by `jti` until `exp` (+ leeway), by subject "issued at or before", by
//! session (`sid`), each within its issuer, entries expiring by themselves, and the purge that
//! bounds memory. Manual clock, no sleeping.
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
    revoker.revoke_subject(None, "alice").await.unwrap();

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
            .revoke_jti(None, &format!("j{i}"), clock.now())
            .await
            .unwrap();
    }
    revoker.revoke_subject(None, "alice").await.unwrap();
    assert_eq!(store.len(), 101);

    // Past every entry's expiry: the next write purges the old ones on its way.
    clock.advance(Duration::from_secs(900) + REVOCATION_LEEWAY + Duration::from_secs(60));
    revoker
        .revoke_jti(None, "fresh", clock.now())
        .await
        .unwrap();
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

const LOCAL: Option<&str> = Some("https://auth.example");
const PROVIDER: Option<&str> = Some("https://idp.example");

fn issued(iss: Option<&str>, jti: &str, sub: &str, sid: Option<&str>, iat: u64) -> Principal {
    Principal::insecure_issued_token_for_tests(
        iss,
        sub,
        jti,
        sid,
        UnixTime::from_secs(iat),
        UnixTime::from_secs(iat + 900),
    )
}

async fn revoked(store: &MemoryRevocationStore, p: &Principal, now: UnixTime) -> bool {
    let sync = store.is_revoked_now(TokenRef::of(p), now).unwrap().unwrap();
    assert_eq!(sync, store.is_revoked(TokenRef::of(p), now).await.unwrap());
    sync
}

#[tokio::test]
async fn revoking_a_session_revokes_every_token_of_it_at_once() {
    // Issue 12, item 6: after reuse detection or logout, the session's access tokens die at
    // once instead of living until they expire.
    let (clock, store, revoker) = setup();
    let first = issued(LOCAL, "a", "alice", Some("fam-1"), T0 - 600);
    let refreshed = issued(LOCAL, "b", "alice", Some("fam-1"), T0);
    let other_session = issued(LOCAL, "c", "alice", Some("fam-2"), T0);
    let no_session = issued(LOCAL, "d", "alice", None, T0);
    assert!(revoker.revoke_session(LOCAL, "fam-1").await.unwrap());
    assert!(
        !revoker.revoke_session(LOCAL, "fam-1").await.unwrap(),
        "already revoked"
    );

    let now = clock.now();
    assert!(revoked(&store, &first, now).await);
    assert!(revoked(&store, &refreshed, now).await);
    assert!(!revoked(&store, &other_session, now).await);
    assert!(!revoked(&store, &no_session, now).await);
}

#[tokio::test]
async fn a_session_revocation_outlives_every_token_issued_before_it() {
    let (clock, store, revoker) = setup();
    let p = issued(LOCAL, "a", "alice", Some("fam-1"), T0);
    revoker.revoke_session_of(&p).await.unwrap();
    // The token expires at T0 + 900; a verifier accepts it for up to the leeway after that.
    clock.advance(Duration::from_secs(900) + REVOCATION_LEEWAY - Duration::from_secs(1));
    assert!(revoked(&store, &p, clock.now()).await);
    clock.advance(Duration::from_secs(1));
    assert!(!revoked(&store, &p, clock.now()).await);
    assert_eq!(store.purge_expired(clock.now()), 1);
}

#[tokio::test]
async fn a_session_is_revoked_within_its_issuer_only() {
    // Issue 12, items 6 and 7: another issuer's session of the same id is another session.
    let (clock, store, revoker) = setup();
    let local = issued(LOCAL, "a", "alice", Some("s-1"), T0);
    let provider = issued(PROVIDER, "a", "alice", Some("s-1"), T0);
    let unissued = issued(None, "a", "alice", Some("s-1"), T0);
    revoker.revoke_session_of(&local).await.unwrap();
    let now = clock.now();
    assert!(revoked(&store, &local, now).await);
    assert!(!revoked(&store, &provider, now).await);
    assert!(!revoked(&store, &unissued, now).await);
}

#[tokio::test]
async fn revoking_a_subject_leaves_the_same_sub_of_another_issuer_alone() {
    // Issue 12, item 7: a provider token whose `sub` equals a local subject must not log the
    // local user out everywhere (nor the other way round).
    let (clock, store, revoker) = setup();
    let local = issued(LOCAL, "l", "demo-user", None, T0);
    let provider = issued(PROVIDER, "p", "demo-user", None, T0);
    let unissued = issued(None, "n", "demo-user", None, T0);
    revoker.revoke_subject_of(&provider).await.unwrap();
    let now = clock.now();
    assert!(revoked(&store, &provider, now).await);
    assert!(!revoked(&store, &local, now).await);
    assert!(!revoked(&store, &unissued, now).await);

    revoker.revoke_subject(None, "demo-user").await.unwrap();
    assert!(revoked(&store, &unissued, now).await);
    assert!(!revoked(&store, &local, now).await);
}

#[tokio::test]
async fn revoking_a_token_leaves_the_same_jti_of_another_issuer_alone() {
    // Issue 12, item 7: `jti`s are unique per issuer only.
    let (clock, store, revoker) = setup();
    let local = issued(LOCAL, "same", "alice", None, T0);
    let provider = issued(PROVIDER, "same", "bob", None, T0);
    assert!(revoker.revoke_token(&local).await.unwrap());
    assert!(
        revoker.revoke_token(&provider).await.unwrap(),
        "a separate entry"
    );
    let other = issued(Some("https://third.example"), "same", "carol", None, T0);
    assert!(revoked(&store, &local, clock.now()).await);
    assert!(!revoked(&store, &other, clock.now()).await);
}

#[tokio::test]
async fn a_principal_without_sid_has_no_session_to_revoke() {
    let (_, _, revoker) = setup();
    let p = issued(LOCAL, "a", "alice", None, T0);
    assert_eq!(
        revoker.revoke_session_of(&p).await.unwrap_err().code(),
        ErrorCode::InvalidToken
    );
}
