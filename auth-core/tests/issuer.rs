//! Issuance: what `TokenIssuer` signs, that `JwtVerifier` (and an independent JOSE library)
//! accepts it for every supported key type, expiry on a manual clock, key rotation, and that
//! published JWKs carry no private material.
#![cfg(feature = "issuer")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use auth_core::ErrorCode;
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{
    AccessGrant, Algorithm, JwtVerifier, KeyRing, PRIVATE_JWK_MEMBERS, SigningKey, TokenIssuer,
    VerificationKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

const ISS: &str = "https://auth.example.test";
const AUD: &str = "orders-api";
const T0: u64 = 1_750_000_000;

fn issuer(ring: KeyRing, clock: &ManualClock) -> TokenIssuer {
    TokenIssuer::builder(ring)
        .issuer(ISS)
        .audience(AUD)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn part(token: &str, i: usize) -> Value {
    let seg = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).unwrap()).unwrap()
}

const ALGS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

#[test]
fn issued_tokens_verify_with_the_shared_key_set_for_every_key_type() {
    for alg in ALGS {
        let clock = ManualClock::new(UnixTime::from_secs(T0));
        let ring = KeyRing::new(SigningKey::generate(alg, format!("{alg}-1")).unwrap());
        let issuer = issuer(ring, &clock);
        let verifier = issuer.verifier_builder().build().unwrap();
        let grant = AccessGrant::new("alice")
            .roles(["user", "billing"])
            .scopes(["read:orders", "write:orders"]);
        let token = issuer.issue(&grant).unwrap();
        let p = verifier.verify_sync(token.as_str()).unwrap();
        assert_eq!(p.subject(), "alice", "{alg}");
        assert_eq!(p.roles(), ["user", "billing"], "{alg}");
        assert_eq!(p.scopes(), ["read:orders", "write:orders"], "{alg}");
        assert_eq!(p.token_id(), Some(token.jti()), "{alg}");
        assert_eq!(p.issuer(), Some(ISS), "{alg}");
        assert_eq!(p.issued_at(), Some(UnixTime::from_secs(T0)), "{alg}");
        assert_eq!(p.expires_at(), Some(UnixTime::from_secs(T0 + 900)), "{alg}");
    }
}

#[test]
fn header_and_claims_follow_rfc_9068() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::ES256, "ec-7").unwrap());
    let token = issuer(ring, &clock)
        .issue(
            &AccessGrant::new("bob")
                .role("admin")
                .scope("read:orders")
                .client_id("web")
                .claim("tenant", "acme"),
        )
        .unwrap();
    let header = part(token.as_str(), 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "ec-7");
    let claims = part(token.as_str(), 1);
    assert_eq!(claims["iss"], ISS);
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["aud"], AUD);
    assert_eq!(claims["iat"], T0);
    assert_eq!(claims["exp"], T0 + 15 * 60);
    assert_eq!(claims["jti"], token.jti());
    assert_eq!(claims["roles"], serde_json::json!(["admin"]));
    assert_eq!(claims["scope"], "read:orders");
    assert_eq!(claims["client_id"], "web");
    assert_eq!(claims["tenant"], "acme");
    // 128 random bits.
    let jti = URL_SAFE_NO_PAD
        .decode(claims["jti"].as_str().unwrap())
        .unwrap();
    assert_eq!(jti.len(), 16);
}

#[test]
fn access_tokens_expire_after_fifteen_minutes() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::HS256, "h").unwrap());
    let issuer = issuer(ring, &clock);
    let verifier = issuer
        .verifier_builder()
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let token = issuer.issue(&AccessGrant::new("alice")).unwrap();
    clock.advance(Duration::from_secs(15 * 60 - 1));
    assert!(verifier.verify_sync(token.as_str()).is_ok());
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        verifier.verify_sync(token.as_str()).unwrap_err().code(),
        ErrorCode::TokenExpired
    );
}

#[test]
fn a_token_signed_by_the_previous_key_verifies_until_that_key_is_retired() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::ES256, "2026-01").unwrap());
    let issuer = issuer(ring.clone(), &clock);
    let verifier = issuer.verifier_builder().build().unwrap();

    let old = issuer.issue(&AccessGrant::new("alice")).unwrap();
    assert_eq!(old.kid(), "2026-01");

    ring.rotate(SigningKey::generate(Algorithm::ES256, "2026-02").unwrap())
        .unwrap();
    let new = issuer.issue(&AccessGrant::new("alice")).unwrap();
    assert_eq!(new.kid(), "2026-02");
    // Both verify: nobody is logged out by the rotation.
    assert!(verifier.verify_sync(old.as_str()).is_ok());
    assert!(verifier.verify_sync(new.as_str()).is_ok());

    assert!(ring.retire("2026-01"));
    assert_eq!(
        verifier.verify_sync(old.as_str()).unwrap_err().code(),
        ErrorCode::InvalidToken
    );
    assert!(verifier.verify_sync(new.as_str()).is_ok());
}

#[test]
fn rotation_across_algorithms_keeps_each_key_pinned() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::RS256, "rsa").unwrap());
    let issuer = issuer(ring.clone(), &clock);
    let verifier = issuer.verifier_builder().build().unwrap();
    let rsa = issuer.issue(&AccessGrant::new("a")).unwrap();
    ring.rotate(SigningKey::generate(Algorithm::EdDSA, "ed").unwrap())
        .unwrap();
    let ed = issuer.issue(&AccessGrant::new("a")).unwrap();
    assert_eq!(part(ed.as_str(), 0)["alg"], "EdDSA");
    assert!(verifier.verify_sync(rsa.as_str()).is_ok());
    assert!(verifier.verify_sync(ed.as_str()).is_ok());
}

#[test]
fn public_jwks_contain_no_private_members_and_verify_the_tokens() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::RS256, "rsa").unwrap());
    ring.publish(&SigningKey::generate(Algorithm::ES256, "ec").unwrap())
        .unwrap();
    ring.add_verification_key(
        SigningKey::generate(Algorithm::HS256, "hmac")
            .unwrap()
            .verification_key(),
    )
    .unwrap();
    ring.publish(&SigningKey::generate(Algorithm::EdDSA, "ed").unwrap())
        .unwrap();
    let issuer = issuer(ring.clone(), &clock);
    let token = issuer.issue(&AccessGrant::new("carol")).unwrap();

    let doc: Value = serde_json::from_str(&ring.public_jwks().to_json()).unwrap();
    let keys = doc["keys"].as_array().unwrap();
    // The HMAC key is trusted for verification but never published.
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, ["rsa", "ed", "ec"]);
    for jwk in keys {
        for member in PRIVATE_JWK_MEMBERS {
            assert!(jwk.get(member).is_none(), "{member} in {jwk}");
        }
        assert_eq!(jwk["use"], "sig");
    }
    for m in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(PRIVATE_JWK_MEMBERS.contains(&m));
    }

    // The published JWK alone verifies the token, with our verifier...
    let from_jwk = VerificationKey::from_jwk_json(&keys[0].to_string(), None).unwrap();
    let v = JwtVerifier::builder()
        .key(from_jwk)
        .issuer(ISS)
        .audience(AUD)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(v.verify_sync(token.as_str()).unwrap().subject(), "carol");

    // ...and with an independent implementation.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(keys[0].clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[AUD]);
    validation.set_issuer(&[ISS]);
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(token.as_str(), &key, &validation).unwrap();
    assert_eq!(data.claims["sub"], "carol");
}

#[test]
fn every_jwk_algorithm_round_trips_through_an_independent_library() {
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let clock = ManualClock::new(UnixTime::from_secs(T0));
        let key = SigningKey::generate(alg, "k").unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(key.public_jwk().unwrap().to_json()).unwrap();
        let token = issuer(KeyRing::new(key), &clock)
            .issue(&AccessGrant::new("dave"))
            .unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let jalg: jsonwebtoken::Algorithm = alg.as_str().parse().unwrap();
        let mut validation = jsonwebtoken::Validation::new(jalg);
        validation.set_audience(&[AUD]);
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Value>(token.as_str(), &decoding, &validation)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
    }
}

#[test]
fn keys_loaded_from_pkcs8_pem_sign_verifiable_tokens() {
    use aws_lc_rs::encoding::AsDer as _;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = pair.as_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");

    let key = SigningKey::from_pkcs8_pem(Algorithm::RS256, &pem, "imported").unwrap();
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let issuer = issuer(KeyRing::new(key), &clock);
    let verifier = issuer.verifier_builder().build().unwrap();
    let token = issuer.issue(&AccessGrant::new("erin")).unwrap();
    assert_eq!(
        verifier.verify_sync(token.as_str()).unwrap().subject(),
        "erin"
    );
}

#[test]
fn verifier_from_the_issuer_requires_the_access_token_type() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let secret = [7u8; 32];
    let ring = KeyRing::new(SigningKey::hmac(Algorithm::HS256, secret, "h").unwrap());
    let verifier = issuer(ring, &clock).verifier_builder().build().unwrap();
    // Same key, same claims, but an ID-token-like `typ: JWT`.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("h".into());
    let claims = serde_json::json!({"sub": "x", "iss": ISS, "aud": AUD, "exp": T0 + 60});
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_eq!(
        verifier.verify_sync(&token).unwrap_err().code(),
        ErrorCode::InvalidToken
    );
}
