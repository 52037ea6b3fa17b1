//! JWK and JWK Set parsing: `VerificationKey::from_jwk_json` (a configured key) and the JWK Set
//! reader of `JwksSource` (a fetched document).
//!
//! Properties: parsing never panics; every key accepted re-exports as a public JWK with no
//! private member, which parses back to a key of the same algorithm and `kid` that exports
//! the same JWK again (a fixed point); a JWK Set accounts for each usable key.
#![no_main]

use auth_core::jwt::{Algorithm, PRIVATE_JWK_MEMBERS, VerificationKey};
use libfuzzer_sys::fuzz_target;

fn round_trip(key: &VerificationKey) {
    let Some(jwk) = key.to_public_jwk() else {
        // Only HMAC keys have no public form, and a JWK never yields one.
        panic!("a key parsed from a JWK has no public JWK");
    };
    for member in PRIVATE_JWK_MEMBERS {
        assert!(
            !jwk.contains_key(member),
            "exported private member {member}"
        );
    }
    let json = serde_json::Value::Object(jwk.clone()).to_string();
    let again = VerificationKey::from_jwk_json(&json, Some(key.algorithm()))
        .expect("an exported public JWK parses again");
    assert_eq!(again.algorithm(), key.algorithm());
    assert_eq!(again.kid(), key.kid());
    assert_eq!(again.to_public_jwk(), Some(jwk));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = VerificationKey::from_jwk_json(text, None) {
            round_trip(&key);
        }
        // With a default algorithm chosen by the input's length (each in turn over a run).
        let alg = Algorithm::ALL[data.len() % Algorithm::ALL.len()];
        if let Ok(key) = VerificationKey::from_jwk_json(text, Some(alg)) {
            assert_eq!(key.algorithm(), alg);
            round_trip(&key);
        }
    }
    if let Ok((keys, skipped)) = auth_core::fuzzing::jwk_set(data) {
        let listed = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .and_then(|v| v.get("keys").and_then(|k| k.as_array()).map(Vec::len))
            .expect("an accepted set has a keys array");
        // A JWK yields at most one key per algorithm, and every entry is used or skipped.
        assert!(keys.len() <= listed * Algorithm::ALL.len());
        assert!(skipped.len() <= listed * Algorithm::ALL.len());
        for key in &keys {
            round_trip(key);
        }
    }
});
