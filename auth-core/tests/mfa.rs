//! TOTP second factors through `Mfa`: enrolment, replay prevention (also under concurrency),
//! strict code parsing, throttling and lockouts, and a cross-check against `totp-rs`. Manual
//! clock, no sleeping.
#![cfg(all(feature = "mfa", feature = "memory-store"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::mfa::{
    Mfa, RecoveryCodeKey, SealingKey, SecretSealer, TotpAlgorithm, TotpParams, TotpSecret,
    TotpWindow,
};
use auth_core::{AuthError, ErrorCode};
use proptest::prelude::*;

// Aligned on a 30 s step boundary: 1_700_000_010 = 56_666_667 * 30.
const T0: u64 = 1_700_000_010;
const USER: &str = "user-1";

fn clock() -> ManualClock {
    ManualClock::new(UnixTime::from_secs(T0))
}

fn mfa(clock: &ManualClock) -> Mfa {
    Mfa::builder(
        SecretSealer::new(SealingKey::new(1, &[7; 32]).unwrap()),
        RecoveryCodeKey::new(&[9; 32]).unwrap(),
    )
    .issuer("Acme")
    .clock(clock.clone())
    .build()
    .unwrap()
}

fn code_at(secret: &TotpSecret, step: u64) -> String {
    let p = TotpParams::default();
    p.format(p.code_at(secret.as_bytes(), step))
}

fn step(clock: &ManualClock) -> u64 {
    TotpParams::default().step_at(clock.now())
}

fn next_step(clock: &ManualClock) {
    clock.advance(Duration::from_secs(30));
}

/// Enrols and confirms `USER`; returns the secret. The clock ends one step later than the
/// confirmation's step, so the next code is usable.
async fn enabled(mfa: &Mfa, clock: &ManualClock) -> TotpSecret {
    let e = mfa.enroll(USER, "ann@example.com").await.unwrap();
    let secret = e.secret().clone();
    mfa.confirm(USER, &code_at(&secret, step(clock)))
        .await
        .unwrap();
    next_step(clock);
    secret
}

fn a_wrong_code(secret: &TotpSecret, clock: &ManualClock) -> String {
    let t = step(clock);
    let window: Vec<String> = (t - 1..=t + 1).map(|s| code_at(secret, s)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !window.contains(c))
        .unwrap()
}

// Issue 15: cross-check against another implementation for random secrets and times.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn codes_match_totp_rs_for_random_secrets_times_and_parameters(
        secret in proptest::collection::vec(any::<u8>(), 16..64),
        time in 0u64..10_000_000_000,
        alg in 0usize..3,
        eight in any::<bool>(),
        period in prop_oneof![Just(30u64), Just(60u64), 1u64..120],
    ) {
        let (ours, theirs) = [
            (TotpAlgorithm::Sha1, totp_rs::Algorithm::SHA1),
            (TotpAlgorithm::Sha256, totp_rs::Algorithm::SHA256),
            (TotpAlgorithm::Sha512, totp_rs::Algorithm::SHA512),
        ][alg];
        let digits = if eight { 8 } else { 6 };
        let p = TotpParams::new(ours, digits, Duration::from_secs(period)).unwrap();
        let reference = totp_rs::TOTP::new_unchecked(theirs, usize::from(digits), 1, period, secret.clone());
        let now = UnixTime::from_secs(time);
        let expected = reference.generate(time);
        prop_assert_eq!(p.format(p.code_at(&secret, p.step_at(now))), expected.clone());
        let code = p.parse_code(&expected).unwrap();
        // The latest matching step of the window: this one (or, by a 10^-6 chance, the next).
        let current = p.step_at(now);
        let got = p.matching_step(&secret, code, now, TotpWindow::default());
        prop_assert!(matches!(got, Some(s) if s == current || s == current + 1), "{:?}", got);
    }
}

#[tokio::test]
async fn a_confirmed_enrolment_turns_totp_on_and_returns_ten_recovery_codes() {
    let clock = clock();
    let mfa = mfa(&clock);
    assert!(!mfa.is_enabled(USER).await.unwrap());
    let e = mfa.enroll(USER, "ann@example.com").await.unwrap();
    assert!(
        e.otpauth_uri()
            .starts_with("otpauth://totp/Acme:ann%40example.com?secret=")
    );
    assert!(e.otpauth_uri().contains("&issuer=Acme"));
    assert!(e.qr_svg().starts_with("<?xml"));
    assert_eq!(e.secret_base32().len(), 32);
    assert!(!format!("{e:?}").contains(&e.secret_base32()));
    // Pending: not yet a second factor.
    assert!(!mfa.is_enabled(USER).await.unwrap());
    let codes = mfa
        .confirm(USER, &code_at(e.secret(), step(&clock)))
        .await
        .unwrap();
    assert_eq!(codes.as_slice().len(), 10);
    let status = mfa.status(USER).await.unwrap();
    assert!(status.totp());
    assert_eq!(status.recovery_codes_left(), 10);
}

#[tokio::test]
async fn enrolling_again_before_confirming_replaces_the_pending_secret() {
    let clock = clock();
    let mfa = mfa(&clock);
    let first = mfa.enroll(USER, "ann").await.unwrap();
    let second = mfa.enroll(USER, "ann").await.unwrap();
    assert_ne!(first.secret(), second.secret());
    let t = step(&clock);
    assert_eq!(
        mfa.confirm(USER, &code_at(first.secret(), t))
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
    mfa.confirm(USER, &code_at(second.secret(), t))
        .await
        .unwrap();
}

#[tokio::test]
async fn enrolling_or_confirming_while_totp_is_active_is_refused() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    assert_eq!(
        mfa.enroll(USER, "ann").await.unwrap_err().code(),
        ErrorCode::MfaAlreadyEnabled
    );
    assert_eq!(
        mfa.confirm(USER, &code_at(&secret, step(&clock)))
            .await
            .unwrap_err(),
        AuthError::MfaAlreadyEnabled
    );
    // The active credential still works.
    mfa.verify_totp(USER, &code_at(&secret, step(&clock)))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_enrolment_lapses_after_ten_minutes() {
    let clock = clock();
    let mfa = mfa(&clock);
    let e = mfa.enroll(USER, "ann").await.unwrap();
    clock.advance(Duration::from_secs(600));
    let err = mfa
        .confirm(USER, &code_at(e.secret(), step(&clock)))
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::InvalidOtp);
    assert!(!mfa.is_enabled(USER).await.unwrap());
}

// Issue 15: the enrolment code's step is consumed.
#[tokio::test]
async fn the_enrolment_code_cannot_be_the_first_login_code() {
    let clock = clock();
    let mfa = mfa(&clock);
    let e = mfa.enroll(USER, "ann").await.unwrap();
    let code = code_at(e.secret(), step(&clock));
    mfa.confirm(USER, &code).await.unwrap();
    assert_eq!(
        mfa.verify_totp(USER, &code).await.unwrap_err(),
        AuthError::InvalidOtp
    );
    // Not even 20 s later, within the window.
    clock.advance(Duration::from_secs(20));
    assert_eq!(
        mfa.verify_totp(USER, &code).await.unwrap_err(),
        AuthError::InvalidOtp
    );
}

// Issue 15: a replay gets exactly the answer of a wrong code.
#[tokio::test]
async fn the_same_code_twice_is_refused_the_second_time_exactly_like_a_wrong_code() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    let code = code_at(&secret, step(&clock));
    mfa.verify_totp(USER, &code).await.unwrap();
    let replay = mfa.verify_totp(USER, &code).await.unwrap_err();
    let wrong = mfa
        .verify_totp(USER, &a_wrong_code(&secret, &clock))
        .await
        .unwrap_err();
    assert_eq!(replay, wrong);
    assert_eq!(replay, AuthError::InvalidOtp);
    assert_eq!(replay.to_string(), wrong.to_string());
}

// Issue 15: after step t is accepted, t-1 and t are refused and t+1 is accepted later.
#[tokio::test]
async fn after_step_t_is_accepted_older_and_equal_steps_are_refused_and_a_later_one_accepted() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    next_step(&clock);
    let t = step(&clock);
    mfa.verify_totp(USER, &code_at(&secret, t)).await.unwrap();
    // t - 1 is inside the window, but older than t.
    assert_eq!(
        mfa.verify_totp(USER, &code_at(&secret, t - 1))
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
    assert_eq!(
        mfa.verify_totp(USER, &code_at(&secret, t))
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
    next_step(&clock);
    mfa.verify_totp(USER, &code_at(&secret, t + 1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_code_one_step_ahead_is_accepted_and_then_the_current_one_is_not() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    let t = step(&clock);
    mfa.verify_totp(USER, &code_at(&secret, t + 1))
        .await
        .unwrap();
    assert_eq!(
        mfa.verify_totp(USER, &code_at(&secret, t))
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
    // Two steps ahead is outside the window.
    assert_eq!(
        mfa.verify_totp(USER, &code_at(&secret, t + 3))
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
}

// Issue 15: 64 concurrent submissions of one valid code, exactly one success.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_submissions_of_one_code_have_exactly_one_success() {
    let clock = clock();
    let mfa = Arc::new(mfa(&clock));
    let secret = enabled(&mfa, &clock).await;
    let code = code_at(&secret, step(&clock));
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (mfa, code, barrier) = (Arc::clone(&mfa), code.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                mfa.verify_totp(USER, &code).await
            })
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

// Issue 15: codes with a leading zero.
#[tokio::test]
async fn a_code_with_a_leading_zero_is_accepted() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    // About one step in ten has a code below 100000; walk forward to one.
    for _ in 0..500 {
        let code = code_at(&secret, step(&clock));
        if code.starts_with('0') {
            mfa.verify_totp(USER, &code).await.unwrap();
            return;
        }
        next_step(&clock);
    }
    panic!("no code with a leading zero in 500 steps");
}

// Issue 15: only exactly six ASCII digits, even when the number is right.
#[tokio::test]
async fn codes_that_are_not_exactly_six_ascii_digits_are_refused_even_when_the_number_is_right() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    // Find a step whose code starts with 0, so "12345"-style spellings carry the right number.
    while !code_at(&secret, step(&clock)).starts_with('0') {
        next_step(&clock);
    }
    let code = code_at(&secret, step(&clock));
    let fullwidth: String = code
        .chars()
        .map(|c| char::from_u32(0xff10 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    for bad in [
        code[1..].to_owned(),
        format!(" {code}"),
        format!("+{}", &code[1..]),
        fullwidth,
    ] {
        assert_eq!(
            mfa.verify_totp(USER, &bad).await.unwrap_err(),
            AuthError::InvalidOtp,
            "{bad:?}"
        );
    }
    // Four failures so far: the right spelling still passes.
    mfa.verify_totp(USER, &code).await.unwrap();
}

// Issue 15: 5 failures lock the second factor for 15 minutes; a right code is refused then.
#[tokio::test]
async fn five_wrong_codes_lock_the_second_factor_for_fifteen_minutes_even_for_a_right_code() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    for _ in 0..5 {
        let wrong = a_wrong_code(&secret, &clock);
        assert_eq!(
            mfa.verify_totp(USER, &wrong).await.unwrap_err(),
            AuthError::InvalidOtp
        );
    }
    let right = code_at(&secret, step(&clock));
    assert_eq!(
        mfa.verify_totp(USER, &right).await.unwrap_err(),
        AuthError::TooManyAttempts {
            retry_after: Duration::from_secs(15 * 60)
        }
    );
    clock.advance(Duration::from_secs(15 * 60 - 1));
    let right = code_at(&secret, step(&clock));
    assert_eq!(
        mfa.verify_totp(USER, &right).await.unwrap_err(),
        AuthError::TooManyAttempts {
            retry_after: Duration::from_secs(1)
        }
    );
    clock.advance(Duration::from_secs(1));
    let right = code_at(&secret, step(&clock));
    mfa.verify_totp(USER, &right).await.unwrap();
}

#[tokio::test]
async fn the_next_lockout_lasts_an_hour() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    for round in [15 * 60, 3600] {
        for _ in 0..5 {
            let wrong = a_wrong_code(&secret, &clock);
            assert_eq!(
                mfa.verify_totp(USER, &wrong).await.unwrap_err(),
                AuthError::InvalidOtp
            );
        }
        let err = mfa.verify_totp(USER, "000000").await.unwrap_err();
        assert_eq!(
            err,
            AuthError::TooManyAttempts {
                retry_after: Duration::from_secs(round)
            }
        );
        clock.advance(Duration::from_secs(round));
    }
}

#[tokio::test]
async fn a_right_code_clears_the_failures() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    for _ in 0..4 {
        let wrong = a_wrong_code(&secret, &clock);
        mfa.verify_totp(USER, &wrong).await.unwrap_err();
    }
    mfa.verify_totp(USER, &code_at(&secret, step(&clock)))
        .await
        .unwrap();
    for _ in 0..4 {
        let wrong = a_wrong_code(&secret, &clock);
        assert_eq!(
            mfa.verify_totp(USER, &wrong).await.unwrap_err(),
            AuthError::InvalidOtp
        );
    }
    next_step(&clock);
    mfa.verify_totp(USER, &code_at(&secret, step(&clock)))
        .await
        .unwrap();
}

#[tokio::test]
async fn accounts_are_throttled_separately() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    let other = mfa.enroll("user-2", "bob").await.unwrap();
    mfa.confirm("user-2", &code_at(other.secret(), step(&clock)))
        .await
        .unwrap();
    for _ in 0..5 {
        mfa.verify_totp("user-2", "000000").await.unwrap_err();
    }
    assert!(matches!(
        mfa.verify_totp("user-2", "000000").await,
        Err(AuthError::TooManyAttempts { .. })
    ));
    mfa.verify_totp(USER, &code_at(&secret, step(&clock)))
        .await
        .unwrap();
}

#[tokio::test]
async fn verifying_without_an_active_credential_is_an_invalid_code() {
    let clock = clock();
    let mfa = mfa(&clock);
    assert_eq!(
        mfa.verify_totp(USER, "123456").await.unwrap_err(),
        AuthError::InvalidOtp
    );
    let e = mfa.enroll(USER, "ann").await.unwrap();
    // Pending only.
    assert_eq!(
        mfa.verify_totp(USER, &code_at(e.secret(), step(&clock)))
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
}

#[tokio::test]
async fn disabling_removes_the_credential_and_recovery_codes() {
    let clock = clock();
    let mfa = mfa(&clock);
    let secret = enabled(&mfa, &clock).await;
    assert!(mfa.disable(USER).await.unwrap());
    let status = mfa.status(USER).await.unwrap();
    assert!(!status.totp());
    assert_eq!(status.recovery_codes_left(), 0);
    assert_eq!(
        mfa.verify_totp(USER, &code_at(&secret, step(&clock)))
            .await
            .unwrap_err(),
        AuthError::InvalidOtp
    );
    assert!(!mfa.disable(USER).await.unwrap());
    // A new enrolment can start.
    mfa.enroll(USER, "ann").await.unwrap();
}

#[tokio::test]
async fn eight_digit_sha256_credentials_keep_their_parameters() {
    let clock = clock();
    let params = TotpParams::new(TotpAlgorithm::Sha256, 8, Duration::from_secs(60)).unwrap();
    let mfa = Mfa::builder(
        SecretSealer::new(SealingKey::new(1, &[7; 32]).unwrap()),
        RecoveryCodeKey::new(&[9; 32]).unwrap(),
    )
    .issuer("Acme")
    .totp_params(params)
    .clock(clock.clone())
    .build()
    .unwrap();
    let e = mfa.enroll(USER, "ann").await.unwrap();
    assert!(
        e.otpauth_uri()
            .ends_with("&algorithm=SHA256&digits=8&period=60")
    );
    let code = |c: &ManualClock| {
        params.format(params.code_at(e.secret().as_bytes(), params.step_at(c.now())))
    };
    mfa.confirm(USER, &code(&clock)).await.unwrap();
    clock.advance(Duration::from_secs(60));
    assert_eq!(code(&clock).len(), 8);
    // Six digits are not an eight-digit code.
    assert_eq!(
        mfa.verify_totp(USER, &code(&clock)[2..]).await.unwrap_err(),
        AuthError::InvalidOtp
    );
    mfa.verify_totp(USER, &code(&clock)).await.unwrap();
}

#[tokio::test]
async fn a_secret_sealed_under_a_previous_key_still_verifies_after_rotation() {
    let clock = clock();
    let totp: Arc<auth_core::mfa::MemoryTotpStore> =
        Arc::new(auth_core::mfa::MemoryTotpStore::new());
    let build = |sealer: SecretSealer| {
        Mfa::builder(sealer, RecoveryCodeKey::new(&[9; 32]).unwrap())
            .issuer("Acme")
            .totp_store(totp.clone())
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let old = build(SecretSealer::new(SealingKey::new(1, &[1; 32]).unwrap()));
    let secret = enabled(&old, &clock).await;
    let rotated = build(
        SecretSealer::new(SealingKey::new(2, &[2; 32]).unwrap())
            .with_previous(SealingKey::new(1, &[1; 32]).unwrap())
            .unwrap(),
    );
    rotated
        .verify_totp(USER, &code_at(&secret, step(&clock)))
        .await
        .unwrap();
    // Without the old key the secret does not open: a server error, not a wrong code.
    let lost = build(SecretSealer::new(SealingKey::new(2, &[2; 32]).unwrap()));
    next_step(&clock);
    assert_eq!(
        lost.verify_totp(USER, &code_at(&secret, step(&clock)))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::AuthBackendUnavailable
    );
}
