//! Cookie logout ends the session whatever the state of the access cookie: the refresh cookie
//! is scoped to the session routes (`Path=/auth/session`), so logout sees it and revokes its
//! family, and the CSRF check applies when either cookie is sent. Time is a `ManualClock`.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Auth, Env, Reply, env};
use demo_server::login::DEMO_EMAIL;
use serde_json::json;

struct Session {
    access: String,
    refresh: String,
    csrf: String,
}

async fn session_login(e: &Env) -> Session {
    let r = e
        .call(
            "POST",
            "/auth/session/login",
            Auth::None,
            Some(json!({"email": DEMO_EMAIL, "password": "demo-password"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.set_cookie("refresh_token")
            .contains("; Path=/auth/session;")
    );
    Session {
        access: r.cookie_value("access_token"),
        refresh: r.cookie_value("refresh_token"),
        csrf: r.cookie_value("csrf_token"),
    }
}

async fn logout(e: &Env, cookies: &str, csrf: Option<&str>) -> Reply {
    e.call(
        "POST",
        "/auth/session/logout",
        Auth::Cookies(cookies, csrf),
        None,
    )
    .await
}

/// Whether the session's refresh token still works (through the cookie route; the refresh
/// then rotates it, so call this once per session).
async fn refresh_works(e: &Env, s: &Session) -> bool {
    let r = e
        .call(
            "POST",
            "/auth/session/refresh",
            Auth::Cookies(
                &format!("refresh_token={}; csrf_token={}", s.refresh, s.csrf),
                Some(&s.csrf),
            ),
            None,
        )
        .await;
    match r.status {
        200 => true,
        401 => {
            assert_eq!(r.code(), "INVALID_REFRESH_TOKEN", "{}", r.body);
            false
        }
        other => panic!("refresh answered {other}: {}", r.body),
    }
}

// Issue 12, item 4: after the access cookie expired, logout revoked nothing and the 30-day
// refresh token kept working.
#[tokio::test]
async fn a_logout_after_the_access_cookie_expired_revokes_the_refresh_token() {
    let e = env(&[]);
    let s = session_login(&e).await;
    e.clock.advance(Duration::from_secs(900 + 31));
    // What a browser that still holds the expired access cookie sends to the logout route.
    let cookies = format!(
        "access_token={}; refresh_token={}; csrf_token={}",
        s.access, s.refresh, s.csrf
    );
    let r = logout(&e, &cookies, Some(&s.csrf)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.set_cookie("refresh_token").contains("Max-Age=0"));
    assert!(!refresh_works(&e, &s).await);
    // Through the body route too: the family is revoked, not only the cookie cleared.
    let r = e.refresh(&s.refresh).await;
    assert_eq!((r.status, r.code()), (401, "INVALID_REFRESH_TOKEN"));
}

// Issue 12, item 4: a browser drops the access cookie when its Max-Age runs out, so a late
// logout carries the refresh cookie alone.
#[tokio::test]
async fn a_logout_with_only_the_refresh_cookie_ends_the_session() {
    let e = env(&[]);
    let s = session_login(&e).await;
    let other = session_login(&e).await;
    e.clock.advance(Duration::from_secs(900 + 31));
    let cookies = format!("refresh_token={}; csrf_token={}", s.refresh, s.csrf);
    let r = logout(&e, &cookies, Some(&s.csrf)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(!refresh_works(&e, &s).await);
    // Only that session: another login of the same account goes on.
    assert!(refresh_works(&e, &other).await);
}

// Issue 12, item 4: the CSRF check applies when either cookie is sent, so another site cannot
// end the session through the refresh cookie.
#[tokio::test]
async fn the_csrf_check_applies_when_only_the_refresh_cookie_is_sent() {
    let e = env(&[]);
    let s = session_login(&e).await;
    let cookies = format!("refresh_token={}; csrf_token={}", s.refresh, s.csrf);
    for echo in [None, Some("forged")] {
        let r = logout(&e, &cookies, echo).await;
        assert_eq!((r.status, r.code()), (403, "CSRF_REJECTED"), "{}", r.body);
    }
    assert!(refresh_works(&e, &s).await, "the session survived");
}

#[tokio::test]
async fn a_logout_with_a_valid_access_cookie_ends_the_session_and_its_access_token() {
    let e = env(&[]);
    let s = session_login(&e).await;
    let cookies = format!(
        "access_token={}; refresh_token={}; csrf_token={}",
        s.access, s.refresh, s.csrf
    );
    let r = logout(&e, &cookies, Some(&s.csrf)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let me = e
        .call(
            "GET",
            "/api/me",
            Auth::Cookies(&format!("access_token={}", s.access), None),
            None,
        )
        .await;
    assert_eq!(me.code(), "TOKEN_REVOKED");
    assert!(!refresh_works(&e, &s).await);
}

#[tokio::test]
async fn a_logout_without_cookies_clears_them_and_revokes_nothing() {
    let e = env(&[]);
    let s = session_login(&e).await;
    let r = e
        .call("POST", "/auth/session/logout", Auth::None, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.set_cookie("access_token").contains("Max-Age=0"));
    assert!(refresh_works(&e, &s).await);
}
