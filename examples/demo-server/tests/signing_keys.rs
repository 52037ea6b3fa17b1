//! The demo's keys: HS256 by default, a PEM private key (`AUTH_JWT_PRIVATE_KEY_FILE`) whose
//! public half is served at `/.well-known/jwks.json`, rotation through the shared key ring, and
//! a verify-only demo (`AUTH_JWT_PUBLIC_KEY_FILE`) whose issuing endpoints answer 503.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey};
use common::{Auth, TempFile, ed25519_pems, env, jwt_parts, with_demo};
use demo_server::Demo;
use demo_server::login::DEMO_EMAIL;
use serde_json::json;

#[tokio::test]
async fn a_private_key_file_signs_and_its_public_half_is_published() {
    let (private, _) = ed25519_pems();
    let file = TempFile::new("ed25519.pem", private.as_bytes());
    let e = env(&[
        ("AUTH_JWT_ALG", "EdDSA"),
        ("AUTH_JWT_PRIVATE_KEY_FILE", file.path()),
        ("AUTH_JWT_KEY_ID", "ed-2026"),
    ]);
    let login = e.login(DEMO_EMAIL, "demo-password").await;
    assert_eq!(login.status, 200, "{}", login.body);
    let (header, _) = jwt_parts(&login.str("access_token"));
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], "ed-2026");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(e.me(&login.str("access_token")).await.status, 200);

    let jwks = e
        .call("GET", "/.well-known/jwks.json", Auth::None, None)
        .await;
    assert_eq!(jwks.headers["cache-control"], "public, max-age=300");
    let keys = jwks.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], "ed-2026");
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert!(keys[0].get("d").is_none(), "never the private part");
}

#[tokio::test]
async fn an_hs256_demo_publishes_no_keys() {
    let e = env(&[]);
    let jwks = e
        .call("GET", "/.well-known/jwks.json", Auth::None, None)
        .await;
    assert_eq!(jwks.body, json!({"keys": []}));
}

#[tokio::test]
async fn tokens_signed_by_the_previous_key_verify_until_it_is_retired() {
    let clock = ManualClock::new(UnixTime::from_secs(common::T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::EdDSA, "2026-01").unwrap());
    let demo = Demo::issuing(
        ring.clone(),
        "auth-demo",
        "auth-demo-api",
        Arc::new(clock.clone()),
    )
    .unwrap();
    let e = with_demo(demo, clock);
    let old = e
        .login(DEMO_EMAIL, "demo-password")
        .await
        .str("access_token");
    assert_eq!(jwt_parts(&old).0["kid"], "2026-01");

    // Publish the next key first, then rotate to it: new tokens carry the new kid.
    let next = SigningKey::generate(Algorithm::EdDSA, "2026-02").unwrap();
    ring.publish(&next).unwrap();
    let jwks = e
        .call("GET", "/.well-known/jwks.json", Auth::None, None)
        .await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
    ring.rotate(next).unwrap();
    e.clock.advance(Duration::from_secs(60));
    let new = e
        .login(DEMO_EMAIL, "demo-password")
        .await
        .str("access_token");
    assert_eq!(jwt_parts(&new).0["kid"], "2026-02");

    // The previous key still verifies what it signed.
    assert_eq!(e.me(&old).await.status, 200);
    assert_eq!(e.me(&new).await.status, 200);

    // Retired: its tokens are refused, the active key's are not.
    assert!(ring.retire("2026-01"));
    let r = e.me(&old).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "INVALID_TOKEN");
    assert_eq!(e.me(&new).await.status, 200);
    let jwks = e
        .call("GET", "/.well-known/jwks.json", Auth::None, None)
        .await;
    let kids: Vec<&str> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["2026-02"]);
}

#[tokio::test]
async fn with_only_a_public_key_the_demo_verifies_but_its_issuing_endpoints_answer_503() {
    // The operator holds the private key elsewhere; the demo only has the public half.
    let (private, public) = ed25519_pems();
    let public_file = TempFile::new("ed25519.pub.pem", public.as_bytes());
    let e = env(&[
        ("AUTH_JWT_ALG", "EdDSA"),
        ("AUTH_JWT_PUBLIC_KEY_FILE", public_file.path()),
    ]);
    for (path, body) in [
        (
            "/auth/login",
            json!({"email": DEMO_EMAIL, "password": "demo-password"}),
        ),
        (
            "/auth/session/login",
            json!({"email": DEMO_EMAIL, "password": "demo-password"}),
        ),
        ("/auth/refresh", json!({"refresh_token": "x".repeat(43)})),
    ] {
        let r = e.call("POST", path, Auth::None, Some(body)).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert_eq!(r.code(), "AUTH_BACKEND_UNAVAILABLE", "{path}");
        let message = r.body["error"]["message"].as_str().unwrap();
        for hint in ["public key", "AUTH_JWT_SECRET", "AUTH_JWT_PRIVATE_KEY_FILE"] {
            assert!(message.contains(hint), "{path}: {message}");
        }
    }
    // Tokens signed elsewhere with the private key verify.
    let signer = SigningKey::from_pkcs8_pem(Algorithm::EdDSA, private.as_bytes(), "ext").unwrap();
    let issuer = auth_core::jwt::TokenIssuer::builder(KeyRing::new(signer))
        .issuer("auth-demo")
        .audience("auth-demo-api")
        .clock(e.clock.clone())
        .build()
        .unwrap();
    let token = issuer
        .issue(&AccessGrant::new("external").scope("read:orders"))
        .unwrap();
    let me = e.me(token.as_str()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["sub"], "external");
    // Registration needs no signing key.
    assert_eq!(
        e.register("pk@example.com", "a good password").await.status,
        201
    );
}
