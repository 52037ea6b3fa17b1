//! The API key routes' 400 answers name the field at fault and never quote the input: a secret
//! pasted into the wrong field (or as a field name) must not come back in the answer, where
//! proxies, logs and browser tools may keep it.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use axum::body::Body;
use common::{Env, Reply, env};
use serde_json::json;

/// A value that looks like a credential, easy to find in an answer.
const SECRET: &str = "sk_live_4f9c2a7e1b8d_SUPERSECRETVALUE";

async fn post_raw(e: &Env, uri: &str, token: &str, body: &str) -> Reply {
    e.send(
        http::Request::post(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

fn assert_refused_without_echo(r: &Reply, field: Option<&str>, sent: &str) {
    assert_eq!(
        (r.status, r.code()),
        (400, "INVALID_REQUEST"),
        "{sent}: {}",
        r.body
    );
    let text = r.body.to_string();
    assert!(
        !text.contains("SUPERSECRET") && !text.contains("sk_live"),
        "{sent} was echoed: {text}"
    );
    if let Some(field) = field {
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{field}`")), "{sent}: {message}");
    }
}

// Issue 12, item 9: the key routes answered serde's error text, which quotes the input.
#[tokio::test]
async fn bad_create_bodies_name_the_field_and_never_echo_the_input() {
    let e = env(&[]);
    let token = e.user("keys@example.com").await.str("access_token");
    let cases = [
        (json!({"name": "ci", "scopes": SECRET}), Some("scopes")),
        (json!({"name": "ci", "scopes": [SECRET, 7]}), Some("scopes")),
        (
            json!({"name": "ci", "expires_in": SECRET}),
            Some("expires_in"),
        ),
        (json!({"name": "ci", "expires_in": -1}), Some("expires_in")),
        (json!({"name": "ci", "expires_in": 1.5}), Some("expires_in")),
        (json!({"name": 7, "scopes": []}), Some("name")),
        (json!({"scopes": [SECRET]}), Some("name")),
        (json!({"name": "ci", SECRET: true}), None),
        (
            json!({"name": "ci", "scopes": [format!("{SECRET} with space")]}),
            Some("scopes"),
        ),
        (json!([SECRET]), None),
    ];
    for (body, field) in cases {
        let sent = body.to_string();
        let r = post_raw(&e, "/api/keys", &token, &sent).await;
        assert_refused_without_echo(&r, field, &sent);
    }
    // Not JSON at all, with the secret inside.
    let sent = format!(r#"{{"name": "ci", "scopes": ["{SECRET}"#);
    let r = post_raw(&e, "/api/keys", &token, &sent).await;
    assert_refused_without_echo(&r, None, &sent);
}

// Issue 12, item 9.
#[tokio::test]
async fn bad_rotate_bodies_name_the_field_and_never_echo_the_input() {
    let e = env(&[]);
    let token = e.user("rotate@example.com").await.str("access_token");
    let created = post_raw(
        &e,
        "/api/keys",
        &token,
        &json!({"name": "ci", "scopes": ["read:orders"]}).to_string(),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let uri = format!("/api/keys/{}/rotate", created.str("id"));
    for (body, field) in [
        (json!({"grace_seconds": SECRET}), Some("grace_seconds")),
        (json!({}), Some("grace_seconds")),
        (json!({"grace_seconds": 60, SECRET: 1}), None),
    ] {
        let sent = body.to_string();
        let r = post_raw(&e, &uri, &token, &sent).await;
        assert_refused_without_echo(&r, field, &sent);
    }
    // A good body still rotates.
    let r = post_raw(&e, &uri, &token, r#"{"grace_seconds":60}"#).await;
    assert_eq!(r.status, 201, "{}", r.body);
}
