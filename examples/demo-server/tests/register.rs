//! `POST /auth/register` under abuse: the per-client registration limit, password hashing that
//! is busy (503 with `Retry-After`, never unbounded memory; the flood itself is measured in
//! `tests/register_memory.rs`). Time is a `ManualClock`; nothing sleeps.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use common::{Env, Reply, env};
use demo_server::login::DEMO_EMAIL;
use serde_json::json;

fn register_req(email: &str, forwarded_for: Option<&str>) -> http::Request<Body> {
    let mut req = http::Request::post("/auth/register").header("content-type", "application/json");
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    req.body(Body::from(
        json!({"email": email, "password": "a good password"}).to_string(),
    ))
    .unwrap()
}

async fn register_from(e: &Env, ip: [u8; 4], email: &str) -> Reply {
    e.send_from(SocketAddr::from((ip, 5000)), register_req(email, None))
        .await
}

// Issue 12, item 2: registrations were not limited at all.
#[tokio::test]
async fn the_sixth_registration_from_one_address_in_ten_minutes_gets_429_with_retry_after() {
    let e = env(&[]);
    let client = [203, 0, 113, 20];
    for n in 0..5 {
        let r = register_from(&e, client, &format!("user{n}@example.com")).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = register_from(&e, client, "user5@example.com").await;
    assert_eq!(
        (r.status, r.code()),
        (429, "TOO_MANY_ATTEMPTS"),
        "{}",
        r.body
    );
    assert_eq!(r.headers["retry-after"], "600");
    // Refused before anything was hashed or stored.
    assert_eq!(e.demo.users.passwords().hashes_computed(), 5);

    // Another address is not affected, and neither are logins from this one: registrations
    // and logins are counted apart.
    assert_eq!(
        register_from(&e, [203, 0, 113, 21], "other@example.com")
            .await
            .status,
        201
    );
    let login = e
        .send_from(
            SocketAddr::from((client, 5000)),
            http::Request::post("/auth/login")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"email": "user0@example.com", "password": "a good password"})
                        .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);

    // Ten minutes after the first one, the address may register again.
    e.clock.advance(Duration::from_secs(600));
    let r = register_from(&e, client, "user5@example.com").await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn the_registration_limit_is_configurable() {
    let e = env(&[("AUTH_DEMO_REGISTER_LIMIT", "1/60")]);
    let client = [198, 51, 100, 3];
    assert_eq!(register_from(&e, client, "a@example.com").await.status, 201);
    let r = register_from(&e, client, "b@example.com").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "60");
}

// Issue 12, item 2: behind a trusted proxy, each forwarded client has its own limit; a client
// that is not a trusted proxy cannot pick its address with the header.
#[tokio::test]
async fn trusted_proxies_are_honoured_as_for_login() {
    let e = env(&[("AUTH_DEMO_TRUSTED_PROXIES", "192.0.2.1/32")]);
    let proxy = SocketAddr::from(([192, 0, 2, 1], 443));
    for n in 0..5 {
        let r = e
            .send_from(
                proxy,
                register_req(&format!("f{n}@example.com"), Some("198.51.100.7")),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = e
        .send_from(proxy, register_req("f5@example.com", Some("198.51.100.7")))
        .await;
    assert_eq!(r.status, 429);
    let r = e
        .send_from(proxy, register_req("g@example.com", Some("198.51.100.8")))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // An untrusted peer is counted by its own address whatever it forwards.
    let direct = SocketAddr::from(([203, 0, 113, 99], 5000));
    for n in 0..5 {
        let xff = format!("198.51.100.{}", 50 + n);
        let r = e
            .send_from(
                direct,
                register_req(&format!("h{n}@example.com"), Some(&xff)),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = e
        .send_from(
            direct,
            register_req("h5@example.com", Some("198.51.100.60")),
        )
        .await;
    assert_eq!(r.status, 429);
}

// Issue 12, item 2: with every hashing slot taken, registration and login answer 503 with
// `Retry-After` instead of starting another 19 MiB hash.
#[tokio::test]
async fn busy_password_hashing_answers_503_with_retry_after() {
    let e = env(&[
        ("AUTH_PASSWORD_MAX_CONCURRENT", "1"),
        ("AUTH_PASSWORD_MAX_WAIT_MS", "0"),
    ]);
    let passwords = std::sync::Arc::clone(e.demo.users.passwords());
    assert_eq!(passwords.max_concurrent(), 1);
    let slot = passwords.occupy_slot_for_tests().unwrap();

    let registered = e.register("busy@example.com", "a good password").await;
    let login = e.login(DEMO_EMAIL, "demo-password").await;
    let unknown = e.login("nobody@example.com", "a good password").await;
    let session = e
        .call(
            "POST",
            "/auth/session/login",
            common::Auth::None,
            Some(json!({"email": DEMO_EMAIL, "password": "demo-password"})),
        )
        .await;
    for r in [&registered, &login, &unknown, &session] {
        assert_eq!(
            (r.status, r.code()),
            (503, "AUTH_BACKEND_UNAVAILABLE"),
            "{}",
            r.body
        );
        assert_eq!(r.headers["retry-after"], "1");
    }
    // Known and unknown accounts alike.
    assert_eq!(login.body, unknown.body);

    drop(slot);
    assert_eq!(
        e.register("busy@example.com", "a good password")
            .await
            .status,
        201
    );
    assert_eq!(e.login(DEMO_EMAIL, "demo-password").await.status, 200);
}

// Issue 12, item 3: a taken email answered 409 in 0.2 ms and a new one 201 after an Argon2
// hash (30-60 ms): an account oracle by timing. Now both cost one hash (counted, not timed).
#[tokio::test]
async fn a_taken_email_costs_the_same_argon2_hash_as_a_new_one() {
    let e = env(&[("AUTH_DEMO_ADMIN_EMAIL", "boss@example.com")]);
    let passwords = std::sync::Arc::clone(e.demo.users.passwords());
    let hashes = || passwords.hashes_computed();

    let before = hashes();
    let new = e.register("taken@example.com", "a good password").await;
    assert_eq!(new.status, 201, "{}", new.body);
    assert_eq!(hashes(), before + 1, "a new email costs one hash");

    for taken in [
        "taken@example.com",
        " TAKEN@example.com",
        DEMO_EMAIL,
        "boss@example.com",
    ] {
        let before = hashes();
        let r = e.register(taken, "another good password").await;
        assert_eq!((r.status, r.code()), (409, "EMAIL_TAKEN"), "{taken}");
        assert_eq!(hashes(), before + 1, "{taken} costs one hash too");
    }
    // Invalid input is refused before any hashing, whatever the email.
    let before = hashes();
    assert_eq!(e.register("taken@example.com", "short").await.status, 422);
    assert_eq!(
        e.register("not-an-email", "a good password").await.status,
        422
    );
    assert_eq!(hashes(), before);
}
