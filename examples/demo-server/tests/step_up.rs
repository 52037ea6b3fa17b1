//! Issue 15 (MFA): the sensitive MFA routes demand a fresh second factor (RFC 9470 step-up),
//! and a refresh never makes a login look more recent than it was.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use auth_core::mfa::AuthContext;
use common::{Auth, Env, env, jwt_parts};
use serde_json::json;

/// The exact challenge of a step-up refusal on the demo's routes.
const CHALLENGE: &str = "Bearer realm=\"auth-demo\", error=\"insufficient_user_authentication\", \
     error_description=\"a different or more recent authentication is required\", max_age=300";

const SENSITIVE: [&str; 2] = ["/auth/mfa/totp/disable", "/auth/mfa/recovery-codes"];

fn demo() -> Env {
    env(&[])
}

async fn assert_step_up_refused(e: &Env, access: &str) {
    for path in SENSITIVE {
        let r = e.call("POST", path, Auth::Bearer(access), None).await;
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert_eq!(r.code(), "INSUFFICIENT_USER_AUTHENTICATION", "{path}");
        assert_eq!(r.headers["www-authenticate"], CHALLENGE, "{path}");
    }
}

#[tokio::test]
async fn a_password_only_token_gets_the_rfc_9470_challenge() {
    let e = demo();
    let token = e.user("ben@example.com").await.str("access_token");
    assert_eq!(jwt_parts(&token).1["amr"], json!(["pwd"]));
    assert_step_up_refused(&e, &token).await;
}

#[tokio::test]
async fn a_token_without_amr_gets_the_rfc_9470_challenge() {
    let e = demo();
    // A token of the demo's issuer without amr and auth_time (as `demo_token` signs them).
    let grant = auth_core::jwt::AccessGrant::new("demo-user").role("user");
    let token = e.demo.issuer.as_ref().unwrap().issue(&grant).unwrap();
    let token = token.as_str().to_owned();
    assert!(jwt_parts(&token).1.get("amr").is_none());
    assert_step_up_refused(&e, &token).await;
}

#[tokio::test]
async fn a_second_factor_older_than_five_minutes_gets_the_rfc_9470_challenge() {
    let e = demo();
    let user = e.totp_user("cat@example.com").await;
    let access = e.login_with_totp(&user).await.str("access_token");
    // At exactly five minutes it still passes...
    e.clock.advance(Duration::from_secs(300));
    let r = e
        .call(
            "POST",
            "/auth/mfa/recovery-codes",
            Auth::Bearer(&access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // ...one second later it is too old (the access token itself is valid 15 minutes).
    e.clock.advance(Duration::from_secs(1));
    assert_eq!(e.me(&access).await.status, 200);
    assert_step_up_refused(&e, &access).await;
}

#[tokio::test]
async fn a_refreshed_token_keeps_the_original_amr_acr_and_auth_time() {
    let e = demo();
    let user = e.totp_user("dan@example.com").await;
    let login = e.login_with_totp(&user).await;
    let (_, first) = jwt_parts(&login.str("access_token"));
    assert_eq!(first["amr"], json!(["pwd", "otp", "mfa"]));

    e.clock.advance(Duration::from_secs(10 * 60));
    let refreshed = e.refresh(&login.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let (_, second) = jwt_parts(&refreshed.str("access_token"));
    assert_eq!(second["auth_time"], first["auth_time"]);
    assert_eq!(second["amr"], first["amr"]);
    assert_eq!(second["acr"], first["acr"]);
    assert!(second["iat"].as_u64() > first["iat"].as_u64());
    // So a refresh is no way around step-up.
    assert_step_up_refused(&e, &refreshed.str("access_token")).await;

    // And again after a second rotation.
    let again = e.refresh(&refreshed.str("refresh_token")).await;
    assert_eq!(
        jwt_parts(&again.str("access_token")).1["auth_time"],
        first["auth_time"]
    );
}

#[tokio::test]
async fn a_password_session_refreshed_keeps_amr_pwd() {
    let e = demo();
    let login = e.user("eli@example.com").await;
    e.clock.advance(Duration::from_secs(60));
    let refreshed = e.refresh(&login.str("refresh_token")).await;
    let (_, claims) = jwt_parts(&refreshed.str("access_token"));
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["auth_time"], common::T0);
}

#[tokio::test]
async fn logging_out_forgets_the_sessions_authentication_context() {
    use auth_core::clock::Clock as _;
    let e = demo();
    let login = e.user("flo@example.com").await;
    let access = login.str("access_token");
    let sid = jwt_parts(&access).1["sid"].as_str().unwrap().to_owned();
    let now = e.demo.clock.now();
    let kept = e.demo.auth_contexts.load(&sid, now).await.unwrap();
    assert_eq!(kept, Some(AuthContext::password(now)));
    let r = e
        .call("POST", "/auth/logout", Auth::Bearer(&access), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(e.demo.auth_contexts.load(&sid, now).await.unwrap(), None);
}

#[tokio::test]
async fn a_session_whose_context_is_gone_refreshes_without_amr_and_never_passes_step_up() {
    let e = demo();
    let user = e.totp_user("gus@example.com").await;
    let login = e.login_with_totp(&user).await;
    let sid = jwt_parts(&login.str("access_token")).1["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(e.demo.auth_contexts.remove(&sid).await.unwrap());
    let refreshed = e.refresh(&login.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let token = refreshed.str("access_token");
    let (_, claims) = jwt_parts(&token);
    assert!(claims.get("amr").is_none() && claims.get("auth_time").is_none());
    assert_eq!(e.me(&token).await.body["amr"], json!([]));
    assert_step_up_refused(&e, &token).await;
}
