//! The demo's authorization contract: scopes, permissions and roles on the orders routes.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const SECRET: &[u8] = b"demo orders tests secret, 32 bytes or more";
const ISS: &str = "auth-demo";
const AUD: &str = "auth-demo-api";

fn app() -> axum::Router {
    let verifier = JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .issuer(ISS)
        .audience(AUD)
        .build()
        .unwrap();
    demo_server::app(verifier).unwrap()
}

async fn call(method: &str, uri: &str, token: Option<&str>) -> (u16, http::HeaderMap, Value) {
    let mut req = http::Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
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

fn user() -> String {
    demo_server::demo_token(SECRET, ISS, AUD).unwrap()
}

fn admin() -> String {
    demo_server::demo_admin_token(SECRET, ISS, AUD).unwrap()
}

fn manager() -> String {
    demo_server::demo_token_for(SECRET, ISS, AUD, "mia", &["manager"], "").unwrap()
}

#[tokio::test]
async fn orders_need_the_read_orders_scope() {
    let (status, _, body) = call("GET", "/api/orders", Some(&user())).await;
    assert_eq!(status, 200);
    assert_eq!(body["subject"], "demo-user");
    assert!(body["orders"].is_array());

    let (status, headers, body) = call("GET", "/api/orders", Some(&manager())).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "INSUFFICIENT_SCOPE");
    assert_eq!(
        body["error"]["required"],
        serde_json::json!(["read:orders"])
    );
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer realm=\"auth-demo\", error=\"insufficient_scope\""));
    assert!(challenge.ends_with("scope=\"read:orders\""));
}

#[tokio::test]
async fn orders_without_credentials_are_401_not_403() {
    let (status, headers, body) = call("GET", "/api/orders", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "MISSING_CREDENTIALS");
    assert!(
        headers
            .get_all("www-authenticate")
            .iter()
            .any(|v| v == "Bearer realm=\"auth-demo\", resource_metadata=\"http://127.0.0.1:3000/.well-known/oauth-protected-resource/api\"")
    );
    let (status, _, body) = call("GET", "/api/orders", Some("x.y.z")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
}

#[tokio::test]
async fn refund_needs_the_permission_granted_to_manager_and_admin() {
    let (status, _, body) = call("POST", "/api/orders/1001/refund", Some(&manager())).await;
    assert_eq!(status, 200);
    assert_eq!(body["order_id"], "1001");
    assert_eq!(body["refunded_by"], "mia");
    let (status, _, _) = call("POST", "/api/orders/1001/refund", Some(&admin())).await;
    assert_eq!(status, 200);
    let (status, _, body) = call("POST", "/api/orders/1001/refund", Some(&user())).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"]["required"],
        serde_json::json!(["orders:refund"])
    );
}

#[tokio::test]
async fn admin_stats_need_the_admin_role() {
    let (status, _, body) = call("GET", "/api/admin/stats", Some(&admin())).await;
    assert_eq!(status, 200);
    assert_eq!(body["requested_by"], "demo-admin");
    let (status, _, body) = call("GET", "/api/admin/stats", Some(&user())).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["required"], serde_json::json!(["role:admin"]));
}
