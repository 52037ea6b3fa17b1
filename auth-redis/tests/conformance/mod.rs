//! The behaviour every store backend must have, written once against the store traits and run
//! against auth-core's in-memory stores (the spec) and the Redis stores
//! (`conformance_memory.rs`, `conformance_redis.rs`). A backend file provides
//! `async fn make(clock: ManualClock) -> Option<Stores>` (`None`: skip) and invokes
//! `conformance_tests!(make)`, which makes one `#[tokio::test]` per case.
//!
//! Every time is explicit (or read from the shared `ManualClock`): nothing sleeps.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::api_key::{
    ApiKeyHash, ApiKeyRecord, ApiKeyStore, ApiKeys, ImportedKey, KeyOrigin, LegacyDigest,
    NewApiKey, Pepper, RotateOutcome as KeyRotateOutcome, Rotation, StoreError as KeyStoreError,
};
use auth_core::brute_force::{
    Admission, AttemptKey, AttemptOutcome, AttemptStore, BlockReason, Blocked, BruteForcePolicy,
    ClientKey, Verdict,
};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::refresh::{
    FamilyId, NewFamily, NewToken, RefreshToken, RefreshTokenStore, RevokedFamilies, RotateOutcome,
};
use auth_core::revocation::{RevocationStore, TokenRef};

/// The stores of one backend, sharing one manual clock.
pub(crate) struct Stores {
    pub(crate) attempts: Arc<dyn AttemptStore>,
    pub(crate) revocations: Arc<dyn RevocationStore>,
    pub(crate) refresh: Arc<dyn RefreshTokenStore>,
    pub(crate) api_keys: Arc<dyn ApiKeyStore>,
    pub(crate) clock: ManualClock,
    /// Runs after a case that passed (e.g. deletes the case's keys from Redis).
    pub(crate) cleanup: Option<Box<dyn FnOnce() -> futures_cleanup::Cleanup + Send>>,
}

pub(crate) mod futures_cleanup {
    use std::future::Future;
    use std::pin::Pin;

    /// A boxed cleanup future.
    pub(crate) type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The start of every case's timeline.
pub(crate) const T0: u64 = 1_700_000_000;

pub(crate) fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(T0 + secs)
}

fn client(i: u32) -> AttemptKey {
    ClientKey::from_ip(std::net::IpAddr::from(i.to_be_bytes())).attempt_key()
}

fn blocked(a: Admission) -> Blocked {
    match a {
        Admission::Blocked(b) => b,
        Admission::Admitted => panic!("expected a refusal"),
    }
}

fn account_level(v: Verdict) -> u8 {
    match v {
        Verdict::Recorded(r) => r.account_level(),
        Verdict::Blocked(b) => panic!("expected the outcome to be recorded, got {b:?}"),
    }
}

macro_rules! conformance_tests {
    ($make:path) => {
        conformance_tests!(@cases $make;
            attempts_five_pass_and_the_sixth_waits_for_the_oldest,
            attempts_refused_ones_do_not_fill_the_window,
            attempts_sub_second_times_round_the_strict_way,
            attempts_client_ladder_goes_15_minutes_1_hour_24_hours,
            attempts_locked_account_refuses_suspect_clients_and_answers_clean_ones,
            attempts_every_client_scope_refuses_clean_clients_too,
            attempts_failures_decay_after_a_quiet_period,
            attempts_clear_unlocks_an_account_and_a_client,
            attempts_concurrent_admissions_take_exactly_the_limit,
            attempts_concurrent_guesses_at_a_locked_account_get_one_answer,
            revocation_a_jti_is_revoked_until_its_entry_ends,
            revocation_entries_only_ever_extend,
            revocation_subject_cutoff_covers_tokens_issued_at_or_before_it,
            revocation_a_session_is_revoked_until_its_entry_ends,
            revocation_any_listed_jti_session_or_subject_revokes_a_token,
            revocation_entries_are_separate_per_issuer,
            revocation_subject_cutoffs_are_kept_per_issuer,
            refresh_rotation_uses_up_the_token_and_reuse_revokes_the_family,
            refresh_expired_tokens_answer_expired,
            refresh_unknown_tokens_answer_unknown,
            refresh_revoking_a_family_stops_its_rotation,
            refresh_revoke_family_of_finds_the_family,
            refresh_revoke_subject_counts_newly_revoked_families,
            refresh_duplicate_family_or_digest_is_an_error,
            refresh_concurrent_rotations_have_exactly_one_winner,
            api_keys_are_found_by_digest_only,
            api_keys_duplicate_id_or_digest_is_refused,
            api_keys_are_listed_by_owner_oldest_first,
            api_keys_revoke_checks_the_owner_and_keeps_the_first_time,
            api_keys_rotation_moves_the_old_expiry_and_stores_the_replacement,
            api_keys_rotation_never_extends_an_expiring_key,
            api_keys_rotation_with_a_taken_id_or_digest_changes_nothing,
            api_keys_expired_and_revoked_keys_cannot_be_rotated,
            api_keys_concurrent_rotations_yield_one_replacement,
            api_keys_last_use_only_moves_forward,
            api_keys_imported_records_keep_their_origin,
            api_keys_rotating_an_imported_key_stores_a_native_replacement,
            api_keys_imported_keys_verify_through_the_store,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let clock = auth_core::clock::ManualClock::new(conformance::at(0));
                let Some(mut stores) = $make(clock).await else { return };
                conformance::$case(&stores).await;
                if let Some(cleanup) = stores.cleanup.take() {
                    cleanup().await;
                }
            }
        )*
    };
}

// ----- attempts -------------------------------------------------------------------------------

pub(crate) async fn attempts_five_pass_and_the_sixth_waits_for_the_oldest(s: &Stores) {
    let (st, p, c) = (&s.attempts, BruteForcePolicy::default(), client(1));
    for i in 0..5 {
        assert_eq!(
            st.admit(&c, &p, at(i * 2)).await.unwrap(),
            Admission::Admitted
        );
    }
    let b = blocked(st.admit(&c, &p, at(10)).await.unwrap());
    assert_eq!(b.reason(), BlockReason::RateLimited);
    assert_eq!(b.retry_after(), Duration::from_secs(50));
    assert_eq!(b.lockout_level(), 0);
    // The oldest leaves at 60: then exactly one more passes; the next waits for the one at 2s.
    assert!(matches!(
        st.admit(&c, &p, at(59)).await.unwrap(),
        Admission::Blocked(_)
    ));
    assert_eq!(st.admit(&c, &p, at(60)).await.unwrap(), Admission::Admitted);
    let b = blocked(st.admit(&c, &p, at(60)).await.unwrap());
    assert_eq!(b.retry_after(), Duration::from_secs(2));
    // Another client is not affected.
    assert_eq!(
        st.admit(&client(2), &p, at(60)).await.unwrap(),
        Admission::Admitted
    );
}

pub(crate) async fn attempts_refused_ones_do_not_fill_the_window(s: &Stores) {
    let (st, p, c) = (&s.attempts, BruteForcePolicy::default(), client(1));
    for _ in 0..5 {
        assert_eq!(st.admit(&c, &p, at(0)).await.unwrap(), Admission::Admitted);
    }
    for i in 1..60 {
        assert!(matches!(
            st.admit(&c, &p, at(i)).await.unwrap(),
            Admission::Blocked(_)
        ));
    }
    for _ in 0..5 {
        assert_eq!(st.admit(&c, &p, at(60)).await.unwrap(), Admission::Admitted);
    }
}

pub(crate) async fn attempts_sub_second_times_round_the_strict_way(s: &Stores) {
    let (st, p, c) = (&s.attempts, BruteForcePolicy::default(), client(1));
    let t = UnixTime::from_nanos(T0 * 1_000_000_000 + 300_000_000);
    for _ in 0..5 {
        assert_eq!(st.admit(&c, &p, t).await.unwrap(), Admission::Admitted);
    }
    let b = blocked(st.admit(&c, &p, t).await.unwrap());
    assert_eq!(b.retry_after(), Duration::from_millis(60_700));
}

pub(crate) async fn attempts_client_ladder_goes_15_minutes_1_hour_24_hours(s: &Stores) {
    let (st, p, c) = (&s.attempts, BruteForcePolicy::default(), client(1));
    let mut now = 0;
    for (level, lockout) in [(1, 900), (2, 3600), (3, 86_400), (3, 86_400)] {
        for i in 0..10 {
            let v = st
                .record(&c, None, AttemptOutcome::Failure, &p, at(now))
                .await
                .unwrap();
            let Verdict::Recorded(r) = v else {
                panic!("a client failure without an account is always recorded")
            };
            assert_eq!(r.lockout_engaged(), i == 9, "failure {i} at level {level}");
        }
        let b = blocked(st.admit(&c, &p, at(now)).await.unwrap());
        assert_eq!(b.reason(), BlockReason::ClientLockedOut);
        assert_eq!(b.retry_after(), Duration::from_secs(lockout));
        assert_eq!(b.lockout_level(), level);
        now += lockout;
    }
}

pub(crate) async fn attempts_locked_account_refuses_suspect_clients_and_answers_clean_ones(
    s: &Stores,
) {
    let (st, p) = (&s.attempts, BruteForcePolicy::default());
    let (a, fresh) = (client(1), client(2));
    let acct = AttemptKey::account("alice@example.com");
    for i in 0..5 {
        let v = st
            .record(&a, Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
        let Verdict::Recorded(r) = v else {
            panic!("failures before the lockout are recorded")
        };
        assert_eq!(r.lockout_engaged(), i == 4);
    }
    // Even the right password from the suspect client is refused ...
    let v = st
        .record(&a, Some(&acct), AttemptOutcome::Success, &p, at(10))
        .await
        .unwrap();
    let Verdict::Blocked(b) = v else {
        panic!("a suspect client must be refused")
    };
    assert_eq!(b.reason(), BlockReason::AccountLockedOut);
    assert_eq!(b.retry_after(), Duration::from_secs(890));
    assert_eq!(b.lockout_level(), 1);
    // ... while a client with a clean record is answered, and its success resets the account.
    let v = st
        .record(&fresh, Some(&acct), AttemptOutcome::Success, &p, at(10))
        .await
        .unwrap();
    assert_eq!(account_level(v), 0);
    let v = st
        .record(&a, Some(&acct), AttemptOutcome::Success, &p, at(11))
        .await
        .unwrap();
    assert!(matches!(v, Verdict::Recorded(_)), "{v:?}");
}

pub(crate) async fn attempts_every_client_scope_refuses_clean_clients_too(s: &Stores) {
    let st = &s.attempts;
    let p = BruteForcePolicy::builder()
        .dangerous_lock_out_every_client()
        .build()
        .unwrap();
    let acct = AttemptKey::account("bob@example.com");
    for _ in 0..5 {
        st.record(&client(1), Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    let v = st
        .record(&client(2), Some(&acct), AttemptOutcome::Success, &p, at(10))
        .await
        .unwrap();
    assert!(matches!(v, Verdict::Blocked(_)), "{v:?}");
}

pub(crate) async fn attempts_failures_decay_after_a_quiet_period(s: &Stores) {
    let (st, p) = (&s.attempts, BruteForcePolicy::default());
    let acct = AttemptKey::account("carol@example.com");
    for _ in 0..5 {
        st.record(&client(1), Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    // Locked until 900; failures and level decay 24 h after that.
    let before = 900 + 86_399;
    let v = st
        .record(
            &client(2),
            Some(&acct),
            AttemptOutcome::Failure,
            &p,
            at(before),
        )
        .await
        .unwrap();
    assert_eq!(account_level(v), 1, "not decayed a second early");
    let after = 900 + 86_400 + 86_400;
    let v = st
        .record(
            &client(3),
            Some(&acct),
            AttemptOutcome::Failure,
            &p,
            at(after),
        )
        .await
        .unwrap();
    assert_eq!(account_level(v), 0, "decayed");
}

pub(crate) async fn attempts_clear_unlocks_an_account_and_a_client(s: &Stores) {
    let (st, p) = (&s.attempts, BruteForcePolicy::default());
    let (c, acct) = (client(1), AttemptKey::account("dave@example.com"));
    for _ in 0..10 {
        st.record(&c, Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    assert!(matches!(
        st.record(&c, Some(&acct), AttemptOutcome::Success, &p, at(1))
            .await
            .unwrap(),
        Verdict::Blocked(_)
    ));
    assert!(matches!(
        st.admit(&c, &p, at(1)).await.unwrap(),
        Admission::Blocked(_)
    ));
    st.clear(&acct, &p).await.unwrap();
    st.clear(&c, &p).await.unwrap();
    assert_eq!(st.admit(&c, &p, at(1)).await.unwrap(), Admission::Admitted);
    let v = st
        .record(&c, Some(&acct), AttemptOutcome::Success, &p, at(1))
        .await
        .unwrap();
    assert_eq!(account_level(v), 0);
    // Clearing what is not there is fine.
    st.clear(&client(99), &p).await.unwrap();
}

pub(crate) async fn attempts_concurrent_admissions_take_exactly_the_limit(s: &Stores) {
    let p = BruteForcePolicy::default();
    let c = client(7);
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (st, p) = (Arc::clone(&s.attempts), p.clone());
            tokio::spawn(async move { st.admit(&c, &p, at(0)).await.unwrap() })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        if t.await.unwrap() == Admission::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 5);
}

pub(crate) async fn attempts_concurrent_guesses_at_a_locked_account_get_one_answer(s: &Stores) {
    let p = BruteForcePolicy::default();
    let acct = AttemptKey::account("erin@example.com");
    for _ in 0..5 {
        s.attempts
            .record(&client(1), Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    // A fresh client fires concurrent guesses: the first makes it suspect, so only one can be
    // answered.
    let fresh = client(2);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (st, p) = (Arc::clone(&s.attempts), p.clone());
            tokio::spawn(async move {
                st.record(&fresh, Some(&acct), AttemptOutcome::Failure, &p, at(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut answered = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Verdict::Recorded(_)) {
            answered += 1;
        }
    }
    assert_eq!(answered, 1);
}

// ----- revocation -----------------------------------------------------------------------------

pub(crate) async fn revocation_a_jti_is_revoked_until_its_entry_ends(s: &Stores) {
    let st = &s.revocations;
    let tok = TokenRef::new(Some("jti-1"), "alice", Some(at(0)));
    assert!(!st.is_revoked(tok, at(0)).await.unwrap());
    assert!(st.revoke_token(None, "jti-1", at(1000)).await.unwrap());
    assert!(!st.revoke_token(None, "jti-1", at(1000)).await.unwrap());
    assert!(st.is_revoked(tok, at(0)).await.unwrap());
    assert!(st.is_revoked(tok, at(999)).await.unwrap());
    assert!(!st.is_revoked(tok, at(1000)).await.unwrap());
    let other = TokenRef::new(Some("jti-2"), "alice", Some(at(0)));
    assert!(!st.is_revoked(other, at(0)).await.unwrap());
}

pub(crate) async fn revocation_entries_only_ever_extend(s: &Stores) {
    let st = &s.revocations;
    assert!(st.revoke_token(None, "j", at(100)).await.unwrap());
    assert!(!st.revoke_token(None, "j", at(50)).await.unwrap());
    let tok = TokenRef::new(Some("j"), "a", Some(at(1)));
    assert!(st.is_revoked(tok, at(99)).await.unwrap());
    assert!(!st.revoke_token(None, "j", at(200)).await.unwrap());
    assert!(st.is_revoked(tok, at(199)).await.unwrap());
    st.revoke_subject(None, "a", at(10), at(100)).await.unwrap();
    st.revoke_subject(None, "a", at(5), at(50)).await.unwrap();
    let late = TokenRef::new(None, "a", Some(at(10)));
    assert!(st.is_revoked(late, at(99)).await.unwrap());
    // A later cutoff moves issued_before forward and keeps the longer life.
    st.revoke_subject(None, "a", at(20), at(60)).await.unwrap();
    let later = TokenRef::new(None, "a", Some(at(20)));
    assert!(st.is_revoked(later, at(99)).await.unwrap());
    assert!(!st.is_revoked(later, at(100)).await.unwrap());
}

pub(crate) async fn revocation_subject_cutoff_covers_tokens_issued_at_or_before_it(s: &Stores) {
    let st = &s.revocations;
    st.revoke_subject(None, "alice", at(100), at(1000))
        .await
        .unwrap();
    let issued = |iat: Option<u64>| TokenRef::new(Some("x"), "alice", iat.map(at));
    assert!(st.is_revoked(issued(Some(90)), at(200)).await.unwrap());
    assert!(st.is_revoked(issued(Some(100)), at(200)).await.unwrap());
    assert!(!st.is_revoked(issued(Some(101)), at(200)).await.unwrap());
    // Without iat a token cannot prove it is newer.
    assert!(st.is_revoked(issued(None), at(200)).await.unwrap());
    assert!(!st.is_revoked(issued(Some(90)), at(1000)).await.unwrap());
    let bob = TokenRef::new(None, "bob", None);
    assert!(!st.is_revoked(bob, at(200)).await.unwrap());
    // Without a jti, only the subject is consulted.
    let no_jti = TokenRef::new(None, "alice", Some(at(50)));
    assert!(st.is_revoked(no_jti, at(200)).await.unwrap());
}

pub(crate) async fn revocation_a_session_is_revoked_until_its_entry_ends(s: &Stores) {
    // Issue 12, item 6: every token of a revoked session is refused at once, on every
    // instance sharing the store.
    let st = &s.revocations;
    let iss = Some("https://auth.example");
    let tok = |jti: &'static str, sid: Option<&'static str>| {
        TokenRef::new(Some(jti), "alice", Some(at(0)))
            .with_issuer(iss)
            .with_session(sid)
    };
    assert!(!st.is_revoked(tok("a", Some("fam-1")), at(0)).await.unwrap());
    assert!(st.revoke_session(iss, "fam-1", at(1000)).await.unwrap());
    assert!(!st.revoke_session(iss, "fam-1", at(500)).await.unwrap());
    for jti in ["a", "b"] {
        assert!(
            st.is_revoked(tok(jti, Some("fam-1")), at(999))
                .await
                .unwrap()
        );
        assert!(
            !st.is_revoked(tok(jti, Some("fam-1")), at(1000))
                .await
                .unwrap()
        );
    }
    // Without a jti the session still counts.
    let no_jti = TokenRef::new(None, "alice", Some(at(0)))
        .with_issuer(iss)
        .with_session(Some("fam-1"));
    assert!(st.is_revoked(no_jti, at(1)).await.unwrap());
    assert!(!st.is_revoked(tok("a", Some("fam-2")), at(1)).await.unwrap());
    assert!(!st.is_revoked(tok("a", None), at(1)).await.unwrap());
    // Only ever extended.
    assert!(!st.revoke_session(iss, "fam-1", at(2000)).await.unwrap());
    assert!(
        st.is_revoked(tok("a", Some("fam-1")), at(1999))
            .await
            .unwrap()
    );
}

pub(crate) async fn revocation_any_listed_jti_session_or_subject_revokes_a_token(s: &Stores) {
    let st = &s.revocations;
    let iss = Some("https://auth.example");
    let tok = TokenRef::new(Some("j"), "alice", Some(at(50)))
        .with_issuer(iss)
        .with_session(Some("f"));
    // An ended jti entry does not hide a live session entry, nor that a live subject cutoff.
    st.revoke_token(iss, "j", at(10)).await.unwrap();
    st.revoke_session(iss, "f", at(20)).await.unwrap();
    st.revoke_subject(iss, "alice", at(50), at(30))
        .await
        .unwrap();
    assert!(st.is_revoked(tok, at(5)).await.unwrap());
    assert!(st.is_revoked(tok, at(15)).await.unwrap());
    assert!(st.is_revoked(tok, at(25)).await.unwrap());
    assert!(!st.is_revoked(tok, at(30)).await.unwrap());
}

/// The same identifiers under different issuers, including look-alikes and "no issuer".
const ISSUERS: [Option<&str>; 6] = [
    None,
    Some(""),
    Some("-"),
    Some("https://auth.example"),
    Some("https://idp.example"),
    Some("https://idp.example:"),
];

pub(crate) async fn revocation_entries_are_separate_per_issuer(s: &Stores) {
    // Issue 12, item 7: the same `jti`, `sid` or `sub` under two issuers (or under none) names
    // different tokens; revoking one never touches the others.
    let st = &s.revocations;
    // A token of `iss` carrying "same" as its jti (kind 0), its sid (1) or its sub (2).
    let probe = |kind: usize, iss: Option<&'static str>| {
        let (jti, sid, sub) = match kind {
            0 => (Some("same"), None, "x"),
            1 => (None, Some("same"), "x"),
            _ => (None, None, "same"),
        };
        TokenRef::new(jti, sub, Some(at(0)))
            .with_issuer(iss)
            .with_session(sid)
    };
    for kind in 0..3 {
        for (i, revoked) in ISSUERS.iter().enumerate() {
            match kind {
                0 => assert!(st.revoke_token(*revoked, "same", at(100)).await.unwrap()),
                1 => assert!(st.revoke_session(*revoked, "same", at(100)).await.unwrap()),
                _ => st
                    .revoke_subject(*revoked, "same", at(0), at(100))
                    .await
                    .unwrap(),
            }
            // Revoked so far: this kind under the issuers up to and including `revoked`.
            for (j, other) in ISSUERS.iter().enumerate() {
                assert_eq!(
                    st.is_revoked(probe(kind, *other), at(1)).await.unwrap(),
                    j <= i,
                    "kind {kind} revoked up to {revoked:?}, checked under {other:?}",
                );
            }
        }
    }
}

pub(crate) async fn revocation_subject_cutoffs_are_kept_per_issuer(s: &Stores) {
    // Issue 12, item 7: "log out everywhere" of one issuer's alice leaves the other's alone,
    // and each issuer's cutoff moves on its own.
    let st = &s.revocations;
    let (local, provider) = (Some("https://auth.example"), Some("https://idp.example"));
    st.revoke_subject(local, "alice", at(100), at(1000))
        .await
        .unwrap();
    st.revoke_subject(provider, "alice", at(200), at(1000))
        .await
        .unwrap();
    let alice = |iss, iat| TokenRef::new(Some("j"), "alice", Some(at(iat))).with_issuer(iss);
    assert!(st.is_revoked(alice(local, 100), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(local, 150), at(300)).await.unwrap());
    assert!(st.is_revoked(alice(provider, 150), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(provider, 201), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(None, 50), at(300)).await.unwrap());
    // Moving the local cutoff forward does not move the provider's.
    st.revoke_subject(local, "alice", at(300), at(1000))
        .await
        .unwrap();
    assert!(st.is_revoked(alice(local, 250), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(provider, 250), at(300)).await.unwrap());
}

// ----- refresh tokens -------------------------------------------------------------------------

fn token(issued: u64, expires: u64) -> NewToken {
    NewToken::new(
        RefreshToken::generate().unwrap().hash(),
        at(issued),
        at(expires),
    )
}

async fn family(st: &dyn RefreshTokenStore, subject: &str, first: NewToken) -> FamilyId {
    let id = FamilyId::generate().unwrap();
    st.insert_family(NewFamily::new(first, id.clone(), subject))
        .await
        .unwrap();
    id
}

pub(crate) async fn refresh_rotation_uses_up_the_token_and_reuse_revokes_the_family(s: &Stores) {
    let st = &*s.refresh;
    let first = token(0, 1000);
    let fam = family(st, "alice", first).await;
    let second = token(1, 1001);
    assert_eq!(
        st.rotate(&first.hash(), second, at(1)).await.unwrap(),
        RotateOutcome::Rotated {
            family: fam.clone(),
            subject: "alice".into()
        }
    );
    let third = token(2, 1002);
    assert_eq!(
        st.rotate(&second.hash(), third, at(2)).await.unwrap(),
        RotateOutcome::Rotated {
            family: fam.clone(),
            subject: "alice".into()
        }
    );
    // The first token again, two rotations later: reuse; the family dies.
    assert_eq!(
        st.rotate(&first.hash(), token(3, 1003), at(3))
            .await
            .unwrap(),
        RotateOutcome::Reused {
            family: fam.clone(),
            subject: "alice".into()
        }
    );
    assert_eq!(
        st.rotate(&third.hash(), token(4, 1004), at(4))
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
    // Reuse of a used token keeps answering reuse.
    assert!(matches!(
        st.rotate(&second.hash(), token(5, 1005), at(5))
            .await
            .unwrap(),
        RotateOutcome::Reused { .. }
    ));
}

pub(crate) async fn refresh_expired_tokens_answer_expired(s: &Stores) {
    let st = &*s.refresh;
    let a = token(0, 100);
    family(st, "alice", a).await;
    assert_eq!(
        st.rotate(&a.hash(), token(100, 200), at(100))
            .await
            .unwrap(),
        RotateOutcome::Expired
    );
    let b = token(0, 100);
    family(st, "alice", b).await;
    let just_before = UnixTime::from_nanos(at(100).as_nanos() - 1);
    assert!(matches!(
        st.rotate(&b.hash(), token(99, 200), just_before)
            .await
            .unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

pub(crate) async fn refresh_unknown_tokens_answer_unknown(s: &Stores) {
    let st = &*s.refresh;
    let never = RefreshToken::generate().unwrap().hash();
    assert_eq!(
        st.rotate(&never, token(0, 100), at(0)).await.unwrap(),
        RotateOutcome::Unknown
    );
    assert_eq!(st.revoke_family_of(&never).await.unwrap(), None);
    let nobody = FamilyId::generate().unwrap();
    assert!(!st.revoke_family(&nobody).await.unwrap());
    assert_eq!(
        st.revoke_subject("nobody").await.unwrap(),
        RevokedFamilies::default()
    );
}

pub(crate) async fn refresh_revoking_a_family_stops_its_rotation(s: &Stores) {
    let st = &*s.refresh;
    let first = token(0, 1000);
    let fam = family(st, "alice", first).await;
    assert!(st.revoke_family(&fam).await.unwrap());
    assert!(!st.revoke_family(&fam).await.unwrap());
    assert_eq!(
        st.rotate(&first.hash(), token(1, 1001), at(1))
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
}

pub(crate) async fn refresh_revoke_family_of_finds_the_family(s: &Stores) {
    let st = &*s.refresh;
    let first = token(0, 1000);
    let fam = family(st, "alice", first).await;
    let second = token(1, 1001);
    st.rotate(&first.hash(), second, at(1)).await.unwrap();
    assert_eq!(
        st.revoke_family_of(&second.hash()).await.unwrap(),
        Some(fam.clone())
    );
    // A used token still names its family.
    assert_eq!(st.revoke_family_of(&first.hash()).await.unwrap(), Some(fam));
    assert_eq!(
        st.rotate(&second.hash(), token(2, 1002), at(2))
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
}

pub(crate) async fn refresh_revoke_subject_counts_newly_revoked_families(s: &Stores) {
    let st = &*s.refresh;
    let (a1, a2, a3, b1) = (
        token(0, 1000),
        token(0, 1000),
        token(0, 1000),
        token(0, 1000),
    );
    let mut alice = vec![
        family(st, "alice", a1).await,
        family(st, "alice", a2).await,
        family(st, "alice", a3).await,
    ];
    alice.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    family(st, "bob", b1).await;
    let sorted = |r: RevokedFamilies| {
        let mut f = r.families().to_vec();
        f.sort_by(|x, y| x.as_str().cmp(y.as_str()));
        (f, r.newly_revoked())
    };
    // One family revoked before: every family is listed, two are newly revoked.
    assert!(st.revoke_family(&alice[0]).await.unwrap());
    assert_eq!(
        sorted(st.revoke_subject("alice").await.unwrap()),
        (alice.clone(), 2)
    );
    // Issue 12, item 6: called again, the families are still listed (so a caller that failed
    // to revoke their access tokens can retry), none newly revoked.
    assert_eq!(
        sorted(st.revoke_subject("alice").await.unwrap()),
        (alice.clone(), 0)
    );
    assert_eq!(
        st.rotate(&a2.hash(), token(1, 1001), at(1)).await.unwrap(),
        RotateOutcome::Revoked
    );
    assert!(matches!(
        st.rotate(&b1.hash(), token(1, 1001), at(1)).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

pub(crate) async fn refresh_duplicate_family_or_digest_is_an_error(s: &Stores) {
    let st = &*s.refresh;
    let a = token(0, 10);
    let fam = family(st, "s", a).await;
    let b = token(0, 10);
    assert!(st.insert_family(NewFamily::new(b, fam, "s")).await.is_err());
    let again = NewFamily::new(a, FamilyId::generate().unwrap(), "s");
    assert!(st.insert_family(again).await.is_err());
    // The failed inserts changed nothing: `a` still rotates, `b` is unknown.
    assert!(matches!(
        st.rotate(&a.hash(), token(1, 11), at(1)).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(
        st.rotate(&b.hash(), token(1, 11), at(1)).await.unwrap(),
        RotateOutcome::Unknown
    );
}

pub(crate) async fn refresh_concurrent_rotations_have_exactly_one_winner(s: &Stores) {
    let first = token(0, 1000);
    family(&*s.refresh, "alice", first).await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let st = Arc::clone(&s.refresh);
            tokio::spawn(async move {
                st.rotate(&first.hash(), token(1, 1001), at(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut rotated, mut reused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            RotateOutcome::Rotated { .. } => rotated += 1,
            RotateOutcome::Reused { .. } => reused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((rotated, reused), (1, 49));
}

// ----- API keys -------------------------------------------------------------------------------

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

pub(crate) async fn api_keys_are_found_by_digest_only(s: &Stores) {
    let st = &s.api_keys;
    let r = record("a", 1, "alice", 1, Some(1000));
    st.create(r.clone()).await.unwrap();
    assert_eq!(st.find_by_hash(&hash(1)).await.unwrap(), Some(r));
    assert_eq!(st.find_by_hash(&hash(2)).await.unwrap(), None);
    let forever = record("b", 3, "alice", 1, None);
    st.create(forever.clone()).await.unwrap();
    assert_eq!(st.find_by_hash(&hash(3)).await.unwrap(), Some(forever));
}

pub(crate) async fn api_keys_duplicate_id_or_digest_is_refused(s: &Stores) {
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

pub(crate) async fn api_keys_are_listed_by_owner_oldest_first(s: &Stores) {
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

pub(crate) async fn api_keys_revoke_checks_the_owner_and_keeps_the_first_time(s: &Stores) {
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

pub(crate) async fn api_keys_rotation_moves_the_old_expiry_and_stores_the_replacement(s: &Stores) {
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

pub(crate) async fn api_keys_rotation_never_extends_an_expiring_key(s: &Stores) {
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

pub(crate) async fn api_keys_rotation_with_a_taken_id_or_digest_changes_nothing(s: &Stores) {
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

pub(crate) async fn api_keys_expired_and_revoked_keys_cannot_be_rotated(s: &Stores) {
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

pub(crate) async fn api_keys_concurrent_rotations_yield_one_replacement(s: &Stores) {
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

pub(crate) async fn api_keys_last_use_only_moves_forward(s: &Stores) {
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
pub(crate) async fn api_keys_imported_records_keep_their_origin(s: &Stores) {
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
pub(crate) async fn api_keys_rotating_an_imported_key_stores_a_native_replacement(s: &Stores) {
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
pub(crate) async fn api_keys_imported_keys_verify_through_the_store(s: &Stores) {
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
