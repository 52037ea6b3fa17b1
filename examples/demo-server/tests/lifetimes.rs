//! `AUTH_ACCESS_TOKEN_TTL` and `AUTH_REFRESH_TOKEN_TTL` reach everything derived from them:
//! `exp`, `expires_in`, `refresh_expires_in`, the cookies' `Max-Age`, when tokens expire, and
//! how long "log out everywhere" keeps its revocation. Time is a `ManualClock`.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Auth, env, jwt_parts};
use demo_server::login::DEMO_EMAIL;
use serde_json::json;

const SHORT: [(&str, &str); 2] = [
    ("AUTH_ACCESS_TOKEN_TTL", "60"),
    ("AUTH_REFRESH_TOKEN_TTL", "3600"),
];

// Issue 12, item 4: the lifetimes are configurable.
#[tokio::test]
async fn configured_lifetimes_reach_the_token_answers_and_expiry() {
    let e = env(&SHORT);
    let r = e.user("short@example.com").await;
    assert_eq!(r.body["expires_in"], 60);
    assert_eq!(r.body["refresh_expires_in"], 3600);
    let (_, claims) = jwt_parts(&r.str("access_token"));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );

    // Past exp and the verifier's 30 s leeway: expired. The refresh token still works.
    e.clock.advance(Duration::from_secs(60 + 31));
    let me = e.me(&r.str("access_token")).await;
    assert_eq!(me.code(), "TOKEN_EXPIRED");
    let next = e.refresh(&r.str("refresh_token")).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(next.body["refresh_expires_in"], 3600);

    // A refresh token lives an hour from its issue.
    e.clock.advance(Duration::from_secs(3600));
    let late = e.refresh(&next.str("refresh_token")).await;
    assert_eq!(late.code(), "REFRESH_TOKEN_EXPIRED");
}

#[tokio::test]
async fn configured_lifetimes_reach_the_session_cookies() {
    let e = env(&SHORT);
    let r = e
        .call(
            "POST",
            "/auth/session/login",
            Auth::None,
            Some(json!({"email": DEMO_EMAIL, "password": "demo-password"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["expires_in"], 60);
    assert_eq!(r.body["refresh_expires_in"], 3600);
    assert!(r.set_cookie("access_token").contains("Max-Age=60"));
    assert!(r.set_cookie("refresh_token").contains("Max-Age=3600"));
    assert!(r.set_cookie("csrf_token").contains("Max-Age=3600"));
}

// Issue 12, item 4: "log out everywhere" must keep its revocation as long as the longest
// access token lives; it used to be fixed at one hour.
#[tokio::test]
async fn logout_all_outlives_access_tokens_longer_than_an_hour() {
    let e = env(&[("AUTH_ACCESS_TOKEN_TTL", "7200")]);
    assert_eq!(e.demo.max_token_lifetime(), Duration::from_secs(7200));
    let r = e.user("long@example.com").await;
    let token = r.str("access_token");
    let out = e
        .call("POST", "/auth/logout-all", Auth::Bearer(&token), None)
        .await;
    assert_eq!(out.status, 204, "{}", out.body);
    // An hour, plus the revocation leeway (5 minutes), plus a minute: the token has an hour
    // to live and must still be refused.
    e.clock.advance(Duration::from_secs(3600 + 300 + 60));
    let me = e.me(&token).await;
    assert_eq!(
        (me.status, me.code()),
        (401, "TOKEN_REVOKED"),
        "{}",
        me.body
    );
}

#[test]
fn bad_lifetimes_stop_the_binary_with_a_message_naming_the_variable() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_demo-server"))
        .env("AUTH_JWT_SECRET", common::SECRET)
        .env("AUTH_DEMO_ADDR", "127.0.0.1:0")
        .env("AUTH_ACCESS_TOKEN_TTL", "0")
        .env_remove("REDIS_URL")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AUTH_ACCESS_TOKEN_TTL"), "{stderr}");
}
