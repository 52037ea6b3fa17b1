//! The demo as an auth service, through its HTTP routes: register, login, `/api/me`, expiry and
//! refresh, reuse detection, concurrent refreshes, logout and logout-all, registration errors,
//! and the identical answers for unknown emails and wrong passwords. Time is a `ManualClock`;
//! nothing sleeps. (The admin account: `tests/admin.rs`.)

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

const DAY: u64 = 24 * 3600;

#[tokio::test]
async fn register_then_login_then_me() {
    let e = env(&[]);
    let r = e.register("  Ann@Example.com ", "correct horse").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["email"], "ann@example.com");
    assert_eq!(r.body["roles"], json!(["user"]));
    assert_eq!(r.body["scopes"], json!(["read:orders"]));
    let sub = r.str("sub");
    assert!(sub.starts_with("usr_"), "{sub}");

    let login = e.login("ann@example.com", "correct horse").await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.headers["cache-control"], "no-store");
    let mut fields: Vec<&str> = login
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "access_token",
            "expires_in",
            "refresh_expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert_eq!(login.body["refresh_expires_in"], 30 * DAY);
    assert_eq!(login.body["scope"], "read:orders");

    let me = e.me(&login.str("access_token")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["sub"], sub.as_str());
    assert_eq!(me.body["roles"], json!(["user"]));
    assert_eq!(me.body["scopes"], json!(["read:orders"]));
    // The user's scope opens the orders.
    let orders = e
        .call(
            "GET",
            "/api/orders",
            Auth::Bearer(&login.str("access_token")),
            None,
        )
        .await;
    assert_eq!(orders.status, 200);
}

#[tokio::test]
async fn access_tokens_are_rfc_9068_jwts_with_the_documented_claims() {
    let e = env(&[]);
    let login = e.user("claims@example.com").await;
    let (header, claims) = jwt_parts(&login.str("access_token"));
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], "auth-demo-1");
    assert_eq!(claims["iss"], "auth-demo");
    assert_eq!(claims["aud"], "auth-demo-api");
    assert_eq!(claims["iat"], common::T0);
    assert_eq!(claims["exp"], common::T0 + 900);
    assert!(claims["sub"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
    assert_eq!(claims["roles"], json!(["user"]));
    assert_eq!(claims["scope"], "read:orders");
    assert!(claims["sid"].is_string(), "the session (refresh family) id");
    // The refresh token is opaque: 256 bits, base64url.
    assert_eq!(login.str("refresh_token").len(), 43);
}

#[tokio::test]
async fn the_access_token_expires_after_15_minutes_and_refresh_gives_a_new_pair() {
    let e = env(&[]);
    let login = e.user("exp@example.com").await;
    let access = login.str("access_token");
    e.clock.advance(Duration::from_secs(899));
    assert_eq!(e.me(&access).await.status, 200);
    // Past exp and the verifier's 30 s leeway.
    e.clock.advance(Duration::from_secs(1 + 30));
    let r = e.me(&access).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "TOKEN_EXPIRED");

    let refreshed = e.refresh(&login.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.headers["cache-control"], "no-store");
    assert_eq!(refreshed.body["token_type"], "Bearer");
    assert_eq!(refreshed.body["expires_in"], 900);
    assert_eq!(refreshed.body["scope"], "read:orders");
    assert_ne!(refreshed.str("refresh_token"), login.str("refresh_token"));
    let me = e.me(&refreshed.str("access_token")).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["sub"], jwt_parts(&access).1["sub"]);
    // Same session: the new access token names the same refresh family.
    assert_eq!(
        jwt_parts(&refreshed.str("access_token")).1["sid"],
        jwt_parts(&access).1["sid"]
    );
}

#[tokio::test]
async fn the_refresh_token_expires_after_30_days() {
    let e = env(&[]);
    let login = e.user("thirty@example.com").await;
    // Each rotation starts a new 30-day lifetime: 30 days minus a second is still fine...
    e.clock.advance(Duration::from_secs(30 * DAY - 1));
    let next = e.refresh(&login.str("refresh_token")).await;
    assert_eq!(next.status, 200, "{}", next.body);
    // ...and 30 days after that rotation, the new token has expired.
    e.clock.advance(Duration::from_secs(30 * DAY));
    let r = e.refresh(&next.str("refresh_token")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "REFRESH_TOKEN_EXPIRED");
    assert!(r.headers.get("www-authenticate").is_none());
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_family() {
    let e = env(&[]);
    let login = e.user("reuse@example.com").await;
    let first = login.str("refresh_token");
    let second = e.refresh(&first).await;
    assert_eq!(second.status, 200);
    // The first token again: reuse. The whole session dies, including the token that replaced it.
    let reused = e.refresh(&first).await;
    assert_eq!(reused.status, 401);
    assert_eq!(reused.code(), "REFRESH_TOKEN_REUSED");
    let after = e.refresh(&second.str("refresh_token")).await;
    assert_eq!(after.status, 401);
    assert_eq!(after.code(), "INVALID_REFRESH_TOKEN");
    // Another session of the same user is untouched (the policy revokes the family only).
    let other = e.login("reuse@example.com", "a good password").await;
    assert_eq!(e.refresh(&other.str("refresh_token")).await.status, 200);
}

#[tokio::test]
async fn malformed_and_unknown_refresh_tokens_are_invalid() {
    let e = env(&[]);
    for token in ["", "nope", &"A".repeat(43)] {
        let r = e.refresh(token).await;
        assert_eq!(r.status, 401, "{token}");
        assert_eq!(r.code(), "INVALID_REFRESH_TOKEN");
    }
    let r = e
        .call("POST", "/auth/refresh", Auth::None, Some(json!({"x": 1})))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "INVALID_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_100_concurrent_refreshes_with_one_token_exactly_one_wins() {
    let e = std::sync::Arc::new(env(&[]));
    let login = e.user("race@example.com").await;
    let token = login.str("refresh_token");
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (e, token) = (std::sync::Arc::clone(&e), token.clone());
        tasks.push(tokio::spawn(async move { e.refresh(&token).await }));
    }
    let (mut won, mut reused) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        match (r.status, r.code()) {
            (200, _) => won += 1,
            (401, "REFRESH_TOKEN_REUSED") => reused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((won, reused), (1, 99));
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_its_refresh_family() {
    let e = env(&[]);
    let login = e.user("bye@example.com").await;
    let access = login.str("access_token");
    let r = e
        .call(
            "POST",
            "/auth/logout",
            Auth::Bearer(&access),
            Some(json!({"refresh_token": login.str("refresh_token")})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    for (method, path) in [
        ("GET", "/api/me"),
        ("GET", "/api/orders"),
        ("GET", "/api/keys"),
        ("GET", "/api/hello"),
        ("POST", "/auth/logout-all"),
    ] {
        let r = e.call(method, path, Auth::Bearer(&access), None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.code(), "TOKEN_REVOKED", "{path}");
        assert!(
            r.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
    }
    let r = e.refresh(&login.str("refresh_token")).await;
    assert_eq!(r.code(), "INVALID_REFRESH_TOKEN");
}

#[tokio::test]
async fn logout_without_a_body_ends_the_session_named_by_the_token() {
    let e = env(&[]);
    let login = e.user("sid@example.com").await;
    let refreshed = e.refresh(&login.str("refresh_token")).await;
    let r = e
        .call(
            "POST",
            "/auth/logout",
            Auth::Bearer(&refreshed.str("access_token")),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = e.refresh(&refreshed.str("refresh_token")).await;
    assert_eq!(r.code(), "INVALID_REFRESH_TOKEN");
    // Without a token there is no logout.
    let r = e.call("POST", "/auth/logout", Auth::None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "MISSING_CREDENTIALS");
}

#[tokio::test]
async fn logout_all_revokes_every_session_and_token_of_the_user() {
    let e = env(&[]);
    let phone = e.user("all@example.com").await;
    let laptop = e.login("all@example.com", "a good password").await;
    let other_user = e.user("someone-else@example.com").await;
    let r = e
        .call(
            "POST",
            "/auth/logout-all",
            Auth::Bearer(&laptop.str("access_token")),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    for session in [&phone, &laptop] {
        let me = e.me(&session.str("access_token")).await;
        assert_eq!(me.code(), "TOKEN_REVOKED");
        let r = e.refresh(&session.str("refresh_token")).await;
        assert_eq!(r.code(), "INVALID_REFRESH_TOKEN");
    }
    assert_eq!(e.me(&other_user.str("access_token")).await.status, 200);
    // A login after the revocation instant (iat has whole seconds) works again.
    e.clock.advance(Duration::from_secs(1));
    let again = e.login("all@example.com", "a good password").await;
    assert_eq!(e.me(&again.str("access_token")).await.status, 200);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_identical_answers_and_the_same_argon2_work() {
    let e = env(&[]);
    e.user("known@example.com").await;
    let passwords = std::sync::Arc::clone(e.demo.users.passwords());
    let before = passwords.dummy_verifications();
    let wrong = e.login("known@example.com", "not the password").await;
    assert_eq!(
        passwords.dummy_verifications(),
        before,
        "a real verification"
    );
    let unknown = e.login("unknown@example.com", "not the password").await;
    assert_eq!(
        passwords.dummy_verifications(),
        before + 1,
        "an unknown email costs one verification against the dummy hash"
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.code(), "INVALID_CREDENTIALS");
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.headers, unknown.headers);
    assert_eq!(wrong.body, unknown.body);
    // The seeded account too.
    let seeded = e.login(DEMO_EMAIL, "not the password").await;
    assert_eq!(seeded.body, unknown.body);
}

#[tokio::test]
async fn registration_answers_422_for_bad_passwords_and_emails_and_409_for_taken_emails() {
    let e = env(&[]);
    let short = e.register("a@example.com", "seven77").await;
    assert_eq!(short.status, 422);
    assert_eq!(short.code(), "INVALID_PASSWORD");
    assert_eq!(
        short.body["error"]["message"],
        "password must be at least 8 characters long (got 7)"
    );
    let long = e.register("a@example.com", &"x".repeat(129)).await;
    assert_eq!(long.status, 422);
    assert_eq!(
        long.body["error"]["message"],
        "password must be at most 128 characters long"
    );
    // Characters, not bytes: 8 two-byte characters are enough, 128 are not too many.
    assert_eq!(e.register("b@example.com", "éééééééé").await.status, 201);
    assert_eq!(
        e.register("c@example.com", &"é".repeat(128)).await.status,
        201
    );
    let bad = e.register("not-an-email", "a good password").await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.code(), "INVALID_EMAIL");

    assert_eq!(
        e.register("taken@example.com", "a good password")
            .await
            .status,
        201
    );
    let again = e.register("TAKEN@example.com ", "another password").await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "EMAIL_TAKEN");
    assert_eq!(e.register(DEMO_EMAIL, "a good password").await.status, 409);
    // Neither the password nor a hash is ever echoed.
    for r in [&short, &long, &bad, &again] {
        let text = r.body.to_string();
        assert!(
            !text.contains("seven77") && !text.contains("argon2"),
            "{text}"
        );
    }
    // Not JSON: 400/415/422 with a message that does not quote the input.
    let r = e
        .send(
            http::Request::post("/auth/register")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    r#"{"email":"a@b","password":12345678901}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.body.to_string().contains("12345678901"));
    let r = e
        .send(
            http::Request::post("/auth/register")
                .body(axum::body::Body::from("email=a"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 415);
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_create_one_account() {
    let e = std::sync::Arc::new(env(&[]));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let e = std::sync::Arc::clone(&e);
        tasks.push(tokio::spawn(async move {
            e.register("twice@example.com", "a good password")
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
}

#[tokio::test]
async fn the_seeded_account_logs_in_with_the_configured_password() {
    let e = env(&[("AUTH_DEMO_PASSWORD", "configured password")]);
    assert_eq!(e.login(DEMO_EMAIL, "demo-password").await.status, 401);
    let r = e.login(DEMO_EMAIL, "configured password").await;
    assert_eq!(r.status, 200);
    assert_eq!(e.me(&r.str("access_token")).await.body["sub"], "demo-user");
}
