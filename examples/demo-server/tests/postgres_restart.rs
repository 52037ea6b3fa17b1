//! Issue 19: with `DATABASE_URL`, a restart loses nothing. Instance A (a demo on PostgreSQL)
//! registers a user, creates an API key, hands out refresh tokens and logs one session out;
//! instance B, a new demo with new stores on the same database (as after a restart, or a
//! second instance), lets the user log in, accepts the API key, rotates the refresh token,
//! and still refuses the logged-out access token and refresh token.
//!
//! Runs against `DATABASE_URL` in a fresh schema (skipped without it, except under `CI=true`,
//! where that fails).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use auth_postgres::test_util::{database_url_for_tests, drop_schema, unique_schema};
use common::{Auth, Env, env, with_demo};
use demo_server::stores::{StoreConfig, Stores};
use serde_json::json;

const SEALING_KEY: &str = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const RECOVERY_KEY: &str = "base64:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

/// A demo instance on the PostgreSQL `url`, tables in `schema`, with its own in-memory state
/// otherwise (a fresh process, as far as the demo can tell).
async fn instance(url: &str, schema: &str) -> (Env, Stores) {
    let e = env(&[
        ("AUTH_MFA_SEALING_KEY", SEALING_KEY),
        ("AUTH_MFA_RECOVERY_KEY", RECOVERY_KEY),
    ]);
    let (mut demo, clock) = (e.demo, e.clock);
    let stores = Stores::from_config(&StoreConfig {
        database_url: Some(url.to_owned()),
        database_schema: Some(schema.to_owned()),
        ..StoreConfig::default()
    })
    .unwrap();
    assert_eq!(stores.kind(), "postgres");
    stores.migrate().await.unwrap();
    stores.apply_to(&mut demo).unwrap();
    (with_demo(demo, clock), stores)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_database_loses_nothing() {
    let Some(url) = database_url_for_tests() else {
        return;
    };
    let schema = unique_schema("demo");
    let email = "persist@example.com";

    // Instance A.
    let (a, _) = instance(&url, &schema).await;
    let first = a.user(email).await;
    let access = first.str("access_token");
    let kept_refresh = first.str("refresh_token");
    let r = a
        .call(
            "POST",
            "/api/keys",
            Auth::Bearer(&access),
            Some(json!({"name": "ci", "scopes": ["read:orders"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let api_key = r.str("api_key");
    let r = a
        .call("GET", "/api/orders", Auth::ApiKey(&api_key), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A second session, logged out: its access token and refresh family are revoked.
    let second = a.login(email, "a good password").await;
    assert_eq!(second.status, 200, "{}", second.body);
    let revoked_access = second.str("access_token");
    let revoked_refresh = second.str("refresh_token");
    assert_eq!(a.me(&revoked_access).await.status, 200);
    let r = a
        .call(
            "POST",
            "/auth/logout",
            Auth::Bearer(&revoked_access),
            Some(json!({"refresh_token": revoked_refresh})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(a.me(&revoked_access).await.status, 401);
    drop(a);

    // Instance B: new demo, new stores, same database.
    let (b, stores) = instance(&url, &schema).await;
    let r = b.login(email, "a good password").await;
    assert_eq!(r.status, 200, "the registered user logs in: {}", r.body);
    let r = b
        .call("GET", "/api/orders", Auth::ApiKey(&api_key), None)
        .await;
    assert_eq!(r.status, 200, "the API key still works: {}", r.body);
    let r = b.refresh(&kept_refresh).await;
    assert_eq!(
        r.status, 200,
        "the refresh token still refreshes: {}",
        r.body
    );
    assert_eq!(b.me(&r.str("access_token")).await.status, 200);
    let r = b.me(&revoked_access).await;
    assert_eq!(
        r.status, 401,
        "the revoked access token stays revoked: {}",
        r.body
    );
    let r = b.refresh(&revoked_refresh).await;
    assert_eq!(
        r.status, 401,
        "the logged-out refresh token stays revoked: {}",
        r.body
    );
    // And a wrong password is still wrong (the user was not re-created).
    assert_eq!(b.login(email, "not the password").await.status, 401);

    drop_schema(stores.postgres().unwrap()).await.unwrap();
}
