//! The cookie session: cookie attributes, the access cookie on protected routes, refresh and
//! logout through cookies, and the CSRF checks (accepted and rejected cases).

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
use serde_json::{Value, json};

struct Session {
    access: String,
    refresh: String,
    csrf: String,
}

impl Session {
    fn of(r: &Reply) -> Self {
        Self {
            access: r.cookie_value("access_token"),
            refresh: r.cookie_value("refresh_token"),
            csrf: r.cookie_value("csrf_token"),
        }
    }

    /// The `Cookie` header a browser sends to paths outside `/auth/session` (the refresh
    /// cookie is scoped to the session routes).
    fn cookies(&self) -> String {
        format!("access_token={}; csrf_token={}", self.access, self.csrf)
    }

    fn refresh_cookies(&self) -> String {
        format!("refresh_token={}; csrf_token={}", self.refresh, self.csrf)
    }
}

async fn session_login(e: &Env) -> Reply {
    let r = e
        .call(
            "POST",
            "/auth/session/login",
            Auth::None,
            Some(json!({"email": DEMO_EMAIL, "password": "demo-password"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

fn new_key() -> Option<Value> {
    Some(json!({"name": "browser", "scopes": ["read:orders"]}))
}

#[tokio::test]
async fn session_login_sets_the_three_cookies_with_their_attributes() {
    let e = env(&[]);
    let r = session_login(&e).await;
    assert_eq!(r.headers["cache-control"], "no-store");
    // No token in the body: the page never sees one.
    assert_eq!(r.body["sub"], "demo-user");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["refresh_expires_in"], 30 * 24 * 3600);
    assert_eq!(r.body["scope"], "read:orders");
    assert!(r.body.get("access_token").is_none() && r.body.get("refresh_token").is_none());
    // The three cookies, and the clearing of a refresh cookie on its old path.
    assert_eq!(r.set_cookies().len(), 4);
    let legacy = &r.set_cookies()[3];
    assert!(
        legacy.starts_with("refresh_token=;")
            && legacy.contains("; Path=/auth/session/refresh;")
            && legacy.contains("Max-Age=0"),
        "{legacy}"
    );

    let attrs = |set: &str| -> Vec<String> {
        set.split("; ")
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let mut access = attrs(&r.set_cookie("access_token"));
    access.sort();
    assert_eq!(
        access,
        [
            "HttpOnly",
            "Max-Age=900",
            "Path=/",
            "SameSite=Lax",
            "Secure"
        ]
    );
    let mut refresh = attrs(&r.set_cookie("refresh_token"));
    refresh.sort();
    assert_eq!(
        refresh,
        [
            "HttpOnly",
            "Max-Age=2592000",
            "Path=/auth/session",
            "SameSite=Strict",
            "Secure"
        ]
    );
    let mut csrf = attrs(&r.set_cookie("csrf_token"));
    csrf.sort();
    assert_eq!(
        csrf,
        ["Max-Age=2592000", "Path=/", "SameSite=Lax", "Secure"],
        "readable by the page: no HttpOnly"
    );
    let s = Session::of(&r);
    assert_eq!(s.csrf.len(), 43);
    assert_eq!(s.refresh.len(), 43);
}

#[tokio::test]
async fn protected_routes_read_the_access_cookie() {
    let e = env(&[]);
    let s = Session::of(&session_login(&e).await);
    let me = e
        .call("GET", "/api/me", Auth::Cookies(&s.cookies(), None), None)
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["sub"], "demo-user");
    assert_eq!(me.body["auth_method"], "bearer");
    // Safe methods need no CSRF header.
    let orders = e
        .call(
            "GET",
            "/api/orders",
            Auth::Cookies(&s.cookies(), None),
            None,
        )
        .await;
    assert_eq!(orders.status, 200);
}

#[tokio::test]
async fn a_cookie_authenticated_post_needs_the_csrf_header() {
    let e = env(&[]);
    let s = Session::of(&session_login(&e).await);
    let ok = e
        .call(
            "POST",
            "/api/keys",
            Auth::Cookies(&s.cookies(), Some(&s.csrf)),
            new_key(),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);

    for (what, header) in [
        ("no header", None),
        ("a guess", Some("guess".to_owned())),
        ("another session's token", Some("A".repeat(43))),
    ] {
        let r = e
            .call(
                "POST",
                "/api/keys",
                Auth::Cookies(&s.cookies(), header.as_deref()),
                new_key(),
            )
            .await;
        assert_eq!(r.status, 403, "{what}");
        assert_eq!(r.code(), "CSRF_REJECTED", "{what}");
        assert!(r.headers.get("www-authenticate").is_none());
    }
    // The check covers every cookie-authenticated unsafe route.
    for path in [
        "/api/orders/1001/refund",
        "/auth/logout",
        "/auth/logout-all",
    ] {
        let r = e
            .call("POST", path, Auth::Cookies(&s.cookies(), None), None)
            .await;
        assert_eq!(r.code(), "CSRF_REJECTED", "{path}");
    }
    // The session survived all of that.
    let me = e
        .call("GET", "/api/me", Auth::Cookies(&s.cookies(), None), None)
        .await;
    assert_eq!(me.status, 200);
}

#[tokio::test]
async fn header_authenticated_requests_are_not_subject_to_the_csrf_check() {
    let e = env(&[]);
    let login = e.login(DEMO_EMAIL, "demo-password").await;
    let r = e
        .call(
            "POST",
            "/api/keys",
            Auth::Bearer(&login.str("access_token")),
            new_key(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let api_key = r.str("api_key");
    let r = e
        .send(
            http::Request::post("/api/orders/1/refund")
                .header("x-api-key", api_key)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    // Not CSRF_REJECTED: the key simply lacks the permission.
    assert_eq!(r.code(), "INSUFFICIENT_SCOPE");
}

#[tokio::test]
async fn an_origin_allow_list_is_checked_on_top_of_the_token() {
    let e = env(&[(
        "AUTH_DEMO_ALLOWED_ORIGINS",
        "http://127.0.0.1:3000, http://localhost:3000",
    )]);
    let s = Session::of(&session_login(&e).await);
    let post = |origin: &'static str| {
        http::Request::post("/api/keys")
            .header("cookie", s.cookies())
            .header("x-csrf-token", s.csrf.clone())
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(new_key().unwrap().to_string()))
            .unwrap()
    };
    assert_eq!(e.send(post("http://localhost:3000")).await.status, 201);
    let r = e.send(post("http://127.0.0.1:4000")).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), "CSRF_REJECTED");
}

#[test]
fn an_invalid_allowed_origin_is_a_configuration_error_naming_the_variable() {
    let err = demo_server::config::Config::from_env(|k| {
        (k == "AUTH_DEMO_ALLOWED_ORIGINS").then(|| "http://ok.example, HTTP://Bad/".to_owned())
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("AUTH_DEMO_ALLOWED_ORIGINS"), "{err}");
    assert!(err.contains("HTTP://Bad/"), "{err}");
}

#[tokio::test]
async fn session_refresh_rotates_the_cookies_and_needs_the_csrf_header() {
    let e = env(&[]);
    let s = Session::of(&session_login(&e).await);
    e.clock.advance(Duration::from_secs(900 + 31));
    let expired = e
        .call("GET", "/api/me", Auth::Cookies(&s.cookies(), None), None)
        .await;
    assert_eq!(expired.code(), "TOKEN_EXPIRED");

    let refused = e
        .call(
            "POST",
            "/auth/session/refresh",
            Auth::Cookies(&s.refresh_cookies(), None),
            None,
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "CSRF_REJECTED");

    let r = e
        .call(
            "POST",
            "/auth/session/refresh",
            Auth::Cookies(&s.refresh_cookies(), Some(&s.csrf)),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let next = Session::of(&r);
    assert_ne!(next.access, s.access);
    assert_ne!(next.refresh, s.refresh);
    assert_eq!(next.csrf, s.csrf, "the page keeps its CSRF token");
    let me = e
        .call("GET", "/api/me", Auth::Cookies(&next.cookies(), None), None)
        .await;
    assert_eq!(me.status, 200);

    // The old refresh cookie again: reuse; the session ends and the cookies are cleared.
    let reused = e
        .call(
            "POST",
            "/auth/session/refresh",
            Auth::Cookies(&s.refresh_cookies(), Some(&s.csrf)),
            None,
        )
        .await;
    assert_eq!(reused.status, 401);
    assert_eq!(reused.code(), "REFRESH_TOKEN_REUSED");
    assert!(reused.set_cookie("access_token").contains("Max-Age=0"));
    assert!(reused.set_cookie("refresh_token").contains("Max-Age=0"));
}

#[tokio::test]
async fn session_logout_revokes_the_session_and_clears_the_cookies() {
    let e = env(&[]);
    let s = Session::of(&session_login(&e).await);
    let refused = e
        .call(
            "POST",
            "/auth/session/logout",
            Auth::Cookies(&s.cookies(), None),
            None,
        )
        .await;
    assert_eq!(refused.code(), "CSRF_REJECTED");

    let r = e
        .call(
            "POST",
            "/auth/session/logout",
            Auth::Cookies(&s.cookies(), Some(&s.csrf)),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    for name in ["access_token", "refresh_token", "csrf_token"] {
        let set = r.set_cookie(name);
        assert!(set.starts_with(&format!("{name}=;")), "{set}");
        assert!(set.contains("Max-Age=0"), "{set}");
    }
    assert!(
        r.set_cookie("refresh_token")
            .contains("Path=/auth/session;")
    );
    // The token in the old cookie is revoked, and so is the refresh token.
    let me = e
        .call("GET", "/api/me", Auth::Cookies(&s.cookies(), None), None)
        .await;
    assert_eq!(me.status, 401);
    assert_eq!(me.code(), "TOKEN_REVOKED");
    let r = e
        .call(
            "POST",
            "/auth/session/refresh",
            Auth::Cookies(&s.refresh_cookies(), Some(&s.csrf)),
            None,
        )
        .await;
    assert_eq!(r.code(), "INVALID_REFRESH_TOKEN");
}

#[tokio::test]
async fn session_login_is_brute_force_protected_like_login() {
    let e = env(&[]);
    let attempt = || {
        let mut req = http::Request::post("/auth/session/login")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"email": DEMO_EMAIL, "password": "wrong password"}).to_string(),
            ))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [203, 0, 113, 9],
                5000,
            ))));
        req
    };
    for _ in 0..5 {
        let res = tower::ServiceExt::oneshot(e.app.clone(), attempt())
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = tower::ServiceExt::oneshot(e.app.clone(), attempt())
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}
