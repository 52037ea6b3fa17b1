//! `TestAuthority` and its presets, through the production verifier and `BearerLayer`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use auth_core::jwt::{Algorithm, JwtVerifier};
use auth_core::{ErrorCode, Principal};
use auth_test::{SUPPORTED_ALGORITHMS, TestAuthority, assert_rejected};
use auth_tower::bearer::BearerLayer;
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use tower::ServiceExt as _;

fn app(authority: &TestAuthority) -> Router {
    Router::new()
        .route(
            "/me",
            get(|Extension(p): Extension<Principal>| async move { p.subject().to_owned() }),
        )
        .layer(BearerLayer::new(authority.verifier()))
}

async fn call(app: &Router, authorization: Option<&str>) -> http::Response<Body> {
    let mut req = http::Request::get("/me");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

#[test]
fn every_preset_is_refused_by_the_verifier_with_its_code_for_each_algorithm() {
    for alg in SUPPORTED_ALGORITHMS {
        let authority = TestAuthority::new(alg).unwrap();
        let verifier = authority.verifier();
        let bad = authority.bad_tokens();
        assert_eq!(bad.len(), 11);
        for b in bad {
            let err = verifier.verify_sync(b.token()).unwrap_err();
            assert_eq!(err.code(), b.code(), "{alg:?} {}: {err}", b.name());
        }
        // The authority's own tokens are accepted by the same verifier.
        assert!(
            verifier.verify_sync(&authority.token().sign()).is_ok(),
            "{alg:?}"
        );
    }
}

#[test]
fn a_minted_token_carries_exactly_what_the_builder_was_given() {
    let authority = TestAuthority::eddsa().with_audience("orders-api");
    let verifier = authority
        .verifier_builder()
        .require_type("at+jwt")
        .build()
        .unwrap();
    let token = authority
        .token()
        .subject("alice")
        .roles(["admin", "user"])
        .scopes(["read:orders", "write:orders"])
        .claim("tenant", "acme")
        .typ("at+jwt")
        .expires_in(Duration::from_secs(60))
        .sign();
    let p = verifier.verify_sync(&token).unwrap();
    assert_eq!(p.subject(), "alice");
    assert_eq!(p.roles(), ["admin", "user"]);
    assert_eq!(p.scopes(), ["read:orders", "write:orders"]);
    assert_eq!(p.claims().unwrap()["tenant"], "acme");
    assert_eq!(
        p.expires_at().unwrap().as_secs(),
        auth_test::DEFAULT_START.as_secs() + 60
    );
    // Without the required typ the same verifier refuses it.
    let plain = authority.token().subject("alice").sign();
    assert_eq!(
        verifier.verify_sync(&plain).unwrap_err().code(),
        ErrorCode::InvalidToken
    );
}

#[test]
fn the_shared_clock_expires_tokens_without_sleeping() {
    let authority = TestAuthority::es256();
    let verifier = authority.verifier();
    let token = authority.token().expires_in(Duration::from_secs(10)).sign();
    assert!(verifier.verify_sync(&token).is_ok());
    // Past exp and the verifier's default 30-second leeway.
    authority.clock().advance(Duration::from_secs(41));
    assert_eq!(
        verifier.verify_sync(&token).unwrap_err().code(),
        ErrorCode::TokenExpired
    );
}

#[test]
fn issued_at_and_kid_are_honoured() {
    let authority = TestAuthority::rs256();
    let verifier = authority.verifier();
    let early = auth_test::DEFAULT_START.saturating_sub(Duration::from_secs(3600));
    let token = authority.token().issued_at(early).sign();
    // exp follows iat: an hour ago plus five minutes is expired.
    assert_eq!(
        verifier.verify_sync(&token).unwrap_err().code(),
        ErrorCode::TokenExpired
    );
    let unknown = authority.token().kid("someone-else").sign();
    assert_eq!(
        verifier.verify_sync(&unknown).unwrap_err().code(),
        ErrorCode::InvalidToken
    );
}

#[test]
fn a_claim_the_verifier_does_not_need_may_be_missing_and_one_it_checks_may_not() {
    let authority = TestAuthority::hs256();
    let lenient = authority.verifier();
    let bad = authority.missing_claim("tenant");
    assert_eq!(bad.code(), ErrorCode::InvalidToken);
    assert!(lenient.verify_sync(bad.token()).is_ok());
    let strict = authority
        .verifier_builder()
        .check(|p| match p.claims().and_then(|c| c.get("tenant")) {
            Some(_) => Ok(()),
            None => Err("tenant is required".to_owned()),
        })
        .build()
        .unwrap();
    assert_eq!(
        strict.verify_sync(bad.token()).unwrap_err().code(),
        bad.code()
    );
}

#[test]
fn an_application_secret_makes_tokens_its_own_verifier_accepts() {
    let secret = b"the application's configured secret, 32+ bytes";
    let authority = TestAuthority::hs256_with_secret(secret)
        .unwrap()
        .with_issuer("auth-demo")
        .with_audience("auth-demo-api");
    let app_verifier = JwtVerifier::builder()
        .key(auth_core::jwt::VerificationKey::hmac(Algorithm::HS256, secret).unwrap())
        .issuer("auth-demo")
        .audience("auth-demo-api")
        .clock(authority.clock().clone())
        .build()
        .unwrap();
    let p = app_verifier
        .verify_sync(&authority.token().subject("bob").sign())
        .unwrap();
    assert_eq!(p.subject(), "bob");
    assert!(TestAuthority::hs256_with_secret(b"short").is_err());
}

#[tokio::test]
async fn every_preset_through_bearer_layer_has_status_challenge_and_code() {
    let authority = TestAuthority::es256();
    let app = app(&authority);
    let ok = call(&app, Some(&authority.token().subject("carol").bearer())).await;
    assert_eq!(ok.status(), 200);
    for bad in authority.bad_tokens() {
        let res = call(&app, Some(&bad.bearer())).await;
        assert_rejected(res, bad.code()).await;
    }
    let res = call(&app, None).await;
    let body = assert_rejected(res, ErrorCode::MissingCredentials).await;
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
#[should_panic(expected = "wrong error code")]
async fn assert_rejected_fails_when_the_code_differs() {
    let authority = TestAuthority::hs256();
    let res = call(&app(&authority), Some(&authority.expired().bearer())).await;
    assert_rejected(res, ErrorCode::InvalidToken).await;
}

#[tokio::test]
#[should_panic(expected = "expected a JSON rejection")]
async fn assert_rejected_fails_on_a_success() {
    let authority = TestAuthority::hs256();
    let res = call(&app(&authority), Some(&authority.token().bearer())).await;
    assert_rejected(res, ErrorCode::InvalidToken).await;
}

#[test]
fn assert_rejected_parts_requires_the_challenge_to_name_the_error() {
    let mut headers = http::HeaderMap::new();
    headers.insert("www-authenticate", "Bearer realm=\"api\"".parse().unwrap());
    let body = br#"{"error":{"code":"TOKEN_EXPIRED","message":"m"}}"#;
    let outcome = std::panic::catch_unwind(|| {
        auth_test::assert_rejected_parts(401, &headers, body, ErrorCode::TokenExpired)
    });
    assert!(outcome.is_err());
}

#[test]
fn sign_compact_signs_exactly_the_given_header_and_claims() {
    let key = auth_test::TestKey::hs256(b"a secret of at least thirty-two bytes!", "k9").unwrap();
    let header = serde_json::json!({"alg": "HS256", "kid": "k9", "typ": "at+jwt"});
    let claims = serde_json::json!({"sub": "zed", "exp": 1_900_000_000u64});
    let token = key.sign_compact(&header, &claims);
    let decode = |s: &str| -> serde_json::Value {
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(decode(parts[0]), header);
    assert_eq!(decode(parts[1]), claims);
    let verifier = JwtVerifier::builder()
        .key(key.verification_key())
        .dangerous_accept_any_audience()
        .clock(auth_test::clock::ManualClock::new(auth_test::DEFAULT_START))
        .build()
        .unwrap();
    assert_eq!(verifier.verify_sync(&token).unwrap().subject(), "zed");
}
