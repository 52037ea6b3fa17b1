//! JWT verification with a fixed key: header, payload and signature parsing.
//!
//! The first byte picks how the rest is used:
//! - 0: the whole token, as an attacker sends it;
//! - 1: the payload bytes of a token correctly signed with the key (so the claim parser is
//!   reached with a valid signature);
//! - 2: the header bytes of a correctly signed token with valid claims;
//! - 3: a valid token with one byte of the input's choosing changed.
//!
//! Properties: verification never panics; anything accepted carries a signature that the key
//! made over exactly its header and payload; an accepted token's claims are exactly its
//! payload (the principal round-trips to the same claims and subject).
#![no_main]

use auth_fuzz::{hs256, sign, valid_token, verifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static VERIFIER: LazyLock<auth_core::jwt::JwtVerifier> = LazyLock::new(verifier);
static VALID: LazyLock<String> = LazyLock::new(valid_token);

fn check(token: &str) {
    let Ok(principal) = VERIFIER.verify_sync(token) else {
        return;
    };
    // Accepted: exactly three segments, a signature the key made over the first two.
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "accepted a token without three segments");
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .expect("accepted a signature that is not base64url");
    let input = format!("{}.{}", parts[0], parts[1]);
    assert_eq!(
        signature,
        hs256(input.as_bytes()),
        "accepted a signature the key did not make"
    );
    // The claims round-trip: the principal's claims are the payload's.
    let payload = URL_SAFE_NO_PAD.decode(parts[1]).expect("payload decodes");
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&payload).expect("accepted payload is a JSON object");
    assert_eq!(principal.claims(), Some(&claims));
    assert_eq!(
        Some(principal.subject()),
        claims.get("sub").and_then(|s| s.as_str())
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Ok(token) = std::str::from_utf8(rest) {
                check(token);
            }
        }
        1 => check(&sign(br#"{"alg":"HS256"}"#, rest)),
        2 => {
            let payload = VALID.split('.').nth(1).expect("three segments");
            let payload = URL_SAFE_NO_PAD.decode(payload).expect("payload");
            check(&sign(rest, &payload));
        }
        _ => {
            let mut token = VALID.clone().into_bytes();
            if let [at_hi, at_lo, byte, ..] = rest {
                let at = usize::from(u16::from_be_bytes([*at_hi, *at_lo])) % token.len();
                token[at] = *byte;
                if let Ok(token) = String::from_utf8(token) {
                    check(&token);
                }
            }
        }
    }
});
