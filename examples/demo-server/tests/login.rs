//! `POST /auth/login` behind `BruteForceLayer`: tokens, uniform failures, 429 with
//! `Retry-After`, identical refusals for unknown accounts, and the login configuration.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use axum::body::Body;
use axum::extract::ConnectInfo;
use demo_server::Demo;
use demo_server::config::Config;
use demo_server::login::DEMO_EMAIL;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "demo login tests secret, 32 bytes or more";
const PASSWORD: &str = "a test password";
const T0: u64 = 1_900_000_000;

fn demo(clock: &ManualClock) -> Demo {
    let vars = [
        ("AUTH_JWT_SECRET", SECRET),
        ("AUTH_DEMO_PASSWORD", PASSWORD),
    ];
    let config = Config::from_env(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    Demo::from_config_with_clock(&config, Arc::new(clock.clone()))
        .unwrap()
        .0
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
}

async fn call(app: &axum::Router, req: http::Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn login_req(ip: &str, body: &Value) -> http::Request<Body> {
    let mut req = http::Request::post("/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

async fn login(app: &axum::Router, ip: &str, email: &str, password: &str) -> Reply {
    call(
        app,
        login_req(ip, &json!({"email": email, "password": password})),
    )
    .await
}

#[tokio::test]
async fn right_password_returns_a_bearer_token_that_the_api_accepts() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let app = demo_server::app_with(demo(&clock)).unwrap();
    let r = login(&app, "192.0.2.1", "  Demo@Example.com ", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.headers["cache-control"], "no-store");
    let token = r.body["access_token"].as_str().unwrap();
    let me = call(
        &app,
        http::Request::get("/api/me")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["sub"], "demo-user");
    // The token expires after 15 minutes on the demo's clock.
    clock.advance(Duration::from_secs(900 + 31));
    let me = call(
        &app,
        http::Request::get("/api/me")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(me.body["error"]["code"], "TOKEN_EXPIRED");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let app = demo_server::app_with(demo(&clock)).unwrap();
    let wrong = login(&app, "192.0.2.2", DEMO_EMAIL, "nope").await;
    let unknown = login(&app, "192.0.2.3", "nobody@example.com", PASSWORD).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["error"]["code"], "INVALID_CREDENTIALS");
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.headers, unknown.headers);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.headers.get("www-authenticate").is_none());
}

#[tokio::test]
async fn the_sixth_attempt_in_a_minute_gets_429_with_retry_after() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let app = demo_server::app_with(demo(&clock)).unwrap();
    for i in 0..5 {
        let r = login(&app, "203.0.113.5", &format!("u{i}@example.com"), "x").await;
        assert_eq!(r.status, 401);
        clock.advance(Duration::from_secs(3));
    }
    let r = login(&app, "203.0.113.5", DEMO_EMAIL, PASSWORD).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "45");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.body["error"]["code"], "TOO_MANY_ATTEMPTS");
    assert_eq!(r.body["error"]["retry_after"], 45);
}

#[tokio::test]
async fn a_locked_account_answers_the_same_whether_or_not_it_exists() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let app = demo_server::app_with(demo(&clock)).unwrap();
    for email in [DEMO_EMAIL, "ghost@example.com"] {
        for i in 1..=5 {
            let r = login(&app, &format!("198.51.100.{i}"), email, "guess").await;
            assert_eq!(r.status, 401);
        }
    }
    // From an address that failed: refused, even with the right password, identically.
    let real = login(&app, "198.51.100.1", DEMO_EMAIL, PASSWORD).await;
    let ghost = login(&app, "198.51.100.1", "ghost@example.com", PASSWORD).await;
    assert_eq!(real.status, 429);
    assert_eq!(real.headers["retry-after"], "900");
    assert_eq!(real.status, ghost.status);
    assert_eq!(real.headers, ghost.headers);
    assert_eq!(real.body, ghost.body);
    // The real user on a fresh address still gets in.
    let fresh = login(&app, "192.0.2.77", DEMO_EMAIL, PASSWORD).await;
    assert_eq!(fresh.status, 200);
}

#[tokio::test]
async fn malformed_bodies_are_not_counted_as_failures() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let app = demo_server::app_with(demo(&clock)).unwrap();
    for _ in 0..5 {
        let r = call(&app, login_req("192.0.2.9", &json!({"user": "x"}))).await;
        assert_eq!(r.status, 422);
        clock.advance(Duration::from_secs(60));
    }
    // Five 422s, then five real failures: ten in all, but only five failures, so no lockout.
    for i in 0..5 {
        assert_eq!(
            login(&app, "192.0.2.9", &format!("u{i}@x"), "x")
                .await
                .status,
            401
        );
        clock.advance(Duration::from_secs(12));
    }
    assert_eq!(
        login(&app, "192.0.2.9", DEMO_EMAIL, PASSWORD).await.status,
        200
    );
}

#[tokio::test]
async fn without_a_signing_secret_login_answers_503() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let mut d = demo(&clock);
    d.issuer = None;
    let app = demo_server::app_with(d).unwrap();
    let r = login(&app, "192.0.2.1", DEMO_EMAIL, PASSWORD).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["error"]["code"], "AUTH_BACKEND_UNAVAILABLE");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AUTH_JWT_SECRET")
    );
}

#[tokio::test]
async fn trusted_proxy_forwarded_clients_are_told_apart() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let mut d = demo(&clock);
    d.trusted_proxies = "127.0.0.1/32".parse().unwrap();
    let app = demo_server::app_with(d).unwrap();
    let via_proxy = |client: &str| {
        let mut req = login_req("127.0.0.1", &json!({"email": "a@x", "password": "x"}));
        req.headers_mut()
            .insert("x-forwarded-for", client.parse().unwrap());
        req
    };
    for _ in 0..5 {
        assert_eq!(call(&app, via_proxy("203.0.113.1")).await.status, 401);
    }
    assert_eq!(call(&app, via_proxy("203.0.113.1")).await.status, 429);
    assert_eq!(call(&app, via_proxy("203.0.113.2")).await.status, 401);
}

#[test]
fn trusted_proxies_come_from_the_environment_and_bad_cidrs_are_named() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let c = Config::from_env(env(&[])).unwrap();
    assert!(c.trusted_proxies.is_empty());
    let c = Config::from_env(env(&[(
        "AUTH_DEMO_TRUSTED_PROXIES",
        "10.0.0.0/8, 192.168.0.1",
    )]))
    .unwrap();
    assert_eq!(c.trusted_proxies.networks().len(), 2);
    let err = Config::from_env(env(&[(
        "AUTH_DEMO_TRUSTED_PROXIES",
        "10.0.0.0/8,10.0.0.300",
    )]))
    .unwrap_err()
    .to_string();
    assert!(err.contains("AUTH_DEMO_TRUSTED_PROXIES"), "{err}");
    assert!(err.contains("10.0.0.300"), "{err}");
    assert!(!format!("{c:?}").contains("demo-password"));
}
