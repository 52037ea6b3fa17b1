//! Tests of [`DpopVerifier`]: the RFC 9449 examples, and each check failing alone.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::clock::{ManualClock, UnixTime};
use crate::{AuthError, ErrorCode, InvalidDpopProof};

const NOW: u64 = 1_700_000_000;
const HTU: &str = "https://api.example/orders";
const TOKEN: &str = "an-access-token";

struct Key {
    pair: EcdsaKeyPair,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn es256() -> Key {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let jwk =
        json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
    Key { pair, jwk }
}

fn sign(key: &Key, header: &Value, claims: &Value) -> String {
    let msg = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = key.pair.sign(&SystemRandom::new(), msg.as_bytes()).unwrap();
    format!("{msg}.{}", b64(sig.as_ref()))
}

fn header(key: &Key) -> Value {
    json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk})
}

fn claims() -> Value {
    json!({"jti": "j-1", "htm": "GET", "htu": HTU, "iat": NOW, "ath": access_token_hash(TOKEN)})
}

fn verifier() -> DpopVerifier {
    DpopVerifier::builder()
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap()
}

fn request() -> ProofRequest<'static> {
    ProofRequest::new("GET", HTU).access_token(TOKEN)
}

fn refused(proof: &str) -> AuthError {
    verifier().verify(proof, &request()).unwrap_err()
}

fn reason(why: InvalidDpopProof) -> AuthError {
    AuthError::InvalidDpopProof(why)
}

// Issue 20: RFC 9449 section 4.1, the proof of a token request (no `ath`).
#[test]
fn the_rfc_9449_token_request_proof_verifies() {
    let proof = concat!(
        "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19",
        ".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ",
        ".2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
    );
    let v = DpopVerifier::builder()
        .clock(ManualClock::new(UnixTime::from_secs(1_562_262_616)))
        .build()
        .unwrap();
    let ok = v
        .verify(
            proof,
            &ProofRequest::new("POST", "https://server.example.com/token"),
        )
        .unwrap();
    assert_eq!(ok.jkt(), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    // The same proof for another method or URI is refused.
    assert_eq!(
        v.verify(
            proof,
            &ProofRequest::new("GET", "https://server.example.com/token")
        )
        .unwrap_err(),
        reason(InvalidDpopProof::Method)
    );
    assert_eq!(
        v.verify(
            proof,
            &ProofRequest::new("POST", "https://server.example.com/other")
        )
        .unwrap_err(),
        reason(InvalidDpopProof::Uri)
    );
}

#[test]
fn a_proof_that_passes_every_check_yields_the_thumbprint_and_a_replay_key() {
    let key = es256();
    let ok = verifier()
        .verify(&sign(&key, &header(&key), &claims()), &request())
        .unwrap();
    assert_eq!(
        ok.jkt(),
        jwk_thumbprint(key.jwk.as_object().unwrap()).unwrap()
    );
    assert_eq!(ok.replay_key().len(), 64);
    assert_eq!(ok.replay_until(), UnixTime::from_secs(NOW + 61));
}

#[test]
fn query_fragment_and_case_of_the_htu_do_not_matter_but_the_path_does() {
    let key = es256();
    let mut c = claims();
    c["htu"] = "HTTPS://API.example:443/orders?page=2#top".into();
    assert!(
        verifier()
            .verify(&sign(&key, &header(&key), &c), &request())
            .is_ok()
    );
    c["htu"] = "https://api.example/orders/".into();
    assert_eq!(
        refused(&sign(&key, &header(&key), &c)),
        reason(InvalidDpopProof::Uri)
    );
}

#[test]
fn each_header_check_fails_alone() {
    let key = es256();
    let mut h = header(&key);
    h["typ"] = "JWT".into();
    assert_eq!(
        refused(&sign(&key, &h, &claims())),
        reason(InvalidDpopProof::WrongType)
    );

    let mut h = header(&key);
    h["alg"] = "HS256".into();
    assert_eq!(
        refused(&sign(&key, &h, &claims())),
        reason(InvalidDpopProof::Algorithm)
    );

    let mut h = header(&key);
    h["jwk"]["d"] = "c2VjcmV0".into();
    assert_eq!(
        refused(&sign(&key, &h, &claims())),
        reason(InvalidDpopProof::Key)
    );

    let mut h = header(&key);
    h["jwk"]["crv"] = "P-384".into();
    assert_eq!(
        refused(&sign(&key, &h, &claims())),
        reason(InvalidDpopProof::Key)
    );

    let mut h = header(&key);
    h.as_object_mut().unwrap().remove("jwk");
    assert_eq!(
        refused(&sign(&key, &h, &claims())),
        reason(InvalidDpopProof::Malformed)
    );

    let mut h = header(&key);
    h["crit"] = json!(["x"]);
    assert_eq!(
        refused(&sign(&key, &h, &claims())),
        reason(InvalidDpopProof::Malformed)
    );

    // Signed by another key than the header's.
    let other = es256();
    assert_eq!(
        refused(&sign(&other, &header(&key), &claims())),
        reason(InvalidDpopProof::Signature)
    );
}

#[test]
fn an_algorithm_left_out_of_the_allow_list_is_refused() {
    let key = es256();
    let v = DpopVerifier::builder()
        .algorithms([crate::jwt::Algorithm::EdDSA])
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap();
    assert_eq!(
        v.verify(&sign(&key, &header(&key), &claims()), &request())
            .unwrap_err(),
        reason(InvalidDpopProof::Algorithm)
    );
    assert!(
        DpopVerifier::builder()
            .algorithms([crate::jwt::Algorithm::HS256])
            .build()
            .is_err()
    );
}

#[test]
fn each_claim_check_fails_alone() {
    let key = es256();
    let cases: [(&str, Value, InvalidDpopProof); 8] = [
        ("htm", "POST".into(), InvalidDpopProof::Method),
        (
            "htu",
            "https://evil.example/orders".into(),
            InvalidDpopProof::Uri,
        ),
        ("iat", (NOW - 61).into(), InvalidDpopProof::Time),
        ("iat", (NOW + 6).into(), InvalidDpopProof::Time),
        ("iat", "1700000000".into(), InvalidDpopProof::Claims),
        (
            "ath",
            access_token_hash("another").into(),
            InvalidDpopProof::AccessTokenHash,
        ),
        ("jti", 5.into(), InvalidDpopProof::Claims),
        ("jti", "".into(), InvalidDpopProof::Claims),
    ];
    for (claim, value, why) in cases {
        let mut c = claims();
        c[claim] = value.clone();
        assert_eq!(
            refused(&sign(&key, &header(&key), &c)),
            reason(why),
            "{claim}={value}"
        );
    }
    for claim in ["ath", "jti", "htm", "htu", "iat"] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(claim);
        assert_eq!(
            refused(&sign(&key, &header(&key), &c)),
            reason(InvalidDpopProof::Claims),
            "without {claim}"
        );
    }
    // The edges of the window are inside it.
    for iat in [NOW - 60, NOW + 5] {
        let mut c = claims();
        c["iat"] = iat.into();
        assert!(
            verifier()
                .verify(&sign(&key, &header(&key), &c), &request())
                .is_ok()
        );
    }
}

#[test]
fn oversized_and_malformed_proofs_are_refused_before_decoding() {
    let v = DpopVerifier::builder().max_proof_len(16).build().unwrap();
    let err = v.verify(&"a".repeat(17), &request()).unwrap_err();
    assert_eq!(err, reason(InvalidDpopProof::Malformed));
    for bad in ["", "a.b", "a.b.c.d", "..", "!!.a.b"] {
        assert_eq!(refused(bad), reason(InvalidDpopProof::Malformed), "{bad}");
    }
}

#[test]
fn with_nonces_a_proof_needs_a_current_one() {
    let key = es256();
    let clock = ManualClock::new(UnixTime::from_secs(NOW));
    let nonces = DpopNonces::new([9u8; 32], Duration::from_secs(300)).unwrap();
    let v = DpopVerifier::builder()
        .nonces(nonces.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let err = v
        .verify(&sign(&key, &header(&key), &claims()), &request())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UseDpopNonce);
    let AuthError::UseDpopNonce { nonce } = err else {
        unreachable!()
    };
    let mut c = claims();
    c["nonce"] = nonce.to_string().into();
    assert!(v.verify(&sign(&key, &header(&key), &c), &request()).is_ok());
    c["nonce"] = "not-a-nonce".into();
    assert_eq!(
        v.verify(&sign(&key, &header(&key), &c), &request())
            .unwrap_err()
            .code(),
        ErrorCode::UseDpopNonce
    );
}

#[cfg(feature = "issuer")]
#[test]
fn the_private_members_are_those_of_the_signing_module() {
    assert_eq!(proof::PRIVATE_MEMBERS, crate::jwt::PRIVATE_JWK_MEMBERS);
}
