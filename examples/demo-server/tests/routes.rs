//! The demo's public contract: routes, status codes, error codes and JSON field names.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const SECRET: &[u8] = b"demo route tests secret, 32 bytes or more";

fn app() -> axum::Router {
    let verifier = JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .issuer("auth-demo")
        .audience("auth-demo-api")
        .build()
        .unwrap();
    demo_server::app(verifier).unwrap()
}

async fn get(uri: &str, auth: Option<&str>) -> (u16, http::HeaderMap, Value) {
    let mut req = http::Request::get(uri);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let res = app()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn token() -> String {
    demo_server::demo_token(SECRET, "auth-demo", "auth-demo-api").unwrap()
}

#[tokio::test]
async fn health_is_public() {
    let (status, _, body) = get("/health", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn me_returns_the_contract_fields() {
    let (status, _, body) = get("/api/me", Some(&format!("Bearer {}", token()))).await;
    assert_eq!(status, 200);
    assert_eq!(body["sub"], "demo-user");
    assert_eq!(body["roles"], serde_json::json!(["user"]));
    assert_eq!(body["scopes"], serde_json::json!(["read:orders"]));
    assert_eq!(body["auth_method"], "bearer");
}

#[tokio::test]
async fn me_without_token_is_401_missing_credentials() {
    let (status, headers, body) = get("/api/me", None).await;
    assert_eq!(status, 401);
    // Issue 20: the challenge names the API's RFC 9728 metadata.
    assert_eq!(
        headers["www-authenticate"],
        "Bearer realm=\"auth-demo\", resource_metadata=\"http://127.0.0.1:3000/.well-known/oauth-protected-resource/api\""
    );
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["error"]["code"], "MISSING_CREDENTIALS");
}

#[tokio::test]
async fn me_with_garbage_token_is_401_invalid_token() {
    let (status, headers, body) = get("/api/me", Some("Bearer abc.def.ghi")).await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=\"auth-demo\", error=\"invalid_token\"")
    );
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
}

#[tokio::test]
async fn token_for_another_audience_is_401_invalid_audience() {
    // The kit's preset: a token signed with the demo's secret for another audience.
    let authority = auth_test::TestAuthority::hs256_with_secret(SECRET)
        .unwrap()
        .with_issuer("auth-demo")
        .with_audience("auth-demo-api")
        .with_clock(auth_test::clock::ManualClock::starting_now());
    let t = authority.wrong_audience();
    assert_eq!(t.code(), auth_core::ErrorCode::InvalidAudience);
    let (status, headers, body) = get("/api/me", Some(&t.bearer())).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "INVALID_AUDIENCE");
    auth_test::assert_rejected_parts(
        status,
        &headers,
        &serde_json::to_vec(&body).unwrap(),
        t.code(),
    );
}

#[tokio::test]
async fn hello_greets_anonymous_and_subject() {
    let (status, _, body) = get("/api/hello", None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (200, Some("hello anonymous"))
    );
    let (status, _, body) = get("/api/hello", Some(&format!("Bearer {}", token()))).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (200, Some("hello demo-user"))
    );
    let (status, _, body) = get("/api/hello", Some("Bearer x.y.z")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
}

#[test]
fn short_secret_makes_the_binary_exit_non_zero_with_a_clear_message() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_demo-server"))
        .env("AUTH_JWT_SECRET", "short")
        .env("AUTH_DEMO_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AUTH_JWT_SECRET is 5 bytes"), "{stderr}");
}

#[tokio::test]
async fn jwks_of_an_hs256_demo_is_empty_and_cacheable() {
    let (status, headers, body) = get("/.well-known/jwks.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"keys": []}));
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["content-type"], "application/json");
}

#[tokio::test]
async fn jwks_publishes_the_public_half_of_an_asymmetric_key() {
    use auth_core::jwt::PublicJwkSet;
    let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let key = VerificationKey::from_jwk_json(
        &format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#),
        Some(Algorithm::EdDSA),
    )
    .unwrap()
    .with_kid("demo-ed-1");
    let verifier = JwtVerifier::builder()
        .key(key.clone())
        .issuer("auth-demo")
        .audience("auth-demo-api")
        .build()
        .unwrap();
    let demo = demo_server::Demo::new(verifier)
        .unwrap()
        .with_public_keys(PublicJwkSet::from_keys([&key]).unwrap());
    let res = demo_server::app_with(demo)
        .unwrap()
        .oneshot(
            http::Request::get("/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x,
            "alg": "EdDSA", "use": "sig", "kid": "demo-ed-1"}]})
    );
}
