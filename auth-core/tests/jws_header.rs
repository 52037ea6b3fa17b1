//! JWS conformance of the header and payload bytes (issue 12): non-UTF-8 JSON (RFC 7515
//! section 5.2) and the RFC 7797 `b64` parameter are refused even when the signature is
//! correct.
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{
    Algorithm, BoxFuture, JwtVerifier, KeyResolver, KeySet, TrustedIssuer, VerificationKey,
};
use auth_core::{AuthError, InvalidToken};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const SECRET: &[u8] = b"a jws conformance secret of at least 32 bytes";
const NOW: u64 = 1_700_000_000;
const PAYLOAD: &[u8] = br#"{"sub":"alice","aud":"api","exp":1700000600}"#;

/// A compact JWS over exactly these header and payload bytes, HS256-signed with [`SECRET`].
fn hs256(header: &[u8], payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap()
}

fn rejected(token: &str, reason: InvalidToken) {
    assert_eq!(
        verifier().verify_sync(token).unwrap_err(),
        AuthError::InvalidToken(reason)
    );
}

#[test]
fn the_fixture_token_verifies() {
    let token = hs256(br#"{"alg":"HS256","x":"ok"}"#, PAYLOAD);
    assert_eq!(verifier().verify_sync(&token).unwrap().subject(), "alice");
}

// Issue 12, item 11: a correctly signed header that is not UTF-8 was accepted because
// serde_json skips ignored members without validating their bytes.
#[test]
fn a_header_that_is_not_utf8_is_rejected_even_when_signed() {
    for header in [
        &b"{\"alg\":\"HS256\",\"x\":\"\xff\"}"[..],
        b"{\"alg\":\"HS256\",\"x\":\"\xc3\x28\"}",
        b"{\"alg\":\"HS256\",\"x\":\"\xed\xa0\x80\"}", // an encoded surrogate
        b"{\"alg\":\"HS256\",\"x\":[\"\xc0\xaf\"]}",   // overlong, nested
    ] {
        rejected(&hs256(header, PAYLOAD), InvalidToken::BadJson);
    }
}

// Issue 12, item 11: the payload too must be UTF-8 (it is JSON, RFC 7519 section 7.2).
#[test]
fn a_payload_that_is_not_utf8_is_rejected_even_when_signed() {
    let payload = b"{\"sub\":\"alice\",\"aud\":\"api\",\"exp\":1700000600,\"x\":\"\xff\"}";
    rejected(
        &hs256(br#"{"alg":"HS256"}"#, payload),
        InvalidToken::BadJson,
    );
}

/// Counts [`KeyResolver::refresh`] calls; never knows any key.
#[derive(Debug, Default, Clone)]
struct CountingResolver(Arc<Mutex<u32>>);

impl KeyResolver for CountingResolver {
    fn current(&self) -> Option<Arc<KeySet>> {
        None
    }

    fn refresh(
        &self,
        _kid: Option<&str>,
        _alg: Algorithm,
    ) -> Option<BoxFuture<'static, Result<Arc<KeySet>, AuthError>>> {
        *self.0.lock().unwrap() += 1;
        None
    }
}

// Issue 12, item 11: with trusted issuers the payload is read for `iss` before any key lookup;
// a payload that is not UTF-8 must stop there, before it can make a resolver fetch.
#[test]
fn a_payload_that_is_not_utf8_never_reaches_the_key_resolver() {
    let resolver = CountingResolver::default();
    let v = JwtVerifier::builder()
        .trusted_issuer(TrustedIssuer::new("https://idp.example", resolver.clone()).audience("api"))
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap();
    let good = br#"{"iss":"https://idp.example","sub":"a","aud":"api","exp":1700000600}"#;
    let bad = b"{\"iss\":\"https://idp.example\",\"sub\":\"a\",\"aud\":\"api\",\"exp\":1700000600,\"x\":\"\xff\"}";
    let header = br#"{"alg":"EdDSA","kid":"k"}"#;

    // A well-formed token does reach the resolver (the counter works)...
    assert!(v.verify(&hs256(header, good)).into_ready().is_ok());
    assert_eq!(*resolver.0.lock().unwrap(), 1);
    // ...one whose payload is not UTF-8 does not.
    let r = v.verify(&hs256(header, bad)).into_ready().unwrap();
    assert_eq!(
        r.unwrap_err(),
        AuthError::InvalidToken(InvalidToken::BadJson)
    );
    assert_eq!(*resolver.0.lock().unwrap(), 1);
}

// Issue 12, item 12: RFC 7797's `b64` changes what is signed; we never support it, so a token
// carrying it is refused whatever its value and whether or not `crit` lists it.
#[test]
fn a_b64_header_is_rejected_whatever_its_value() {
    for header in [
        &br#"{"alg":"HS256","b64":false}"#[..],
        br#"{"alg":"HS256","b64":true}"#,
        br#"{"alg":"HS256","b64":null}"#,
        br#"{"alg":"HS256","b64":"false"}"#,
    ] {
        rejected(&hs256(header, PAYLOAD), InvalidToken::UnencodedPayload);
    }
    // With `crit` naming it, `crit` is what is reported (checked first, as before).
    rejected(
        &hs256(br#"{"alg":"HS256","b64":false,"crit":["b64"]}"#, PAYLOAD),
        InvalidToken::UnsupportedCritical,
    );
}
