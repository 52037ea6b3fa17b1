//! `/auth/logout-all` and API keys: keys are separate credentials that outlive a logout
//! everywhere, unless the body asks for them to go too (`{"revoke_api_keys": true}`). Time is
//! a `ManualClock`.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use axum::body::Body;
use common::{Auth, Env, Reply, env};
use serde_json::{Value, json};

async fn create_key(e: &Env, token: &str) -> Reply {
    let r = e
        .call(
            "POST",
            "/api/keys",
            Auth::Bearer(token),
            Some(json!({"name": "ci", "scopes": ["read:orders"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r
}

async fn orders_with_key(e: &Env, key: &str) -> Reply {
    e.send(
        http::Request::get("/api/orders")
            .header("x-api-key", key)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn logout_all(e: &Env, token: &str, body: Option<&str>) -> Reply {
    let mut req =
        http::Request::post("/auth/logout-all").header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_owned())
        }
        None => Body::empty(),
    };
    e.send(req.body(body).unwrap()).await
}

#[tokio::test]
async fn api_keys_outlive_logout_all_without_the_flag() {
    let e = env(&[]);
    let token = e.user("keeps@example.com").await.str("access_token");
    let key = create_key(&e, &token).await.str("api_key");
    for body in [None, Some("{}"), Some(r#"{"revoke_api_keys":false}"#)] {
        // A fresh login each time (after the previous logout-all's instant).
        e.clock.advance(Duration::from_secs(1));
        let token = e
            .login("keeps@example.com", "a good password")
            .await
            .str("access_token");
        let r = logout_all(&e, &token, body).await;
        assert_eq!(r.status, 204, "{body:?}: {}", r.body);
        assert_eq!(e.me(&token).await.code(), "TOKEN_REVOKED");
        let r = orders_with_key(&e, &key).await;
        assert_eq!(r.status, 200, "{body:?}: the key still works: {}", r.body);
    }
}

// Issue 12, item 10: logout-all could not end API keys.
#[tokio::test]
async fn logout_all_with_revoke_api_keys_revokes_every_key_of_the_user() {
    let e = env(&[]);
    let token = e.user("leaves@example.com").await.str("access_token");
    let first = create_key(&e, &token).await;
    let second = create_key(&e, &token).await.str("api_key");
    // A rotated key still works during its grace period: it goes too.
    let rotated = e
        .call(
            "POST",
            &format!("/api/keys/{}/rotate", first.str("id")),
            Auth::Bearer(&token),
            Some(json!({"grace_seconds": 3600})),
        )
        .await;
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let mine = [first.str("api_key"), second, rotated.str("api_key")];
    for key in &mine {
        assert_eq!(orders_with_key(&e, key).await.status, 200);
    }
    // Someone else's key is not touched.
    let other_token = e.user("stays@example.com").await.str("access_token");
    let other = create_key(&e, &other_token).await.str("api_key");

    let r = logout_all(&e, &token, Some(r#"{"revoke_api_keys":true}"#)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    for key in &mine {
        let r = orders_with_key(&e, key).await;
        assert_eq!((r.status, r.code()), (401, "API_KEY_REVOKED"), "{}", r.body);
    }
    assert_eq!(orders_with_key(&e, &other).await.status, 200);
    assert_eq!(e.me(&token).await.code(), "TOKEN_REVOKED");

    // Logged in again, the user sees them revoked.
    e.clock.advance(Duration::from_secs(1));
    let again = e
        .login("leaves@example.com", "a good password")
        .await
        .str("access_token");
    let listed = e.call("GET", "/api/keys", Auth::Bearer(&again), None).await;
    let statuses: Vec<&Value> = listed.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["status"])
        .collect();
    assert_eq!(statuses.len(), 3);
    assert!(statuses.iter().all(|s| *s == "revoked"), "{statuses:?}");
}

// Issue 12, item 10: the body is optional, but a malformed one is refused, and nothing is
// revoked then.
#[tokio::test]
async fn a_malformed_logout_all_body_is_invalid_request_and_revokes_nothing() {
    let e = env(&[]);
    let token = e.user("typo@example.com").await.str("access_token");
    let key = create_key(&e, &token).await.str("api_key");
    for (body, status) in [
        (r#"{"revoke_api_keys": tru"#, 400),
        (r#"{"revoke_api_keys":"sk_live_SECRET"}"#, 422),
        (r#"["revoke_api_keys"]"#, 422),
    ] {
        let r = logout_all(&e, &token, Some(body)).await;
        assert_eq!((r.status, r.code()), (status, "INVALID_REQUEST"), "{body}");
        assert!(!r.body.to_string().contains("sk_live"), "{}", r.body);
    }
    assert_eq!(e.me(&token).await.status, 200);
    assert_eq!(orders_with_key(&e, &key).await.status, 200);
}
