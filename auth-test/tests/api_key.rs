//! `TestApiKeys` behind the production `ApiKeyLayer`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use auth_core::api_key::NewApiKey;
use auth_core::{ErrorCode, Principal};
use auth_test::{TestApiKeys, assert_rejected};
use auth_tower::api_key::ApiKeyLayer;
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use tower::ServiceExt as _;

async fn call(app: &Router, key: &str) -> http::Response<Body> {
    app.clone()
        .oneshot(
            http::Request::get("/me")
                .header("x-api-key", key)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_created_key_passes_the_layer_and_a_typo_or_an_expired_key_does_not() {
    let keys = TestApiKeys::new().unwrap();
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(p): Extension<Principal>| async move { p.subject().to_owned() }),
        )
        .layer(ApiKeyLayer::new(keys.api_keys().clone()));

    let key = keys.create("alice", ["read:orders"]).await.unwrap();
    assert!(key.starts_with("test_"));
    assert_eq!(call(&app, &key).await.status(), 200);

    let mut typo = key.clone();
    typo.pop();
    typo.push(if key.ends_with('a') { 'b' } else { 'a' });
    assert_rejected(call(&app, &typo).await, ErrorCode::InvalidApiKey).await;

    let short_lived = keys
        .create_with(NewApiKey::new("bob", "nightly").expires_in(Duration::from_secs(60)))
        .await
        .unwrap();
    let short_lived = short_lived.key.expose_secret().to_owned();
    assert_eq!(call(&app, &short_lived).await.status(), 200);
    keys.clock().advance(Duration::from_secs(61));
    assert_rejected(call(&app, &short_lived).await, ErrorCode::ApiKeyExpired).await;
}
