//! Conformance cases of `auth_core::mfa`'s stores: TOTP credentials (replay guard), recovery
//! codes, MFA login tokens, authentication contexts, and the whole `Mfa` service over them.

use std::sync::Arc;
use std::time::Duration;

use auth_core::AuthError;
use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::mfa::{
    AuthContext, CredentialId, CredentialState, Mfa, MfaToken, PendingLogin, RecoveryCodeDigest,
    RecoveryCodeKey, SealedSecret, SealingKey, SecretSealer, TotpAlgorithm, TotpCredential,
    TotpParams,
};

use super::MfaStores;

/// The start of every case's timeline, on a 30 s step boundary.
/// The start of every case's timeline.
pub const T0: u64 = 1_700_000_010;

/// `secs` after [`T0`].
#[must_use]
pub fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(T0 + secs)
}

fn sealed(byte: u8) -> SealedSecret {
    SealedSecret::from_bytes(vec![byte; 50])
}

fn pending(id: &str, byte: u8, created: u64, expires: u64) -> TotpCredential {
    TotpCredential::new(
        CredentialId::new(id),
        sealed(byte),
        TotpParams::default(),
        CredentialState::Pending {
            expires_at: at(expires),
        },
        at(created),
    )
}

pub async fn mfa_totp_pending_never_replaces_an_active_credential(s: &MfaStores) {
    let st = &s.totp;
    assert!(
        st.put_pending("alice", &pending("a", 1, 0, 600), at(0))
            .await
            .unwrap()
    );
    assert!(
        st.put_pending("alice", &pending("b", 2, 1, 601), at(1))
            .await
            .unwrap()
    );
    let got = st.get("alice", at(2)).await.unwrap().unwrap();
    assert_eq!(got.id().as_str(), "b");
    assert!(
        st.activate("alice", &CredentialId::new("b"), 7, at(2))
            .await
            .unwrap()
    );
    assert!(
        !st.put_pending("alice", &pending("c", 3, 3, 603), at(3))
            .await
            .unwrap()
    );
    let got = st.get("alice", at(3)).await.unwrap().unwrap();
    assert_eq!(got.id().as_str(), "b");
    assert_eq!(got.state(), CredentialState::Active { last_step: 7 });
    assert!(st.get("bob", at(3)).await.unwrap().is_none());
}

pub async fn mfa_totp_a_pending_credential_lapses(s: &MfaStores) {
    let st = &s.totp;
    st.put_pending("alice", &pending("a", 1, 0, 600), at(0))
        .await
        .unwrap();
    assert!(st.get("alice", at(599)).await.unwrap().is_some());
    assert!(st.get("alice", at(600)).await.unwrap().is_none());
    assert!(
        !st.activate("alice", &CredentialId::new("a"), 1, at(600))
            .await
            .unwrap()
    );
    // A lapsed enrolment does not block a new one.
    assert!(
        st.put_pending("alice", &pending("b", 2, 600, 1200), at(600))
            .await
            .unwrap()
    );
}

pub async fn mfa_totp_only_the_checked_pending_credential_is_activated(s: &MfaStores) {
    let st = &s.totp;
    st.put_pending("alice", &pending("a", 1, 0, 600), at(0))
        .await
        .unwrap();
    // Re-enrolled meanwhile: the code checked against "a" must not activate "b".
    st.put_pending("alice", &pending("b", 2, 1, 601), at(1))
        .await
        .unwrap();
    assert!(
        !st.activate("alice", &CredentialId::new("a"), 5, at(2))
            .await
            .unwrap()
    );
    assert!(
        !st.activate("bob", &CredentialId::new("b"), 5, at(2))
            .await
            .unwrap()
    );
    assert!(
        st.activate("alice", &CredentialId::new("b"), 5, at(2))
            .await
            .unwrap()
    );
    // Once active, activation is over.
    assert!(
        !st.activate("alice", &CredentialId::new("b"), 6, at(3))
            .await
            .unwrap()
    );
    // And an active credential no longer lapses.
    let got = st.get("alice", at(10_000)).await.unwrap().unwrap();
    assert_eq!(got.state(), CredentialState::Active { last_step: 5 });
}

pub async fn mfa_totp_consume_accepts_only_a_later_step_of_the_same_credential(s: &MfaStores) {
    let st = &s.totp;
    let id = CredentialId::new("a");
    st.put_pending("alice", &pending("a", 1, 0, 600), at(0))
        .await
        .unwrap();
    // Pending: nothing to consume.
    assert!(!st.consume_step("alice", &id, 10).await.unwrap());
    st.activate("alice", &id, 10, at(0)).await.unwrap();
    assert!(!st.consume_step("alice", &id, 10).await.unwrap());
    assert!(!st.consume_step("alice", &id, 9).await.unwrap());
    assert!(st.consume_step("alice", &id, 11).await.unwrap());
    assert!(!st.consume_step("alice", &id, 11).await.unwrap());
    assert!(
        !st.consume_step("alice", &CredentialId::new("z"), 12)
            .await
            .unwrap()
    );
    assert!(!st.consume_step("bob", &id, 12).await.unwrap());
    // Steps far apart compare as numbers, not as text.
    assert!(st.consume_step("alice", &id, 100).await.unwrap());
    assert!(!st.consume_step("alice", &id, 99).await.unwrap());
    assert!(
        st.consume_step("alice", &id, 1_000_000_000_000)
            .await
            .unwrap()
    );
}

pub async fn mfa_totp_concurrent_consumes_of_one_step_have_one_winner(s: &MfaStores) {
    let id = CredentialId::new("a");
    s.totp
        .put_pending("alice", &pending("a", 1, 0, 600), at(0))
        .await
        .unwrap();
    s.totp.activate("alice", &id, 10, at(0)).await.unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (st, id) = (Arc::clone(&s.totp), id.clone());
            tokio::spawn(async move { st.consume_step("alice", &id, 11).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

pub async fn mfa_totp_remove_reports_an_active_credential(s: &MfaStores) {
    let st = &s.totp;
    st.put_pending("alice", &pending("a", 1, 0, 600), at(0))
        .await
        .unwrap();
    assert!(!st.remove("alice").await.unwrap());
    assert!(st.get("alice", at(1)).await.unwrap().is_none());
    st.put_pending("alice", &pending("b", 1, 0, 600), at(0))
        .await
        .unwrap();
    st.activate("alice", &CredentialId::new("b"), 3, at(1))
        .await
        .unwrap();
    assert!(st.remove("alice").await.unwrap());
    assert!(!st.remove("alice").await.unwrap());
    assert!(st.get("alice", at(1)).await.unwrap().is_none());
}

pub async fn mfa_totp_every_field_round_trips(s: &MfaStores) {
    let params = TotpParams::new(TotpAlgorithm::Sha512, 8, Duration::from_secs(60)).unwrap();
    let c = TotpCredential::new(
        CredentialId::new("id-1"),
        SealedSecret::from_bytes((0..=255u8).collect::<Vec<_>>()),
        params,
        CredentialState::Pending {
            expires_at: UnixTime::from_nanos(at(600).as_nanos() + 123),
        },
        UnixTime::from_nanos(at(0).as_nanos() + 456),
    );
    s.totp.put_pending("ünïcode user", &c, at(0)).await.unwrap();
    assert_eq!(
        s.totp.get("ünïcode user", at(1)).await.unwrap(),
        Some(c.clone())
    );
    s.totp
        .activate("ünïcode user", c.id(), u64::MAX - 1, at(1))
        .await
        .unwrap();
    assert_eq!(
        s.totp.get("ünïcode user", at(1)).await.unwrap(),
        Some(c.with_state(CredentialState::Active {
            last_step: u64::MAX - 1
        }))
    );
}

fn digest(b: u8) -> RecoveryCodeDigest {
    RecoveryCodeDigest::from_bytes([b; 32])
}

pub async fn mfa_recovery_a_code_is_redeemed_once(s: &MfaStores) {
    let st = &s.recovery;
    st.replace("alice", &[digest(1), digest(2), digest(3)])
        .await
        .unwrap();
    assert_eq!(st.remaining("alice").await.unwrap(), 3);
    assert!(st.redeem("alice", &digest(2)).await.unwrap());
    assert!(!st.redeem("alice", &digest(2)).await.unwrap());
    assert!(!st.redeem("bob", &digest(1)).await.unwrap());
    assert!(!st.redeem("alice", &digest(9)).await.unwrap());
    assert_eq!(st.remaining("alice").await.unwrap(), 2);
    assert_eq!(st.remaining("bob").await.unwrap(), 0);
}

pub async fn mfa_recovery_replace_swaps_the_whole_set(s: &MfaStores) {
    let st = &s.recovery;
    st.replace("alice", &[digest(1), digest(2)]).await.unwrap();
    st.replace("alice", &[digest(3)]).await.unwrap();
    assert!(!st.redeem("alice", &digest(1)).await.unwrap());
    assert!(st.redeem("alice", &digest(3)).await.unwrap());
    st.replace("alice", &[digest(4)]).await.unwrap();
    st.replace("alice", &[]).await.unwrap();
    assert_eq!(st.remaining("alice").await.unwrap(), 0);
    assert!(!st.redeem("alice", &digest(4)).await.unwrap());
}

pub async fn mfa_recovery_concurrent_redemptions_of_one_code_have_one_winner(s: &MfaStores) {
    s.recovery
        .replace("alice", &[digest(1), digest(2)])
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let st = Arc::clone(&s.recovery);
            tokio::spawn(async move { st.redeem("alice", &digest(1)).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    assert_eq!(s.recovery.remaining("alice").await.unwrap(), 1);
}

pub async fn mfa_tokens_get_leaves_and_take_uses_up(s: &MfaStores) {
    let st = &s.tokens;
    let t = MfaToken::generate().unwrap().hash();
    let login = PendingLogin::new("alice", "session", at(0));
    st.insert(&t, &login, at(300), at(0)).await.unwrap();
    assert_eq!(st.get(&t, at(1)).await.unwrap(), Some(login.clone()));
    assert_eq!(st.get(&t, at(2)).await.unwrap(), Some(login.clone()));
    assert_eq!(st.take(&t, at(3)).await.unwrap(), Some(login));
    assert_eq!(st.take(&t, at(4)).await.unwrap(), None);
    assert_eq!(st.get(&t, at(4)).await.unwrap(), None);
}

pub async fn mfa_tokens_expire_and_duplicates_are_refused(s: &MfaStores) {
    let st = &s.tokens;
    let t = MfaToken::generate().unwrap().hash();
    let login = PendingLogin::new("alice", "api", at(0));
    st.insert(&t, &login, at(300), at(0)).await.unwrap();
    assert!(st.insert(&t, &login, at(300), at(0)).await.is_err());
    assert_eq!(st.get(&t, at(300)).await.unwrap(), None);
    assert_eq!(st.take(&t, at(300)).await.unwrap(), None);
}

pub async fn mfa_tokens_concurrent_takes_have_one_winner(s: &MfaStores) {
    let t = MfaToken::generate().unwrap().hash();
    s.tokens
        .insert(
            &t,
            &PendingLogin::new("alice", "api", at(0)),
            at(300),
            at(0),
        )
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let st = Arc::clone(&s.tokens);
            tokio::spawn(async move { st.take(&t, at(1)).await.unwrap().is_some() })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        if task.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

pub async fn mfa_contexts_are_kept_until_the_session_ends(s: &MfaStores) {
    let st = &s.contexts;
    let ctx = AuthContext::password(at(0)).with_second_factor("aal2");
    st.save("family-1", &ctx, at(1000), at(0)).await.unwrap();
    assert_eq!(
        st.load("family-1", at(999)).await.unwrap(),
        Some(ctx.clone())
    );
    assert_eq!(st.load("family-1", at(1000)).await.unwrap(), None);
    // Saving again (a refresh extending the session) keeps the same values.
    st.save("family-1", &ctx, at(2000), at(999)).await.unwrap();
    assert_eq!(
        st.load("family-1", at(1500))
            .await
            .unwrap()
            .unwrap()
            .auth_time(),
        at(0)
    );
    assert!(st.remove("family-1").await.unwrap());
    assert!(!st.remove("family-1").await.unwrap());
    assert_eq!(st.load("family-1", at(1500)).await.unwrap(), None);
}

fn service(s: &MfaStores) -> Mfa {
    Mfa::builder(
        SecretSealer::new(SealingKey::new(1, &[7; 32]).unwrap()),
        RecoveryCodeKey::new(&[9; 32]).unwrap(),
    )
    .issuer("Acme")
    .totp_store(Arc::clone(&s.totp))
    .recovery_store(Arc::clone(&s.recovery))
    .token_store(Arc::clone(&s.tokens))
    .limiter(s.limiter.clone())
    .clock(s.clock.clone())
    .build()
    .unwrap()
}

fn code_now(mfa: &Mfa, secret: &auth_core::mfa::TotpSecret, clock: &ManualClock) -> String {
    let p = mfa.totp_params();
    p.format(p.code_at(secret.as_bytes(), p.step_at(clock.now())))
}

// Issue 15: 64 concurrent submissions of one valid code (memory and Redis), one success.
pub async fn mfa_sixty_four_concurrent_submissions_of_one_code_have_one_success(s: &MfaStores) {
    let mfa = Arc::new(service(s));
    let e = mfa.enroll("alice", "alice@example.com").await.unwrap();
    mfa.confirm("alice", &code_now(&mfa, e.secret(), &s.clock))
        .await
        .unwrap();
    s.clock.advance(Duration::from_secs(30));
    let code = code_now(&mfa, e.secret(), &s.clock);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (mfa, code) = (Arc::clone(&mfa), code.clone());
            tokio::spawn(async move { mfa.verify_totp("alice", &code).await })
        })
        .collect();
    let mut successes = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => successes += 1,
            Err(AuthError::InvalidOtp | AuthError::TooManyAttempts { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(successes, 1);
}

pub async fn mfa_a_full_flow_over_the_backend(s: &MfaStores) {
    let mfa = service(s);
    let clock = &s.clock;
    let e = mfa.enroll("alice", "alice@example.com").await.unwrap();
    let first = code_now(&mfa, e.secret(), clock);
    let codes = mfa.confirm("alice", &first).await.unwrap();
    // The confirmation's code cannot log in.
    let challenge = mfa.begin_login("alice", "api").await.unwrap().unwrap();
    let err = mfa
        .complete_login(
            challenge.token(),
            auth_core::mfa::SecondFactor::Totp(&first),
        )
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::InvalidOtp);
    clock.advance(Duration::from_secs(30));
    let done = mfa
        .complete_login(
            challenge.token(),
            auth_core::mfa::SecondFactor::Totp(&code_now(&mfa, e.secret(), clock)),
        )
        .await
        .unwrap();
    assert_eq!(done.binding(), "api");
    // A recovery code, shouted, once.
    let shouted = codes.as_slice()[0].to_uppercase();
    assert_eq!(
        mfa.redeem_recovery_code("alice", &shouted).await.unwrap(),
        9
    );
    assert_eq!(
        mfa.redeem_recovery_code("alice", &shouted)
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
    // Five failures lock the second factor (one so far: the used recovery code; the right
    // codes since the replayed TOTP code cleared the count).
    for _ in 0..4 {
        mfa.redeem_recovery_code("alice", "aaaa-aaaa-aaaa-aaaa")
            .await
            .unwrap_err();
    }
    assert!(matches!(
        mfa.verify_totp("alice", &code_now(&mfa, e.secret(), clock))
            .await,
        Err(AuthError::TooManyAttempts { .. })
    ));
    clock.advance(Duration::from_secs(15 * 60));
    mfa.verify_totp("alice", &code_now(&mfa, e.secret(), clock))
        .await
        .unwrap();
    let fresh = mfa.regenerate_recovery_codes("alice").await.unwrap();
    assert_eq!(
        mfa.redeem_recovery_code("alice", &codes.as_slice()[1])
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
    mfa.redeem_recovery_code("alice", &fresh.as_slice()[1])
        .await
        .unwrap();
    assert!(mfa.disable("alice").await.unwrap());
    assert!(mfa.begin_login("alice", "api").await.unwrap().is_none());
}
