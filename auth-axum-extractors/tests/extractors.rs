//! Router-level tests of the extractors behind a real `BearerLayer`.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use auth_axum_extractors::{Authenticated, Claims};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_tower::bearer::BearerLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde::Deserialize;
use tower::ServiceExt;

const SECRET: &[u8] = b"extractor tests secret, at least 32 bytes long";
const NOW: u64 = 1_800_000_000;

fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap()
}

fn token(extra: serde_json::Value) -> String {
    let mut claims = serde_json::json!({"sub": "alice", "aud": "api", "exp": NOW + 60});
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

#[derive(Clone, Deserialize)]
struct TenantClaims {
    sub: String,
    tenant: String,
}

fn app(layer: BearerLayer) -> Router {
    Router::new()
        .route(
            "/me",
            get(|p: Authenticated| async move { p.subject().to_owned() }),
        )
        .route(
            "/hello",
            get(|p: Option<Authenticated>| async move {
                p.map_or_else(|| "anonymous".to_owned(), |p| p.subject().to_owned())
            }),
        )
        .route(
            "/tenant",
            get(|Claims(c): Claims<TenantClaims>| async move { format!("{}@{}", c.sub, c.tenant) }),
        )
        .layer(layer)
}

async fn send(
    app: Router,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, http::HeaderMap, String) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn principal_extractor_sees_the_authenticated_subject() {
    let (status, _, body) = send(
        app(BearerLayer::new(verifier())),
        "/me",
        Some(&token(serde_json::json!({}))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "alice");
}

#[tokio::test]
async fn optional_principal_is_none_for_anonymous_callers_in_optional_mode() {
    let layer = BearerLayer::builder(verifier()).optional().build().unwrap();
    let (status, _, body) = send(app(layer.clone()), "/hello", None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));
    let (status, _, body) = send(app(layer), "/hello", Some(&token(serde_json::json!({})))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));
}

#[tokio::test]
async fn required_principal_in_optional_mode_answers_with_the_layer_challenge() {
    let layer = BearerLayer::builder(verifier())
        .realm("demo")
        .optional()
        .build()
        .unwrap();
    let (status, headers, body) = send(app(layer), "/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer realm=\"demo\"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "MISSING_CREDENTIALS");
}

#[tokio::test]
async fn missing_layer_is_a_500_with_a_how_to_fix_message() {
    let app = Router::new().route(
        "/me",
        get(|p: Authenticated| async move { p.subject().to_owned() }),
    );
    let (status, headers, body) = send(app, "/me", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "AUTH_LAYER_MISSING");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("BearerLayer")
    );
}

#[tokio::test]
async fn typed_claims_are_extracted_with_or_without_with_claims() {
    let t = token(serde_json::json!({"tenant": "acme"}));
    let (status, _, body) = send(app(BearerLayer::new(verifier())), "/tenant", Some(&t)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice@acme"));
    let layer = BearerLayer::new(verifier()).with_claims::<TenantClaims>();
    let (status, _, body) = send(app(layer), "/tenant", Some(&t)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice@acme"));
}

#[tokio::test]
async fn claims_that_do_not_fit_the_type_are_invalid_token() {
    let t = token(serde_json::json!({}));
    let (status, headers, body) =
        send(app(BearerLayer::new(verifier())), "/tenant", Some(&t)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "INVALID_TOKEN");
    // With with_claims the layer itself refuses it before the handler.
    let layer = BearerLayer::new(verifier()).with_claims::<TenantClaims>();
    let (status, _, _) = send(app(layer), "/me", Some(&t)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

auth_axum_extractors::scopes! {
    /// Reading orders.
    struct ReadOrders = ["read:orders"];
}

fn scoped_app() -> Router {
    Router::new()
        .route(
            "/orders",
            get(
                |p: auth_axum_extractors::RequireScope<ReadOrders>| async move {
                    p.subject().to_owned()
                },
            ),
        )
        .layer(BearerLayer::builder(verifier()).optional().build().unwrap())
}

#[tokio::test]
async fn require_scope_admits_a_principal_with_the_scope() {
    let t = token(serde_json::json!({"scope": "read:orders"}));
    let (status, _, body) = send(scoped_app(), "/orders", Some(&t)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));
}

#[tokio::test]
async fn require_scope_refuses_a_principal_without_it_with_403() {
    let t = token(serde_json::json!({"scope": "write:orders"}));
    let (status, headers, body) = send(scoped_app(), "/orders", Some(&t)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"read:orders\""), "{challenge}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "INSUFFICIENT_SCOPE");
    assert_eq!(v["error"]["required"], serde_json::json!(["read:orders"]));
}

// Issue 12, item 18: the extractor's 403 lists OAuth scopes only in `scope=`, and its challenge
// and body carry the same message, as ScopeLayer's do.
#[tokio::test]
async fn require_scope_challenge_and_body_agree() {
    let t = token(serde_json::json!({"scope": "write:orders"}));
    let (_, headers, body) = send(scoped_app(), "/orders", Some(&t)).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert_eq!(
        headers[header::WWW_AUTHENTICATE],
        format!(
            "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"{message}\", \
             scope=\"read:orders\""
        )
    );
}

#[tokio::test]
async fn require_scope_without_credentials_is_401() {
    let (status, _, body) = send(scoped_app(), "/orders", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "MISSING_CREDENTIALS");
}
