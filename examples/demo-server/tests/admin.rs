//! The admin account: seeded from configuration (`AUTH_DEMO_ADMIN_EMAIL` with
//! `AUTH_DEMO_ADMIN_PASSWORD`), never obtained by registering an address, and roles that
//! follow the account's subject rather than its email. Time is a `ManualClock`.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::Arc;

use auth_core::clock::UnixTime;
use common::{Auth, DemoProcess, env};
use demo_server::users::{ADMIN_SUBJECT, PasswordHash, UserRecord};
use serde_json::json;

const ADMIN: [(&str, &str); 2] = [
    ("AUTH_DEMO_ADMIN_EMAIL", "Boss@Example.com"),
    ("AUTH_DEMO_ADMIN_PASSWORD", "the configured boss password"),
];

// Issue 12, item 1: registering the admin address first used to make the registrant admin.
#[tokio::test]
async fn registering_the_admin_email_is_refused_like_a_taken_email_and_grants_nothing() {
    let e = env(&ADMIN);
    for email in ["Boss@Example.com", "boss@example.com", " BOSS@example.COM "] {
        let r = e.register(email, "an attacker password").await;
        assert_eq!((r.status, r.code()), (409, "EMAIL_TAKEN"), "{}", r.body);
    }
    let r = e.login("boss@example.com", "an attacker password").await;
    assert_eq!((r.status, r.code()), (401, "INVALID_CREDENTIALS"));
}

// Issue 12, item 1: without AUTH_DEMO_ADMIN_PASSWORD there is no admin account at all, and the
// address stays reserved.
#[tokio::test]
async fn without_an_admin_password_nobody_is_admin_and_the_address_stays_reserved() {
    let e = env(&[("AUTH_DEMO_ADMIN_EMAIL", "boss@example.com")]);
    let r = e.register("Boss@Example.com", "an attacker password").await;
    assert_eq!((r.status, r.code()), (409, "EMAIL_TAKEN"), "{}", r.body);
    for password in ["an attacker password", "the configured boss password"] {
        let r = e.login("boss@example.com", password).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    // Nobody else became admin either.
    let user = e.user("someone@example.com").await;
    assert_eq!(user.body["scope"], "read:orders");
}

#[tokio::test]
async fn the_seeded_admin_logs_in_with_the_configured_password_and_gets_the_admin_role() {
    let e = env(&ADMIN);
    let wrong = e.login("boss@example.com", "a guessed password").await;
    assert_eq!(wrong.status, 401);
    let admin = e
        .login(" Boss@Example.COM", "the configured boss password")
        .await;
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert_eq!(admin.body["scope"], "read:orders write:orders");
    let token = admin.str("access_token");
    let me = e.me(&token).await;
    assert_eq!(me.body["sub"], ADMIN_SUBJECT);
    assert_eq!(me.body["roles"], json!(["admin"]));
    assert_eq!(me.body["scopes"], json!(["read:orders", "write:orders"]));
    for (method, path) in [
        ("GET", "/api/admin/stats"),
        ("POST", "/api/orders/1001/refund"),
        ("GET", "/api/orders"),
    ] {
        let r = e.call(method, path, Auth::Bearer(&token), None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    // A refresh keeps the role (the account still exists).
    let refreshed = e.refresh(&admin.str("refresh_token")).await;
    assert_eq!(refreshed.body["scope"], "read:orders write:orders");

    let user = e.user("plain@example.com").await;
    let token = user.str("access_token");
    for (method, path) in [
        ("GET", "/api/admin/stats"),
        ("POST", "/api/orders/1001/refund"),
    ] {
        let r = e.call(method, path, Auth::Bearer(&token), None).await;
        assert_eq!(r.status, 403, "{path}");
    }
}

// Issue 12, item 1: roles follow the account (its subject), not the email string. An account
// that holds the admin address in the user store (registered before the address was reserved,
// e.g. in a shared Redis) stays a plain user.
#[tokio::test]
async fn an_account_registered_with_the_admin_email_stays_a_user() {
    let e = env(&ADMIN);
    let passwords = Arc::clone(e.demo.users.passwords());
    let hash = tokio::task::spawn_blocking(move || passwords.hash("the old password").unwrap())
        .await
        .unwrap();
    e.demo
        .users
        .store()
        .create_if_absent(UserRecord {
            id: "usr_registered_before".into(),
            email: Some("boss@example.com".into()),
            password_hash: Some(PasswordHash::new(hash)),
            created_at: UnixTime::from_secs(common::T0),
        })
        .await
        .unwrap();
    let refresh = e.demo.refresh.issue("usr_registered_before").await.unwrap();
    let r = e.refresh(refresh.token().as_str()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "read:orders");
    assert_eq!(
        e.me(&r.str("access_token")).await.body["roles"],
        json!(["user"])
    );
    // The address belongs to the seeded account: the old record's password opens nothing.
    let r = e.login("boss@example.com", "the old password").await;
    assert_eq!(r.status, 401);
}

// Issue 12, item 1: the server says at start-up that no admin account exists.
#[test]
fn the_binary_says_at_start_up_whether_an_admin_account_exists() {
    let demo = DemoProcess::start(&[("AUTH_DEMO_ADMIN_EMAIL", "boss@example.com")]);
    let notice = demo
        .startup
        .iter()
        .find(|l| l.starts_with("No admin account"))
        .unwrap_or_else(|| panic!("no notice in {:#?}", demo.startup));
    assert!(notice.contains("AUTH_DEMO_ADMIN_PASSWORD"), "{notice}");
    drop(demo);

    let demo = DemoProcess::start(&ADMIN);
    assert!(
        demo.startup
            .iter()
            .any(|l| l.starts_with("Admin account boss@example.com")),
        "{:#?}",
        demo.startup
    );
    assert!(
        !demo
            .startup
            .iter()
            .any(|l| l.contains("the configured boss password"))
    );
}
