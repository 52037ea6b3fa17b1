//! Issue 15 (MFA) with the cookie session: the two-step `/auth/session/login`, enrolment and
//! step-up through cookies and the CSRF header.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Auth, Env, Reply, TotpUser, env, jwt_parts, totp_code};
use serde_json::json;

fn demo() -> Env {
    env(&[])
}

async fn session_login(e: &Env, email: &str, password: &str) -> Reply {
    e.call(
        "POST",
        "/auth/session/login",
        Auth::None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

/// The `Cookie` header and the CSRF token of a reply that set the session cookies.
fn cookies_of(r: &Reply) -> (String, String) {
    let csrf = r.cookie_value("csrf_token");
    (
        format!(
            "access_token={}; csrf_token={csrf}",
            r.cookie_value("access_token")
        ),
        csrf,
    )
}

/// A session login with password and TOTP; the final reply.
async fn session_login_with_totp(e: &Env, user: &TotpUser) -> Reply {
    let first = session_login(e, &user.email, &user.password).await;
    assert_eq!(first.code(), "MFA_REQUIRED", "{}", first.body);
    let done = e
        .mfa_verify(json!({
            "mfa_token": first.str("mfa_token"),
            "code": totp_code(&e.demo, &user.secret),
        }))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    done
}

#[tokio::test]
async fn a_session_login_with_totp_sets_cookies_only_after_the_second_factor() {
    let e = demo();
    let user = e.totp_user("kim@example.com").await;
    let first = session_login(&e, &user.email, &user.password).await;
    assert_eq!(first.status, 401);
    assert_eq!(first.code(), "MFA_REQUIRED");
    assert_eq!(first.body["methods"], json!(["totp", "recovery_code"]));
    assert!(first.set_cookies().is_empty(), "{:?}", first.set_cookies());
    assert!(first.headers.get("www-authenticate").is_none());
    assert_eq!(first.headers["cache-control"], "no-store");

    let done = e
        .mfa_verify(json!({
            "mfa_token": first.str("mfa_token"),
            "code": totp_code(&e.demo, &user.secret),
        }))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    // Exactly what /auth/session/login answers: the session body, no token in it, cookies.
    assert!(done.body.get("access_token").is_none(), "{}", done.body);
    assert!(done.body.get("refresh_token").is_none(), "{}", done.body);
    assert_eq!(done.body["expires_in"], 900);
    assert!(done.set_cookie("access_token").contains("HttpOnly"));
    assert!(
        done.set_cookie("refresh_token")
            .contains("Path=/auth/session")
    );
    let (_, claims) = jwt_parts(&done.cookie_value("access_token"));
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));

    let (cookie, _) = cookies_of(&done);
    let me = e
        .call("GET", "/api/me", Auth::Cookies(&cookie, None), None)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["mfa"], json!({"totp": true}));
    assert_eq!(me.body["amr"], json!(["pwd", "otp", "mfa"]));
}

#[tokio::test]
async fn an_api_login_token_completes_as_an_api_login_and_a_session_one_as_a_session() {
    let e = demo();
    let user = e.totp_user("lee@example.com").await;
    let api = e.login_with_totp(&user).await;
    assert!(api.body["access_token"].is_string());
    assert!(api.set_cookies().is_empty());
    e.next_step();
    let session = session_login_with_totp(&e, &user).await;
    assert!(session.body.get("access_token").is_none());
    assert!(!session.set_cookies().is_empty());
}

#[tokio::test]
async fn enrolment_by_cookie_needs_the_csrf_header() {
    let e = demo();
    let r = e.register("max@example.com", "a good password").await;
    assert_eq!(r.status, 201);
    let login = session_login(&e, "max@example.com", "a good password").await;
    assert_eq!(login.status, 200, "{}", login.body);
    let (cookie, csrf) = cookies_of(&login);

    let without = e
        .call(
            "POST",
            "/auth/mfa/totp/enroll",
            Auth::Cookies(&cookie, None),
            None,
        )
        .await;
    assert_eq!((without.status, without.code()), (403, "CSRF_REJECTED"));
    let with = e
        .call(
            "POST",
            "/auth/mfa/totp/enroll",
            Auth::Cookies(&cookie, Some(&csrf)),
            None,
        )
        .await;
    assert_eq!(with.status, 200, "{}", with.body);
    let code = totp_code(&e.demo, &with.str("secret"));
    let confirm = e
        .call(
            "POST",
            "/auth/mfa/totp/confirm",
            Auth::Cookies(&cookie, None),
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!((confirm.status, confirm.code()), (403, "CSRF_REJECTED"));
    let confirm = e
        .call(
            "POST",
            "/auth/mfa/totp/confirm",
            Auth::Cookies(&cookie, Some(&csrf)),
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
}

#[tokio::test]
async fn step_up_routes_work_by_cookie_with_csrf_after_a_fresh_second_factor() {
    let e = demo();
    let user = e.totp_user("ned@example.com").await;
    let done = session_login_with_totp(&e, &user).await;
    let (cookie, csrf) = cookies_of(&done);
    let without = e
        .call(
            "POST",
            "/auth/mfa/recovery-codes",
            Auth::Cookies(&cookie, None),
            None,
        )
        .await;
    assert_eq!((without.status, without.code()), (403, "CSRF_REJECTED"));
    let codes = e
        .call(
            "POST",
            "/auth/mfa/recovery-codes",
            Auth::Cookies(&cookie, Some(&csrf)),
            None,
        )
        .await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    let off = e
        .call(
            "POST",
            "/auth/mfa/totp/disable",
            Auth::Cookies(&cookie, Some(&csrf)),
            None,
        )
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
}

#[tokio::test]
async fn a_refreshed_session_cookie_keeps_the_original_auth_time() {
    let e = demo();
    let user = e.totp_user("oz@example.com").await;
    let done = session_login_with_totp(&e, &user).await;
    let (_, first) = jwt_parts(&done.cookie_value("access_token"));
    e.clock.advance(std::time::Duration::from_secs(600));
    let csrf = done.cookie_value("csrf_token");
    let cookie = format!(
        "refresh_token={}; csrf_token={csrf}",
        done.cookie_value("refresh_token")
    );
    let refreshed = e
        .call(
            "POST",
            "/auth/session/refresh",
            Auth::Cookies(&cookie, Some(&csrf)),
            None,
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let (_, second) = jwt_parts(&refreshed.cookie_value("access_token"));
    assert_eq!(second["auth_time"], first["auth_time"]);
    assert_eq!(second["amr"], json!(["pwd", "otp", "mfa"]));
}
