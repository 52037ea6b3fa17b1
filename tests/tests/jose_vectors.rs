//! Published JOSE test vectors, and cases in the spirit of Wycheproof's JWS tests, run through
//! [`JwtVerifier`]: what our verifier must answer for each.
//!
//! - RFC 7515 Appendix A.1 (HS256) and RFC 8037 Appendix A.4 (Ed25519): the signatures verify,
//!   and the answer is then decided by our claim rules (neither example is an access token).
//! - RFC 7797 section 4 (the `b64` header): never accepted.
//! - Keys: a short RSA modulus, one with the ROCA fingerprint, a curve label that is not the
//!   key's, a JWK whose `key_ops` exclude `verify`: all refused when the key is built.
//!
//! The vectors are data copied from the RFCs; time comes from a [`ManualClock`].

// This whole crate is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the fixtures below.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, JwtVerifierBuilder, VerificationKey};
use auth_core::{AuthError, ConfigError, InvalidToken};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::PublicKeyComponents;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn invalid(reason: InvalidToken) -> AuthError {
    AuthError::InvalidToken(reason)
}

// ---------------------------------------------------------------------------------------------
// RFC 7515 Appendix A.1: HS256
// ---------------------------------------------------------------------------------------------

/// The symmetric key of RFC 7515 Appendix A.1 (`k` of its JWK), also used by RFC 7797.
const RFC7515_A1_K: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

/// Header `{"typ":"JWT",\r\n "alg":"HS256"}`, claims
/// `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
const RFC7515_A1_JWS: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
    eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
    dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The example's `exp`.
const RFC7515_A1_EXP: u64 = 1_300_819_380;

fn a1_key() -> VerificationKey {
    VerificationKey::hmac(Algorithm::HS256, unb64(RFC7515_A1_K)).unwrap()
}

/// A verifier for the A.1 example: its key, its issuer `joe`, any audience (the example has
/// none), one minute before its `exp`.
fn a1_verifier(configure: impl FnOnce(JwtVerifierBuilder) -> JwtVerifierBuilder) -> JwtVerifier {
    let builder = JwtVerifier::builder()
        .key(a1_key())
        .issuer("joe")
        .dangerous_accept_any_audience()
        .clock(ManualClock::new(UnixTime::from_secs(RFC7515_A1_EXP - 60)));
    configure(builder).build().unwrap()
}

#[test]
fn rfc7515_a1_verifies_and_is_then_refused_only_for_its_missing_sub() {
    // Every check up to the claims passes (signature, `exp`, `iss`); the example has no `sub`,
    // which our principals require.
    let v = a1_verifier(|b| b);
    assert_eq!(
        v.verify_sync(RFC7515_A1_JWS).unwrap_err(),
        invalid(InvalidToken::MissingClaim("sub"))
    );
    // Its `typ` is `JWT`, which satisfies a verifier requiring `JWT` but not `at+jwt`.
    let v = a1_verifier(|b| b.require_type("JWT"));
    assert_eq!(
        v.verify_sync(RFC7515_A1_JWS).unwrap_err(),
        invalid(InvalidToken::MissingClaim("sub"))
    );
    let v = a1_verifier(|b| b.require_type("at+jwt"));
    assert_eq!(
        v.verify_sync(RFC7515_A1_JWS).unwrap_err(),
        invalid(InvalidToken::WrongType)
    );
}

#[test]
fn rfc7515_a1_claims_are_checked_against_our_rules() {
    let other_issuer = JwtVerifier::builder()
        .key(a1_key())
        .issuer("mallory")
        .dangerous_accept_any_audience()
        .clock(ManualClock::new(UnixTime::from_secs(RFC7515_A1_EXP - 60)))
        .build()
        .unwrap();
    assert_eq!(
        other_issuer.verify_sync(RFC7515_A1_JWS).unwrap_err(),
        AuthError::InvalidIssuer
    );
    // The example has no `aud`: a verifier that needs one refuses it.
    let with_audience = JwtVerifier::builder()
        .key(a1_key())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(RFC7515_A1_EXP - 60)))
        .build()
        .unwrap();
    assert_eq!(
        with_audience.verify_sync(RFC7515_A1_JWS).unwrap_err(),
        AuthError::InvalidAudience
    );
}

#[test]
fn rfc7515_a1_expires_on_the_injected_clock() {
    let clock = ManualClock::new(UnixTime::from_secs(RFC7515_A1_EXP - 60));
    let v = a1_verifier(|b| b.clock(clock.clone()));
    clock.advance(Duration::from_secs(60 + 30)); // `exp` plus the default leeway
    assert_eq!(
        v.verify_sync(RFC7515_A1_JWS).unwrap_err(),
        AuthError::TokenExpired
    );
}

#[test]
fn rfc7515_a1_with_another_key_or_a_changed_byte_is_a_bad_signature() {
    let other = VerificationKey::hmac(Algorithm::HS256, [7u8; 64]).unwrap();
    let v = JwtVerifier::builder()
        .key(other)
        .dangerous_accept_any_audience()
        .clock(ManualClock::new(UnixTime::from_secs(RFC7515_A1_EXP - 60)))
        .build()
        .unwrap();
    assert_eq!(
        v.verify_sync(RFC7515_A1_JWS).unwrap_err(),
        invalid(InvalidToken::BadSignature)
    );
    // `dB...` -> `eB...`: one bit of the first signature byte.
    let tampered = RFC7515_A1_JWS.replacen(".dBjf", ".eBjf", 1);
    assert_ne!(tampered, RFC7515_A1_JWS);
    assert_eq!(
        a1_verifier(|b| b).verify_sync(&tampered).unwrap_err(),
        invalid(InvalidToken::BadSignature)
    );
}

// ---------------------------------------------------------------------------------------------
// RFC 8037 Appendix A.4: Ed25519
// ---------------------------------------------------------------------------------------------

/// The public key of RFC 8037 Appendix A.2.
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

/// Header `{"alg":"EdDSA"}`, payload `Example of Ed25519 signing` (not JSON).
const RFC8037_A4_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
    hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn ed_jwk(extra: &str) -> String {
    format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"{extra}}}"#)
}

fn ed_verifier(jwk: &str) -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::from_jwk_json(jwk, Some(Algorithm::EdDSA)).unwrap())
        .dangerous_accept_any_audience()
        .clock(ManualClock::new(UnixTime::from_secs(1_700_000_000)))
        .build()
        .unwrap()
}

#[test]
fn rfc8037_a4_signature_is_the_published_one() {
    // Independently of our verifier: the vector's signature verifies over its signing input.
    let (input, sig) = RFC8037_A4_JWS.rsplit_once('.').unwrap();
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ED25519,
        unb64(RFC8037_X),
    );
    assert!(key.verify(input.as_bytes(), &unb64(sig)).is_ok());
    assert_eq!(
        unb64(input.split_once('.').unwrap().1),
        b"Example of Ed25519 signing"
    );
}

#[test]
fn rfc8037_a4_verifies_and_is_refused_because_its_payload_is_not_a_claims_set() {
    // The payload is plain text, not a JSON object: no claims, so no JWT.
    for jwk in [ed_jwk(""), ed_jwk(r#","use":"sig","key_ops":["verify"]"#)] {
        assert_eq!(
            ed_verifier(&jwk).verify_sync(RFC8037_A4_JWS).unwrap_err(),
            invalid(InvalidToken::BadJson)
        );
    }
    let tampered = RFC8037_A4_JWS.replacen("hgyY", "hgyZ", 1);
    assert_eq!(
        ed_verifier(&ed_jwk("")).verify_sync(&tampered).unwrap_err(),
        invalid(InvalidToken::BadSignature)
    );
}

#[test]
fn rfc8037_key_is_refused_when_not_labelled_for_verifying_with_ed25519() {
    for (jwk, what) in [
        (ed_jwk(r#","key_ops":["sign"]"#), "key_ops without verify"),
        (ed_jwk(r#","use":"enc""#), "an encryption key"),
        (
            format!(r#"{{"kty":"OKP","crv":"X25519","x":"{RFC8037_X}"}}"#),
            "an X25519 label",
        ),
        (format!(r#"{{"kty":"OKP","x":"{RFC8037_X}"}}"#), "no crv"),
    ] {
        assert!(
            VerificationKey::from_jwk_json(&jwk, Some(Algorithm::EdDSA)).is_err(),
            "{what} was accepted"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 7797: the `b64` header
// ---------------------------------------------------------------------------------------------

/// The A.1 key's HS256 signature over `signing_input`, made by the test kit's signer.
fn hs256_a1(signing_input: &str) -> String {
    let key = auth_test::TestKey::hs256(unb64(RFC7515_A1_K), "a1").unwrap();
    b64(&key.sign(signing_input.as_bytes()).unwrap())
}

#[test]
fn rfc7797_unencoded_payloads_are_never_accepted() {
    let v = a1_verifier(|b| b);
    // Section 4.1: the ordinary JWS of `$.02`; it verifies, and `$.02` is not a claims set.
    let encoded = "eyJhbGciOiJIUzI1NiJ9.JC4wMg.5mvfOroL-g7HyqJoozehmsaqmvTYGEq5jTI1gVvoEoQ";
    assert_eq!(
        hs256_a1("eyJhbGciOiJIUzI1NiJ9.JC4wMg"),
        encoded.rsplit('.').next().unwrap()
    );
    assert_eq!(
        v.verify_sync(encoded).unwrap_err(),
        invalid(InvalidToken::BadJson)
    );
    // Section 4.2: `{"alg":"HS256","b64":false,"crit":["b64"]}` over the raw `$.02`, detached
    // as published, and attached.
    let header = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19";
    let sig = "A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY";
    assert_eq!(hs256_a1(&format!("{header}.$.02")), sig);
    for token in [format!("{header}..{sig}"), format!("{header}.$.02.{sig}")] {
        assert_eq!(
            v.verify_sync(&token).unwrap_err(),
            invalid(InvalidToken::Malformed)
        );
    }
}

#[test]
fn b64_false_is_refused_with_or_without_crit_even_over_a_valid_claims_set() {
    let v = a1_verifier(|b| b);
    let claims = br#"{"iss":"joe","sub":"alice","exp":1300819380}"#;
    let cases = [
        (
            r#"{"alg":"HS256","b64":false}"#,
            InvalidToken::UnencodedPayload,
        ),
        (
            r#"{"alg":"HS256","b64":true}"#,
            InvalidToken::UnencodedPayload,
        ),
        (
            r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
            InvalidToken::UnsupportedCritical,
        ),
    ];
    for (header, reason) in cases {
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims));
        let token = format!("{input}.{}", hs256_a1(&input));
        assert_eq!(
            v.verify_sync(&token).unwrap_err(),
            invalid(reason),
            "{header}"
        );
    }
    // The same claims under a plain header verify, so the header alone decides.
    let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(claims));
    let token = format!("{input}.{}", hs256_a1(&input));
    assert_eq!(v.verify_sync(&token).unwrap().subject(), "alice");
}

#[test]
fn a_header_that_is_not_utf8_is_refused_though_correctly_signed() {
    let v = a1_verifier(|b| b);
    let claims = br#"{"iss":"joe","sub":"alice","exp":1300819380}"#;
    for header in [
        &b"{\"alg\":\"HS256\",\"x\":\"\xff\"}"[..],
        b"{\"alg\":\"HS256\",\"x\":\"\xc0\x80\"}",
        b"{\"alg\":\"HS256\",\"x\":\"\xed\xbf\xbf\"}",
    ] {
        let input = format!("{}.{}", b64(header), b64(claims));
        let token = format!("{input}.{}", hs256_a1(&input));
        assert_eq!(
            v.verify_sync(&token).unwrap_err(),
            invalid(InvalidToken::BadJson)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Keys: RSA moduli and EC curve labels
// ---------------------------------------------------------------------------------------------

/// The RSA public key `(n, 65537)`, built from DER and from a JWK.
fn rsa_key_forms(n: &[u8]) -> [Result<VerificationKey, ConfigError>; 2] {
    let spki = PublicKeyComponents {
        n,
        e: &[1u8, 0, 1][..],
    }
    .as_der()
    .unwrap();
    let jwk = format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#, b64(n));
    [
        VerificationKey::from_der(Algorithm::RS256, spki.as_ref()),
        VerificationKey::from_jwk_json(&jwk, Some(Algorithm::RS256)),
    ]
}

/// `n * k + add` for a big-endian `n` (one byte longer when it carries).
fn mul_add(n: &[u8], k: u32, add: u32) -> Vec<u8> {
    let mut carry = u64::from(add);
    let mut out: Vec<u8> = n
        .iter()
        .rev()
        .map(|&b| {
            let v = u64::from(b) * u64::from(k) + carry;
            carry = v >> 8;
            (v & 0xff) as u8
        })
        .collect();
    while carry > 0 {
        out.push((carry & 0xff) as u8);
        carry >>= 8;
    }
    out.reverse();
    out
}

fn bit_len(n: &[u8]) -> usize {
    let n = &n[n.iter().position(|&b| b != 0).unwrap()..];
    n.len() * 8 - n[0].leading_zeros() as usize
}

/// A 2048-bit modulus congruent to 1 (a power of 65537) modulo every prime of ROCA's
/// fingerprint, 3 to 167: M * 2^s + 1 with M their product. `plus` is added to the final +1.
fn roca_like_modulus(plus: u32) -> Vec<u8> {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    let mut m = vec![1u8];
    for p in PRIMES {
        m = mul_add(&m, p, 0);
    }
    while bit_len(&m) < 2048 {
        m = mul_add(&m, 2, 0);
    }
    let n = mul_add(&m, 1, 1 + plus);
    assert_eq!(bit_len(&n), 2048);
    n
}

#[test]
fn a_1024_bit_rsa_key_is_refused_when_built() {
    let mut n = vec![0xc3u8; 128];
    n[127] |= 1;
    for key in rsa_key_forms(&n) {
        assert!(
            matches!(
                key,
                Err(ConfigError::WeakRsaKey {
                    bits: 1024,
                    min: 2048,
                    ..
                })
            ),
            "{key:?}"
        );
    }
}

#[test]
fn an_rsa_key_with_the_roca_fingerprint_is_refused_when_built() {
    for key in rsa_key_forms(&roca_like_modulus(0)) {
        assert!(
            matches!(key, Err(ConfigError::VulnerableRsaKey { alg: "RS256" })),
            "{key:?}"
        );
    }
    // +2 makes it 0 modulo 3, outside 65537's subgroup: no fingerprint.
    for key in rsa_key_forms(&roca_like_modulus(2)) {
        assert!(key.is_ok(), "{key:?}");
    }
}

#[test]
fn a_p256_point_labelled_p384_is_refused_for_es256() {
    // RFC 7515 Appendix A.3's P-256 public key, with the wrong curve label.
    let jwk = |crv: &str| {
        format!(
            r#"{{"kty":"EC","crv":"{crv}","alg":"ES256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}"#
        )
    };
    assert!(VerificationKey::from_jwk_json(&jwk("P-256"), None).is_ok());
    assert!(matches!(
        VerificationKey::from_jwk_json(&jwk("P-384"), None),
        Err(ConfigError::InvalidKey { alg: "ES256", .. })
    ));
}
