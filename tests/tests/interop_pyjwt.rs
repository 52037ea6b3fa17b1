//! Tokens signed by PyPI `pyjwt` (pinned in `tests/interop/requirements.txt`) verify with
//! [`JwtVerifier`] using the HMAC secret or the PEM public key `pyjwt`'s `cryptography`
//! backend exports, and are rejected once tampered with or checked against a key of another
//! algorithm.
//!
//! Needs `python3` and `python3 -m pip install -r tests/interop/requirements.txt` (or
//! `bash tests/interop/install.sh`); without them every test here fails with that instruction.

// This whole crate is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the assertion helpers below.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::sync::OnceLock;

use auth_core::jwt::{JwtVerifier, VerificationKey};
use auth_core::{AuthError, ErrorCode, InvalidToken};
use auth_integration_tests::interop::{
    self, ALGORITHMS, LIFETIME_SECS, ROLES, SCOPES, SignedToken, Signer, SignerOutput,
};

/// The signer runs once per test binary; every test reads the same tokens.
fn signed() -> &'static SignerOutput {
    static OUTPUT: OnceLock<Result<SignerOutput, String>> = OnceLock::new();
    match OUTPUT.get_or_init(|| Signer::PyJwt.run().map_err(|e| e.to_string())) {
        Ok(output) => output,
        Err(e) => panic!("{e}"),
    }
}

fn verifier_at(key: VerificationKey, now_secs: u64) -> JwtVerifier {
    interop::verifier_at(key, now_secs).unwrap_or_else(|e| panic!("{e}"))
}

fn pem_key(t: &SignedToken) -> VerificationKey {
    t.verification_key().unwrap_or_else(|e| panic!("{e}"))
}

/// Verifies `t` one second after it was issued and checks every mapped claim.
fn assert_accepted(t: &SignedToken, key: VerificationKey) {
    let principal = verifier_at(key, t.iat + 1)
        .verify_sync(&t.token)
        .unwrap_or_else(|e| {
            panic!(
                "pyjwt {} token was rejected: {e}\ntoken: {}",
                t.alg, t.token
            )
        });
    assert_eq!(principal.subject(), t.sub, "{}", t.alg);
    assert_eq!(principal.scopes(), SCOPES, "{}", t.alg);
    assert_eq!(principal.roles(), ROLES, "{}", t.alg);
    assert_eq!(principal.token_id(), Some(t.jti.as_str()), "{}", t.alg);
    assert_eq!(principal.issuer(), Some(interop::ISSUER), "{}", t.alg);
    let exp = principal.expires_at().map(|e| e.as_secs());
    assert_eq!(exp, Some(t.iat + LIFETIME_SECS), "{}", t.alg);
    let claims = principal.claims().unwrap();
    assert_eq!(claims["aud"], interop::AUDIENCE, "{}", t.alg);
    assert_eq!(claims["iat"], t.iat, "{}", t.alg);
}

#[test]
fn pyjwt_is_the_pinned_version_and_signs_every_interop_algorithm() {
    let output = signed();
    assert_eq!(output.signer.name, "pyjwt");
    assert_eq!(
        output.signer.version,
        Signer::PyJwt.pinned_version().unwrap()
    );
    let algs: Vec<_> = output
        .tokens
        .iter()
        .map(|t| t.algorithm().unwrap())
        .collect();
    assert_eq!(algs, ALGORITHMS);
}

#[test]
fn pyjwt_tokens_verify_with_the_secret_or_pem_public_key() {
    for t in &signed().tokens {
        assert_accepted(t, pem_key(t));
    }
}

#[test]
fn pyjwt_tokens_expire_at_the_exp_pyjwt_set() {
    for t in &signed().tokens {
        // exp = iat + 600; the verifier's default leeway is 30 s.
        let last_valid = t.iat + LIFETIME_SECS + 29;
        assert!(
            verifier_at(pem_key(t), last_valid)
                .verify_sync(&t.token)
                .is_ok(),
            "{}",
            t.alg
        );
        let err = verifier_at(pem_key(t), last_valid + 1)
            .verify_sync(&t.token)
            .unwrap_err();
        assert_eq!(err, AuthError::TokenExpired, "{}", t.alg);
    }
}

#[test]
fn pyjwt_tokens_with_one_payload_character_changed_are_invalid() {
    for t in &signed().tokens {
        let tampered = interop::with_changed_payload_character(&t.token).unwrap();
        assert_ne!(tampered, t.token);
        let err = verifier_at(pem_key(t), t.iat + 1)
            .verify_sync(&tampered)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken, "{}: {err}", t.alg);
        assert_eq!(
            err,
            AuthError::InvalidToken(InvalidToken::BadSignature),
            "{}",
            t.alg
        );
    }
}

#[test]
fn pyjwt_tokens_are_refused_by_a_key_pinned_to_another_algorithm() {
    let tokens = &signed().tokens;
    for (i, t) in tokens.iter().enumerate() {
        let other = &tokens[(i + 1) % tokens.len()];
        assert_ne!(other.alg, t.alg);
        let err = verifier_at(pem_key(other), t.iat + 1)
            .verify_sync(&t.token)
            .unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::InvalidToken,
            "{} with {}: {err}",
            t.alg,
            other.alg
        );
        assert_eq!(
            err,
            AuthError::InvalidToken(InvalidToken::AlgorithmMismatch),
            "{} with {}",
            t.alg,
            other.alg
        );
    }
}
