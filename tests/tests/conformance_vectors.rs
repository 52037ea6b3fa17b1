//! Published conformance vectors, read from the data files in `tests/vectors/` (see its
//! README for sources and licences), run through the library the way a careful user configures
//! it, each with its expected verdict:
//!
//! - `valid`: the signature verifies with the vector's key, and the answer is then decided by
//!   our claim rules only (a JSON payload without `sub`: `MissingClaim("sub")`; a payload that
//!   is not JSON: `BadJson`). Both errors are reached only after the signature check, so they
//!   prove the signature was accepted. Each valid vector also yields derived invalid tokens (a
//!   bit flipped in the signature, a bit flipped in the payload, the signature removed), all
//!   of which must be refused.
//! - `invalid`: must be refused.
//! - `not-applicable`: what the library deliberately does not support (JWS JSON
//!   serialization, detached payloads, ES512/P-521, JWE key agreement, thumbprints), with the
//!   reason in the data file. They are never skipped: each is still fed to the library and
//!   must be refused (or, for a key, refused when the key is built).
//!
//! TOTP/HOTP (RFC 6238/4226) and PKCE (RFC 7636) vectors are checked against `auth_core::mfa`
//! and the login's `S256` transform. Zero invalid vectors may be accepted.
//!
//! Google Wycheproof's JOSE files could not be obtained on this machine (no registry package
//! ships them); `tests/vectors/README.md` says so, and no vector here carries its name.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, PRIVATE_JWK_MEMBERS, VerificationKey};
use auth_core::mfa::{TotpAlgorithm, TotpParams, TotpWindow};
use auth_core::{AuthError, InvalidToken};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

fn load(name: &str) -> Value {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "vectors", name]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What one file's JWS vectors came to.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    /// Valid vectors whose signature verified, with the claim verdict expected.
    valid: usize,
    /// Published invalid vectors, refused.
    invalid: usize,
    /// Tokens derived from valid vectors by tampering, refused.
    derived: usize,
    /// Not-applicable vectors, each refused.
    not_applicable: usize,
}

/// The key a careful user configures from a vector's JWK: the public members only, pinned to
/// the vector's algorithm, named by the JWK's `kid`; an `oct` JWK is an HMAC secret.
fn key_of(
    jwk: &Map<String, Value>,
    alg: Algorithm,
) -> Result<VerificationKey, auth_core::ConfigError> {
    if jwk.get("kty").and_then(Value::as_str) == Some("oct") {
        let secret = unb64(jwk["k"].as_str().unwrap());
        let key = VerificationKey::hmac(alg, secret)?;
        return Ok(match jwk.get("kid").and_then(Value::as_str) {
            Some(kid) => key.with_kid(kid),
            None => key,
        });
    }
    let public: Map<String, Value> = jwk
        .iter()
        .filter(|(k, _)| !PRIVATE_JWK_MEMBERS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    VerificationKey::from_jwk_json(&Value::Object(public).to_string(), Some(alg))
}

/// A verifier for `key` as a careful user would build it for a vector: the issuer pinned
/// when the payload names one, any audience (the examples have none), the clock a minute
/// before the payload's `exp` (or at the RFC's publication era when it has none).
fn verifier_for(key: VerificationKey, payload: Option<&Map<String, Value>>) -> JwtVerifier {
    let now = payload
        .and_then(|p| p.get("exp"))
        .and_then(Value::as_u64)
        .map_or(1_400_000_000, |exp| exp - 60);
    let mut b = JwtVerifier::builder()
        .key(key)
        .dangerous_accept_any_audience()
        .clock(ManualClock::new(UnixTime::from_secs(now)));
    if let Some(iss) = payload.and_then(|p| p.get("iss")).and_then(Value::as_str) {
        b = b.issuer(iss);
    }
    b.build().unwrap()
}

/// The answer expected of a valid vector once its signature verified.
fn expected_after_signature(payload: Option<&Map<String, Value>>) -> Result<(), AuthError> {
    match payload {
        None => Err(InvalidToken::BadJson.into()),
        Some(p) if !p.contains_key("sub") => Err(InvalidToken::MissingClaim("sub").into()),
        Some(_) => Ok(()),
    }
}

/// Tokens derived from a valid compact JWS that must all be refused.
fn tampered(jws: &str) -> Vec<(String, &'static str)> {
    let parts: Vec<&str> = jws.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let mut sig = unb64(s);
    sig[0] ^= 0x01;
    let mut payload = unb64(p);
    payload[0] ^= 0x01;
    vec![
        (format!("{h}.{p}.{}", b64(&sig)), "signature bit flipped"),
        (format!("{h}.{}.{s}", b64(&payload)), "payload bit flipped"),
        (format!("{h}.{p}."), "signature removed"),
    ]
}

/// Runs every compact-JWS vector of `vectors`; see the module docs for the verdicts.
fn run_jws(vectors: &[Value]) -> Tally {
    let mut tally = Tally::default();
    for v in vectors {
        let id = v["id"].as_str().unwrap();
        let jws = v["jws"].as_str().unwrap();
        let verdict = v["verdict"].as_str().unwrap();
        let alg = Algorithm::from_name(v["alg"].as_str().unwrap());
        let jwk = v["jwk"].as_object();
        match verdict {
            "valid" => {
                let alg = alg.unwrap_or_else(|| panic!("{id}: valid vector of an unknown alg"));
                let key = key_of(jwk.unwrap(), alg).unwrap_or_else(|e| panic!("{id}: {e}"));
                let payload_bytes = unb64(jws.split('.').nth(1).unwrap());
                let payload: Option<Map<String, Value>> =
                    serde_json::from_slice(&payload_bytes).ok();
                let verifier = verifier_for(key, payload.as_ref());
                let got = verifier.verify_sync(jws).map(|_| ());
                assert_eq!(got, expected_after_signature(payload.as_ref()), "{id}");
                tally.valid += 1;
                for (token, how) in tampered(jws) {
                    let err = verifier.verify_sync(&token).unwrap_err();
                    assert!(
                        matches!(
                            err,
                            AuthError::InvalidToken(
                                InvalidToken::BadSignature
                                    | InvalidToken::BadEncoding
                                    | InvalidToken::Malformed
                            )
                        ),
                        "{id} ({how}): {err:?}"
                    );
                    tally.derived += 1;
                }
            }
            "invalid" | "not-applicable" => {
                // The key, when the vector has one the library can build; any HS256 key
                // otherwise. Either way the token must be refused.
                let key = match (jwk, alg) {
                    (Some(jwk), Some(alg)) => key_of(jwk, alg).ok(),
                    _ => None,
                };
                if let (None, Some(jwk)) = (alg, jwk) {
                    // An algorithm the library does not implement (ES512): its key is refused
                    // for every algorithm the library has, so no configuration can use it.
                    for a in Algorithm::ALL {
                        assert!(key_of(jwk, a).is_err(), "{id}: key accepted for {a:?}");
                    }
                }
                let key = key
                    .unwrap_or_else(|| VerificationKey::hmac(Algorithm::HS256, [7u8; 32]).unwrap());
                let verifier = verifier_for(key, None);
                let err = verifier
                    .verify_sync(jws)
                    .expect_err(&format!("{id} must be refused"));
                assert_eq!(
                    err.code(),
                    auth_core::ErrorCode::InvalidToken,
                    "{id}: {err}"
                );
                if verdict == "invalid" {
                    tally.invalid += 1;
                } else {
                    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{id}");
                    tally.not_applicable += 1;
                }
            }
            other => panic!("{id}: unknown verdict {other}"),
        }
    }
    tally
}

#[test]
fn rfc7515_appendix_a_examples_give_their_verdicts() {
    let doc = load("rfc7515_appendix_a.json");
    let tally = run_jws(doc["vectors"].as_array().unwrap());
    assert_eq!(
        tally,
        Tally {
            valid: 3,
            invalid: 2,
            derived: 9,
            not_applicable: 3
        }
    );
}

#[test]
fn rfc7520_section_4_signatures_verify_and_are_then_refused_as_not_json() {
    let doc = load("rfc7520_section4.json");
    let tally = run_jws(doc["vectors"].as_array().unwrap());
    assert_eq!(
        tally,
        Tally {
            valid: 3,
            invalid: 0,
            derived: 9,
            not_applicable: 5
        }
    );
}

#[test]
fn rfc8037_ed25519_signature_verifies_with_either_form_of_the_key() {
    let doc = load("rfc8037_appendix_a.json");
    let tally = run_jws(doc["jws"].as_array().unwrap());
    assert_eq!(
        tally,
        Tally {
            valid: 1,
            invalid: 0,
            derived: 3,
            not_applicable: 0
        }
    );
    let jws = doc["jws"][0]["jws"].as_str().unwrap();
    let mut not_applicable = 0;
    for k in doc["keys"].as_array().unwrap() {
        let id = k["id"].as_str().unwrap();
        match k["verdict"].as_str().unwrap() {
            "valid" => {
                let key = key_of(k["jwk"].as_object().unwrap(), Algorithm::EdDSA)
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
                // The same public key either way: A.4's signature verifies with it.
                assert_eq!(
                    verifier_for(key, None).verify_sync(jws).unwrap_err(),
                    AuthError::InvalidToken(InvalidToken::BadJson),
                    "{id}"
                );
            }
            "not-applicable" => {
                assert!(k["reason"].as_str().is_some(), "{id}");
                not_applicable += 1;
            }
            other => panic!("{id}: unknown verdict {other}"),
        }
    }
    assert_eq!(not_applicable, 3);
}

#[test]
fn rfc7517_jwk_sets_keep_only_signature_keys() {
    let doc = load("rfc7517_appendix_a.json");
    for set in doc["sets"].as_array().unwrap() {
        let id = set["id"].as_str().unwrap();
        let body = set["jwks"].to_string();
        let (keys, skipped) = auth_core::fuzzing::jwk_set(body.as_bytes()).unwrap();
        let kids: Vec<&str> = keys.iter().filter_map(VerificationKey::kid).collect();
        let want: Vec<&str> = set["usable_kids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(kids, want, "{id}");
        assert_eq!(
            keys.len() + skipped.len(),
            set["jwks"]["keys"].as_array().unwrap().len(),
            "{id}: every key is either used or skipped with a reason"
        );
    }
}

fn totp_algorithm(name: &str) -> TotpAlgorithm {
    TotpAlgorithm::from_name(name).unwrap_or_else(|| panic!("unknown {name}"))
}

#[test]
fn rfc6238_totp_vectors_are_generated_and_accepted_at_their_time() {
    let doc = load("rfc6238_appendix_b.json");
    let period = Duration::from_secs(doc["period"].as_u64().unwrap());
    let digits = u8::try_from(doc["digits"].as_u64().unwrap()).unwrap();
    let (mut on_the_clock, mut step_only) = (0, 0);
    for v in doc["vectors"].as_array().unwrap() {
        let alg = v["algorithm"].as_str().unwrap();
        let secret = doc["secrets_ascii"][alg].as_str().unwrap().as_bytes();
        let params = TotpParams::new(totp_algorithm(alg), digits, period).unwrap();
        let secs = v["time"].as_u64().unwrap();
        let want = v["totp"].as_str().unwrap();
        // RFC 6238 section 4.2: T = floor(time / X), with T0 = 0.
        let step = secs / period.as_secs();
        assert_eq!(params.format(params.code_at(secret, step)), want, "{v}");
        if secs > UnixTime::from_nanos(u64::MAX).as_secs() {
            // Not applicable to the clock path: `UnixTime` counts u64 nanoseconds, so it ends
            // in July 2554, before the last row's 2603; the code itself agrees above.
            step_only += 1;
            continue;
        }
        let now = UnixTime::from_secs(secs);
        assert_eq!(params.step_at(now), step, "{v}");
        // The verification path: the code matches at its own time, with no window...
        let code = params.parse_code(want).unwrap();
        let exact = TotpWindow::new(0, 0).unwrap();
        assert_eq!(
            params.matching_step(secret, code, now, exact),
            Some(step),
            "{v}"
        );
        // ...and not two periods later.
        let later = now.saturating_add(period * 2);
        assert_eq!(
            params.matching_step(secret, code, later, exact),
            None,
            "{v}"
        );
        on_the_clock += 1;
    }
    assert_eq!((on_the_clock, step_only), (15, 3));
}

#[test]
fn rfc4226_hotp_vectors_match() {
    let doc = load("rfc4226_appendix_d.json");
    let secret = doc["secret_ascii"].as_str().unwrap().as_bytes();
    let params = TotpParams::new(totp_algorithm("SHA1"), 6, Duration::from_secs(30)).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    for v in vectors {
        let count = v["count"].as_u64().unwrap();
        assert_eq!(
            params.format(params.code_at(secret, count)),
            v["hotp"].as_str().unwrap(),
            "count {count}"
        );
    }
    assert_eq!(vectors.len(), 10);
}

#[test]
fn rfc7636_pkce_s256_example_matches_the_login_transform() {
    let doc = load("rfc7636_appendix_b.json");
    for v in doc["vectors"].as_array().unwrap() {
        let verifier = v["code_verifier"].as_str().unwrap();
        let octets: Vec<u8> = v["verifier_octets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| u8::try_from(b.as_u64().unwrap()).unwrap())
            .collect();
        // The verifier is the base64url of the 32 random octets of the example.
        assert_eq!(b64(&octets), verifier);
        assert_eq!(
            auth_core::fuzzing::pkce_s256(verifier),
            v["code_challenge"].as_str().unwrap()
        );
    }
}
