//! Passwords: OWASP Argon2id parameters, NIST length rules, one dummy verification for an
//! unknown account (counted, not timed), PHC strings the argon2 crate reads and writes, and a
//! bounded number of concurrent runs.
#![cfg(feature = "password")]

use std::num::NonZeroUsize;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use auth_core::password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordError, Passwords};

#[test]
fn hashes_use_argon2id_with_owasp_parameters_and_a_random_salt() {
    let p = Passwords::owasp();
    let a = p.hash("correct horse battery staple").unwrap();
    let b = p.hash("correct horse battery staple").unwrap();
    assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
    assert_ne!(a, b, "salts differ");
    assert!(p.verify(Some(&a), "correct horse battery staple").unwrap());
    assert!(p.verify(Some(&b), "correct horse battery staple").unwrap());
    assert!(!p.verify(Some(&a), "correct horse battery stapler").unwrap());
}

#[test]
fn length_rules_follow_nist_with_a_clear_error() {
    let p = Passwords::owasp();
    assert_eq!((MIN_PASSWORD_CHARS, MAX_PASSWORD_CHARS), (8, 128));
    let err = p.hash("1234567").unwrap_err();
    assert_eq!(err, PasswordError::TooShort { min: 8, actual: 7 });
    assert_eq!(
        err.to_string(),
        "password must be at least 8 characters long (got 7)"
    );
    assert!(p.hash("12345678").is_ok());
    // Characters, not bytes: eight two-byte characters are enough.
    assert!(p.hash("ßßßßßßßß").is_ok());
    assert!(p.hash(&"a".repeat(128)).is_ok());
    assert_eq!(
        p.hash(&"a".repeat(129)).unwrap_err(),
        PasswordError::TooLong { max: 128 }
    );
}

#[test]
fn an_unknown_account_still_costs_exactly_one_dummy_verification() {
    let p = Passwords::owasp();
    let stored = p.hash("the real password").unwrap();
    assert_eq!(p.dummy_verifications(), 0);

    // Known account, wrong password: no dummy run.
    assert!(!p.verify(Some(&stored), "a wrong password").unwrap());
    assert_eq!(p.dummy_verifications(), 0);

    // Unknown account: false, after one dummy verification each time.
    assert!(!p.verify(None, "the real password").unwrap());
    assert_eq!(p.dummy_verifications(), 1);
    assert!(!p.verify(None, "anything at all").unwrap());
    assert_eq!(p.dummy_verifications(), 2);
}

#[test]
fn out_of_range_passwords_are_refused_before_hashing_for_every_account() {
    let p = Passwords::owasp();
    let stored = p.hash("the real password").unwrap();
    assert!(!p.verify(Some(&stored), "short").unwrap());
    assert!(!p.verify(None, "short").unwrap());
    assert!(!p.verify(None, &"x".repeat(10_000)).unwrap());
    assert_eq!(p.dummy_verifications(), 0);
}

#[test]
fn a_corrupt_stored_hash_is_an_error_not_a_match() {
    let p = Passwords::owasp();
    assert!(matches!(
        p.verify(Some("not a phc string"), "long enough password"),
        Err(PasswordError::InvalidHash(_))
    ));
}

#[test]
fn hashes_are_phc_strings_the_argon2_crate_verifies() {
    let p = Passwords::owasp();
    let stored = p.hash("correct horse battery staple").unwrap();
    let parsed = PasswordHash::new(&stored).unwrap();
    let argon2 = Argon2::default();
    assert!(
        argon2
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok()
    );
    assert!(
        argon2
            .verify_password(b"correct horse battery stapler", &parsed)
            .is_err()
    );
    assert_eq!(parsed.hash.unwrap().len(), 32);
}

#[test]
fn hashes_made_elsewhere_with_other_parameters_verify() {
    let p = Passwords::owasp();
    for (m_kib, t, alg) in [
        (8 * 1024, 1, Algorithm::Argon2id),
        (64 * 1024, 1, Algorithm::Argon2id),
        (19 * 1024, 2, Algorithm::Argon2i),
    ] {
        let params = Params::new(m_kib, t, 1, None).unwrap();
        let stored = Argon2::new(alg, Version::V0x13, params)
            .hash_password(b"a password from elsewhere")
            .unwrap()
            .to_string();
        assert!(
            p.verify(Some(&stored), "a password from elsewhere")
                .unwrap(),
            "{stored}"
        );
        assert!(!p.verify(Some(&stored), "not the password").unwrap());
    }
}

#[test]
fn every_hash_is_counted_and_verifications_are_not() {
    let p = Passwords::owasp();
    let stored = p.hash("the first password").unwrap();
    p.hash("the second password").unwrap();
    assert!(p.verify(Some(&stored), "the first password").unwrap());
    assert!(!p.verify(None, "the first password").unwrap());
    // The dummy hash made for the unknown account is not a caller's hash.
    assert_eq!(p.hashes_computed(), 2);
    assert!(p.hash("short").is_err());
    assert_eq!(p.hashes_computed(), 2);
}

#[test]
fn callers_beyond_the_limit_wait_their_turn() {
    let p = Passwords::owasp()
        .with_max_concurrent(NonZeroUsize::MIN)
        .with_max_wait(Duration::from_secs(600));
    assert_eq!(p.max_concurrent(), 1);
    let p = &p;
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|i| s.spawn(move || p.hash(&format!("password number {i}"))))
            .collect();
        for r in runs {
            assert!(r.join().unwrap().is_ok());
        }
    });
    assert_eq!(p.hashes_computed(), 4);
}
