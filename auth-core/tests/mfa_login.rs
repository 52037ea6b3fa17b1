//! Two-step logins (`mfa_token`), recovery codes, what the stores keep, and the authentication
//! context a refresh copies. Manual clock, no sleeping.
#![cfg(all(feature = "mfa", feature = "memory-store"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::AuthError;
use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::mfa::{
    AuthContext, AuthContextStore, MemoryAuthContextStore, MemoryMfaTokenStore,
    MemoryRecoveryCodeStore, MemoryTotpStore, Mfa, RecoveryCodeKey, RecoveryCodes, SealingKey,
    SecondFactor, SecretSealer, TotpParams, TotpSecret,
};

const T0: u64 = 1_700_000_010;
const USER: &str = "user-1";

struct Fixture {
    clock: ManualClock,
    mfa: Mfa,
    totp: Arc<MemoryTotpStore>,
    recovery: Arc<MemoryRecoveryCodeStore>,
    tokens: Arc<MemoryMfaTokenStore>,
}

fn fixture() -> Fixture {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let totp = Arc::new(MemoryTotpStore::new());
    let recovery = Arc::new(MemoryRecoveryCodeStore::new());
    let tokens = Arc::new(MemoryMfaTokenStore::new());
    let mfa = Mfa::builder(
        SecretSealer::new(SealingKey::new(1, &[7; 32]).unwrap()),
        RecoveryCodeKey::new(&[9; 32]).unwrap(),
    )
    .issuer("Acme")
    .totp_store(totp.clone())
    .recovery_store(recovery.clone())
    .token_store(tokens.clone())
    .clock(clock.clone())
    .build()
    .unwrap();
    Fixture {
        clock,
        mfa,
        totp,
        recovery,
        tokens,
    }
}

fn code_now(secret: &TotpSecret, clock: &ManualClock) -> String {
    let p = TotpParams::default();
    p.format(p.code_at(secret.as_bytes(), p.step_at(clock.now())))
}

/// Enrols and confirms `USER`; the clock then moves one step on.
async fn enabled(f: &Fixture) -> (TotpSecret, RecoveryCodes) {
    let e = f.mfa.enroll(USER, "ann@example.com").await.unwrap();
    let codes = f
        .mfa
        .confirm(USER, &code_now(e.secret(), &f.clock))
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(30));
    (e.secret().clone(), codes)
}

#[tokio::test]
async fn a_login_without_totp_needs_no_second_factor() {
    let f = fixture();
    assert!(f.mfa.begin_login(USER, "api").await.unwrap().is_none());
}

#[tokio::test]
async fn a_login_with_totp_completes_with_a_code_and_carries_amr_acr_and_auth_time() {
    let f = fixture();
    let (secret, _) = enabled(&f).await;
    let challenge = f.mfa.begin_login(USER, "session").await.unwrap().unwrap();
    assert_eq!(challenge.methods(), ["totp", "recovery_code"]);
    assert_eq!(challenge.expires_in(), Duration::from_secs(300));
    assert_eq!(challenge.token().len(), 43);
    f.clock.advance(Duration::from_secs(12));
    let done = f
        .mfa
        .complete_login(
            challenge.token(),
            SecondFactor::Totp(&code_now(&secret, &f.clock)),
        )
        .await
        .unwrap();
    assert_eq!(done.subject(), USER);
    assert_eq!(done.binding(), "session");
    assert_eq!(done.context().amr(), ["pwd", "otp", "mfa"]);
    assert_eq!(done.context().acr(), Some("aal2"));
    assert_eq!(done.context().auth_time(), f.clock.now());
}

#[tokio::test]
async fn an_mfa_token_is_single_use() {
    let f = fixture();
    let (secret, _) = enabled(&f).await;
    let challenge = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    f.mfa
        .complete_login(
            challenge.token(),
            SecondFactor::Totp(&code_now(&secret, &f.clock)),
        )
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(30));
    let err = f
        .mfa
        .complete_login(
            challenge.token(),
            SecondFactor::Totp(&code_now(&secret, &f.clock)),
        )
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::InvalidMfaToken);
}

#[tokio::test]
async fn a_wrong_code_leaves_the_mfa_token_usable() {
    let f = fixture();
    let (secret, _) = enabled(&f).await;
    let challenge = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    let right = code_now(&secret, &f.clock);
    // A code of no step in the window.
    let p = TotpParams::default();
    let t = p.step_at(f.clock.now());
    let window: Vec<String> = (t - 1..=t + 1)
        .map(|s| p.format(p.code_at(secret.as_bytes(), s)))
        .collect();
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !window.contains(c))
        .unwrap();
    let err = f
        .mfa
        .complete_login(challenge.token(), SecondFactor::Totp(&wrong))
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::InvalidOtp);
    f.mfa
        .complete_login(challenge.token(), SecondFactor::Totp(&right))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_unknown_or_malformed_mfa_token_is_invalid_before_the_code_is_looked_at() {
    let f = fixture();
    let (secret, _) = enabled(&f).await;
    let challenge = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    f.clock.advance(Duration::from_secs(300));
    let code = code_now(&secret, &f.clock);
    for token in [
        challenge.token().to_owned(),
        auth_core::mfa::MfaToken::generate()
            .unwrap()
            .as_str()
            .to_owned(),
        "not-a-token".to_owned(),
    ] {
        let err = f
            .mfa
            .complete_login(&token, SecondFactor::Totp(&code))
            .await
            .unwrap_err();
        assert_eq!(err, AuthError::InvalidMfaToken, "{token}");
    }
    // The code was never checked, so it is still unused.
    f.mfa.verify_totp(USER, &code).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_completions_of_one_mfa_token_log_in_once() {
    let f = fixture();
    let (_, codes) = enabled(&f).await;
    let challenge = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    let mfa = Arc::new(f.mfa.clone());
    // Different recovery codes, so only the token can stop the second login.
    let tasks: Vec<_> = codes
        .as_slice()
        .iter()
        .take(4)
        .map(|code| {
            let (mfa, token, code) = (mfa.clone(), challenge.token().to_owned(), code.clone());
            tokio::spawn(async move {
                mfa.complete_login(&token, SecondFactor::RecoveryCode(&code))
                    .await
            })
        })
        .collect();
    let mut logins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => logins += 1,
            Err(e) => assert_eq!(e, AuthError::InvalidMfaToken),
        }
    }
    assert_eq!(logins, 1);
}

// Issue 15: recovery codes are single-use and compared ignoring case, spaces and hyphens.
#[tokio::test]
async fn a_recovery_code_works_once_in_any_spelling() {
    let f = fixture();
    let (_, codes) = enabled(&f).await;
    let code = &codes.as_slice()[3];
    let shouted = code.to_uppercase().replace('-', " ");
    let challenge = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    let done = f
        .mfa
        .complete_login(challenge.token(), SecondFactor::RecoveryCode(&shouted))
        .await
        .unwrap();
    assert_eq!(done.context().amr(), ["pwd", "otp", "mfa"]);
    assert_eq!(f.mfa.status(USER).await.unwrap().recovery_codes_left(), 9);
    let again = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    let err = f
        .mfa
        .complete_login(again.token(), SecondFactor::RecoveryCode(code))
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::InvalidOtp);
    assert_eq!(
        f.mfa
            .redeem_recovery_code(USER, &codes.as_slice()[4].replace('-', ""))
            .await
            .unwrap(),
        8
    );
}

#[tokio::test]
async fn a_recovery_code_of_another_account_is_refused() {
    let f = fixture();
    let (_, codes) = enabled(&f).await;
    let e = f.mfa.enroll("user-2", "bob").await.unwrap();
    f.mfa
        .confirm("user-2", &code_now(e.secret(), &f.clock))
        .await
        .unwrap();
    assert_eq!(
        f.mfa
            .redeem_recovery_code("user-2", &codes.as_slice()[0])
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
}

// Issue 15: regenerating replaces the whole set.
#[tokio::test]
async fn regenerating_recovery_codes_invalidates_the_old_set() {
    let f = fixture();
    let (_, old) = enabled(&f).await;
    f.mfa
        .redeem_recovery_code(USER, &old.as_slice()[0])
        .await
        .unwrap();
    let new = f.mfa.regenerate_recovery_codes(USER).await.unwrap();
    assert_eq!(f.mfa.status(USER).await.unwrap().recovery_codes_left(), 10);
    for code in &old.as_slice()[1..4] {
        assert_eq!(
            f.mfa.redeem_recovery_code(USER, code).await.unwrap_err(),
            AuthError::InvalidOtp
        );
    }
    f.mfa
        .redeem_recovery_code(USER, &new.as_slice()[9])
        .await
        .unwrap();
}

#[tokio::test]
async fn recovery_codes_need_totp_to_be_on() {
    let f = fixture();
    assert_eq!(
        f.mfa.regenerate_recovery_codes(USER).await.unwrap_err(),
        AuthError::MfaNotEnabled
    );
}

#[tokio::test]
async fn wrong_recovery_codes_count_towards_the_lockout() {
    let f = fixture();
    let (_, codes) = enabled(&f).await;
    for _ in 0..5 {
        assert_eq!(
            f.mfa
                .redeem_recovery_code(USER, "aaaa-aaaa-aaaa-aaaa")
                .await
                .unwrap_err(),
            AuthError::InvalidOtp
        );
    }
    assert!(matches!(
        f.mfa.redeem_recovery_code(USER, &codes.as_slice()[0]).await,
        Err(AuthError::TooManyAttempts { .. })
    ));
}

// Issue 15: no secret or recovery code in clear in any store.
#[tokio::test]
async fn the_memory_stores_hold_no_secret_code_or_token_in_clear() {
    let f = fixture();
    let e = f.mfa.enroll(USER, "ann@example.com").await.unwrap();
    let codes = f
        .mfa
        .confirm(USER, &code_now(e.secret(), &f.clock))
        .await
        .unwrap();
    let challenge = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    let dump = format!("{:?} {:?} {:?} {:?}", f.totp, f.recovery, f.tokens, f.mfa);
    let hex: String = e
        .secret()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!dump.contains(&e.secret_base32()));
    assert!(!dump.contains(&hex));
    assert!(!dump.contains(challenge.token()));
    for c in codes.as_slice() {
        assert!(!dump.contains(c.as_str()));
        assert!(!dump.contains(&c.replace('-', "")));
    }
    let credential = auth_core::mfa::TotpStore::get(&*f.totp, USER, f.clock.now())
        .await
        .unwrap()
        .unwrap();
    let sealed = credential.sealed_secret().as_bytes();
    assert!(!sealed.windows(20).any(|w| w == e.secret().as_bytes()));
}

// Issue 15: a refreshed token keeps the original auth_time (library part: the context a login
// saves is what a refresh stamps, unchanged).
#[cfg(all(feature = "issuer", feature = "refresh"))]
#[tokio::test]
async fn a_refreshed_access_token_carries_the_original_auth_time() {
    use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey, TokenIssuer};
    use auth_core::refresh::RefreshTokens;

    let f = fixture();
    let (secret, _) = enabled(&f).await;
    let issuer = TokenIssuer::builder(KeyRing::new(
        SigningKey::generate(Algorithm::EdDSA, "k1").unwrap(),
    ))
    .issuer("https://auth.example")
    .audience("api")
    .clock(f.clock.clone())
    .build()
    .unwrap();
    let verifier = issuer.verifier_builder().build().unwrap();
    let refresh = RefreshTokens::in_memory()
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let contexts = MemoryAuthContextStore::new();

    // Login: both factors, then a session whose context is kept by its family id.
    let challenge = f.mfa.begin_login(USER, "api").await.unwrap().unwrap();
    let done = f
        .mfa
        .complete_login(
            challenge.token(),
            SecondFactor::Totp(&code_now(&secret, &f.clock)),
        )
        .await
        .unwrap();
    let session = refresh.issue(done.subject()).await.unwrap();
    contexts
        .save(
            session.family().as_str(),
            done.context(),
            session.expires_at(),
            f.clock.now(),
        )
        .await
        .unwrap();
    let first = issuer
        .issue(&done.context().apply(AccessGrant::new(USER)))
        .unwrap();

    // Ten minutes later: refresh. The kept context is stamped again, not a new one.
    f.clock.advance(Duration::from_secs(600));
    let rotated = refresh.rotate(session.token().as_str()).await.unwrap();
    let kept = contexts
        .load(rotated.family().as_str(), f.clock.now())
        .await
        .unwrap()
        .unwrap();
    let second = issuer.issue(&kept.apply(AccessGrant::new(USER))).unwrap();

    let a = verifier.verify_sync(first.as_str()).unwrap();
    let b = verifier.verify_sync(second.as_str()).unwrap();
    let (ca, cb) = (a.claims().unwrap(), b.claims().unwrap());
    assert_eq!(ca["auth_time"], cb["auth_time"]);
    assert_eq!(cb["auth_time"], T0 + 30);
    assert_eq!(cb["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(cb["acr"], "aal2");
    assert_ne!(ca["iat"], cb["iat"]);
    assert_eq!(AuthContext::from_claims(cb), Some(done.context().clone()));
    // Logout forgets it.
    assert!(contexts.remove(rotated.family().as_str()).await.unwrap());
}

#[tokio::test]
async fn a_kept_context_expires_with_its_session() {
    let f = fixture();
    let contexts = MemoryAuthContextStore::new();
    let ctx = AuthContext::password(f.clock.now());
    let until = f.clock.now().saturating_add(Duration::from_secs(60));
    contexts
        .save("s1", &ctx, until, f.clock.now())
        .await
        .unwrap();
    assert_eq!(contexts.load("s1", f.clock.now()).await.unwrap(), Some(ctx));
    f.clock.advance(Duration::from_secs(60));
    assert_eq!(contexts.load("s1", f.clock.now()).await.unwrap(), None);
    assert_eq!(contexts.load("s2", f.clock.now()).await.unwrap(), None);
}
