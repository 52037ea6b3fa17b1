//! Issue 15 (MFA), over HTTP on a `ManualClock`: TOTP enrolment and confirmation, the two-step
//! API login, recovery codes, replay and throttling.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use auth_core::clock::Clock as _;
use common::{Auth, Env, T0, env, jwt_parts, totp_code};
use serde_json::json;

fn demo() -> Env {
    env(&[])
}

#[tokio::test]
async fn enrolment_shows_secret_uri_and_qr_and_enrolling_again_replaces_the_pending_secret() {
    let e = demo();
    let access = e.user("ann@example.com").await.str("access_token");
    let enroll = || e.call("POST", "/auth/mfa/totp/enroll", Auth::Bearer(&access), None);

    let first = enroll().await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.headers["cache-control"], "no-store");
    let secret = first.str("secret");
    assert!(
        first
            .str("otpauth_uri")
            .starts_with("otpauth://totp/tower-auth%20demo:ann%40example.com?"),
        "{}",
        first.body
    );
    assert!(
        first
            .str("otpauth_uri")
            .contains(&format!("secret={secret}"))
    );
    let svg = first.str("qr_svg");
    assert!(svg.starts_with("<?xml") && svg.ends_with("</svg>"), "{svg}");

    // A second enrolment replaces the pending secret: the first one's code no longer confirms.
    let second = enroll().await;
    assert_eq!(second.status, 200);
    assert_ne!(second.str("secret"), secret);
    let stale = e
        .call(
            "POST",
            "/auth/mfa/totp/confirm",
            Auth::Bearer(&access),
            Some(json!({"code": totp_code(&e.demo, &secret)})),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (400, "INVALID_OTP"));
    let ok = e
        .call(
            "POST",
            "/auth/mfa/totp/confirm",
            Auth::Bearer(&access),
            Some(json!({"code": totp_code(&e.demo, &second.str("secret"))})),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.headers["cache-control"], "no-store");
    assert_eq!(ok.body["recovery_codes"].as_array().unwrap().len(), 10);

    // Active: enrolling again is a conflict.
    let again = enroll().await;
    assert_eq!((again.status, again.code()), (409, "MFA_ALREADY_ENABLED"));
}

#[tokio::test]
async fn a_wrong_confirmation_code_is_400_invalid_otp_and_totp_stays_off() {
    let e = demo();
    let access = e.user("bo@example.com").await.str("access_token");
    let enrol = e
        .call("POST", "/auth/mfa/totp/enroll", Auth::Bearer(&access), None)
        .await;
    let wrong = if totp_code(&e.demo, &enrol.str("secret")) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = e
        .call(
            "POST",
            "/auth/mfa/totp/confirm",
            Auth::Bearer(&access),
            Some(json!({ "code": wrong })),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "INVALID_OTP"));
    assert!(r.headers.get("www-authenticate").is_none());
    let me = e.me(&access).await;
    assert_eq!(me.body["mfa"], json!({"totp": false}));
    // A login still needs no second factor.
    assert_eq!(
        e.login("bo@example.com", "a good password").await.status,
        200
    );
}

#[tokio::test]
async fn a_password_login_carries_amr_pwd_and_me_shows_totp_off() {
    let e = demo();
    let login = e.user("cy@example.com").await;
    let (_, claims) = jwt_parts(&login.str("access_token"));
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["auth_time"], T0);
    assert!(claims.get("acr").is_none());
    let me = e.me(&login.str("access_token")).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["mfa"], json!({"totp": false}));
    assert_eq!(me.body["amr"], json!(["pwd"]));
    // The existing fields are unchanged.
    for field in ["sub", "roles", "scopes", "auth_method"] {
        assert!(me.body.get(field).is_some(), "{field}: {}", me.body);
    }
}

#[tokio::test]
async fn with_totp_the_password_login_answers_mfa_required_and_verify_answers_the_token_pair() {
    let e = demo();
    let user = e.totp_user("dee@example.com").await;
    let first = e.login(&user.email, &user.password).await;
    assert_eq!(first.status, 401);
    assert_eq!(first.code(), "MFA_REQUIRED");
    assert_eq!(first.body["methods"], json!(["totp", "recovery_code"]));
    assert!(!first.str("mfa_token").is_empty());
    assert!(first.body["error"]["message"].is_string());
    // Exactly the error, the token and the methods: nothing that works as a credential.
    let mut keys: Vec<&str> = first
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["error", "methods", "mfa_token"]);
    assert_eq!(first.headers["cache-control"], "no-store");
    assert!(first.headers.get("www-authenticate").is_none());
    assert!(first.set_cookies().is_empty());

    let verified_at = e.demo.clock.now().as_secs();
    let done = e
        .mfa_verify(json!({
            "mfa_token": first.str("mfa_token"),
            "code": totp_code(&e.demo, &user.secret),
        }))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.headers["cache-control"], "no-store");
    assert_eq!(done.body["token_type"], "Bearer");
    assert_eq!(done.body["expires_in"], 900);
    assert!(done.body["refresh_token"].is_string());
    assert!(
        done.set_cookies().is_empty(),
        "an api login gets no cookies"
    );
    let access = done.str("access_token");
    let (_, claims) = jwt_parts(&access);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], "aal2");
    assert_eq!(claims["auth_time"], verified_at);

    let me = e.me(&access).await;
    assert_eq!(me.body["mfa"], json!({"totp": true}));
    assert_eq!(me.body["amr"], json!(["pwd", "otp", "mfa"]));
}

#[tokio::test]
async fn a_replayed_code_gets_the_same_answer_as_a_wrong_code() {
    let e = demo();
    let user = e.totp_user("eve@example.com").await;
    let code = totp_code(&e.demo, &user.secret);
    let token = || async { e.login(&user.email, &user.password).await.str("mfa_token") };

    let used = e
        .mfa_verify(json!({"mfa_token": token().await, "code": code}))
        .await;
    assert_eq!(used.status, 200, "{}", used.body);

    let replay = e
        .mfa_verify(json!({"mfa_token": token().await, "code": code}))
        .await;
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let wrong = e
        .mfa_verify(json!({"mfa_token": token().await, "code": wrong_code}))
        .await;
    assert_eq!((replay.status, replay.code()), (401, "INVALID_OTP"));
    assert_eq!(replay.body, wrong.body);
    assert_eq!(replay.status, wrong.status);
    assert_eq!(
        replay.headers.get("www-authenticate"),
        wrong.headers.get("www-authenticate")
    );
}

#[tokio::test]
async fn the_mfa_token_is_single_use_unknown_ones_are_refused_and_it_lapses_after_five_minutes() {
    let e = demo();
    let user = e.totp_user("fay@example.com").await;
    let token = e.login(&user.email, &user.password).await.str("mfa_token");

    // A wrong code leaves it usable.
    let code = totp_code(&e.demo, &user.secret);
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let wrong = e
        .mfa_verify(json!({"mfa_token": token, "code": wrong_code}))
        .await;
    assert_eq!(wrong.code(), "INVALID_OTP");
    let ok = e
        .mfa_verify(json!({"mfa_token": token, "code": code}))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    // Used up.
    e.next_step();
    let again = e
        .mfa_verify(json!({"mfa_token": token, "code": totp_code(&e.demo, &user.secret)}))
        .await;
    assert_eq!((again.status, again.code()), (401, "INVALID_MFA_TOKEN"));
    assert!(again.headers.get("www-authenticate").is_none());

    let unknown = e
        .mfa_verify(json!({"mfa_token": "not-a-token", "code": "123456"}))
        .await;
    assert_eq!((unknown.status, unknown.code()), (401, "INVALID_MFA_TOKEN"));

    // Valid five minutes, not a second more.
    let token = e.login(&user.email, &user.password).await.str("mfa_token");
    e.clock.advance(Duration::from_secs(5 * 60 + 1));
    let late = e
        .mfa_verify(json!({"mfa_token": token, "code": totp_code(&e.demo, &user.secret)}))
        .await;
    assert_eq!((late.status, late.code()), (401, "INVALID_MFA_TOKEN"));
}

#[tokio::test]
async fn a_verify_body_needs_exactly_one_factor() {
    let e = demo();
    for body in [
        json!({"mfa_token": "t"}),
        json!({"mfa_token": "t", "code": "123456", "recovery_code": "x"}),
        json!({"code": "123456"}),
    ] {
        let r = e.mfa_verify(body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.code(), "INVALID_REQUEST");
    }
}

#[tokio::test]
async fn a_recovery_code_logs_in_once_and_lets_the_user_replace_the_secret() {
    let e = demo();
    let user = e.totp_user("gil@example.com").await;
    let recovery = user.recovery_codes[3].clone();
    let token = e.login(&user.email, &user.password).await.str("mfa_token");
    let done = e
        .mfa_verify(json!({"mfa_token": token, "recovery_code": recovery}))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let access = done.str("access_token");
    let (_, claims) = jwt_parts(&access);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));

    // Once only.
    let token = e.login(&user.email, &user.password).await.str("mfa_token");
    let again = e
        .mfa_verify(json!({"mfa_token": token, "recovery_code": recovery}))
        .await;
    assert_eq!((again.status, again.code()), (401, "INVALID_OTP"));

    // The lost authenticator is replaced: off (step-up passes), then a new enrolment.
    let off = e
        .call(
            "POST",
            "/auth/mfa/totp/disable",
            Auth::Bearer(&access),
            None,
        )
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
    assert_eq!(e.me(&access).await.body["mfa"], json!({"totp": false}));
    let enrol = e
        .call("POST", "/auth/mfa/totp/enroll", Auth::Bearer(&access), None)
        .await;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    let confirm = e
        .call(
            "POST",
            "/auth/mfa/totp/confirm",
            Auth::Bearer(&access),
            Some(json!({"code": totp_code(&e.demo, &enrol.str("secret"))})),
        )
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    // The old secret is gone with the old recovery codes.
    e.next_step();
    let token = e.login(&user.email, &user.password).await.str("mfa_token");
    let old = e
        .mfa_verify(json!({"mfa_token": token, "code": totp_code(&e.demo, &user.secret)}))
        .await;
    assert_eq!(old.code(), "INVALID_OTP");
    let old = e
        .mfa_verify(json!({"mfa_token": token, "recovery_code": user.recovery_codes[0]}))
        .await;
    assert_eq!(old.code(), "INVALID_OTP");
}

#[tokio::test]
async fn wrong_codes_lock_the_second_factor_with_429_and_retry_after_even_for_a_right_code() {
    let e = demo();
    let user = e.totp_user("hal@example.com").await;
    let token = e.login(&user.email, &user.password).await.str("mfa_token");
    let code = totp_code(&e.demo, &user.secret);
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    // Each request from its own address: the account's own limit answers, not the client's.
    for _ in 0..5 {
        let r = e
            .mfa_verify(json!({"mfa_token": token, "code": wrong_code}))
            .await;
        assert_eq!((r.status, r.code()), (401, "INVALID_OTP"), "{}", r.body);
    }
    let locked = e
        .mfa_verify(json!({"mfa_token": token, "code": code}))
        .await;
    assert_eq!((locked.status, locked.code()), (429, "TOO_MANY_ATTEMPTS"));
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");

    // After the lockout (15 minutes), with a new login (the token lapsed), the code works.
    e.clock.advance(Duration::from_secs(retry));
    let user_code_ok = e.login_with_totp(&user).await;
    assert_eq!(user_code_ok.status, 200);
}

#[tokio::test]
async fn verify_is_behind_the_login_routes_brute_force_layer() {
    let e = demo();
    let client: std::net::SocketAddr = "192.0.2.9:50000".parse().unwrap();
    let verify = || {
        http::Request::post("/auth/mfa/verify")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"mfa_token": "guess", "code": "123456"}).to_string(),
            ))
            .unwrap()
    };
    for _ in 0..5 {
        let r = e.send_from(client, verify()).await;
        assert_eq!((r.status, r.code()), (401, "INVALID_MFA_TOKEN"));
    }
    let r = e.send_from(client, verify()).await;
    assert_eq!((r.status, r.code()), (429, "TOO_MANY_ATTEMPTS"));
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn regenerating_recovery_codes_voids_the_old_set() {
    let e = demo();
    let user = e.totp_user("ida@example.com").await;
    let access = e.login_with_totp(&user).await.str("access_token");
    let r = e
        .call(
            "POST",
            "/auth/mfa/recovery-codes",
            Auth::Bearer(&access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let fresh: Vec<String> = r.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !user.recovery_codes.contains(c)));

    let token = e.login(&user.email, &user.password).await.str("mfa_token");
    let old = e
        .mfa_verify(json!({"mfa_token": token, "recovery_code": user.recovery_codes[0]}))
        .await;
    assert_eq!(old.code(), "INVALID_OTP");
    let new = e
        .mfa_verify(json!({"mfa_token": token, "recovery_code": fresh[0]}))
        .await;
    assert_eq!(new.status, 200, "{}", new.body);
}

#[tokio::test]
async fn a_disabled_second_factor_no_longer_interrupts_the_login() {
    let e = demo();
    let user = e.totp_user("jo@example.com").await;
    let access = e.login_with_totp(&user).await.str("access_token");
    let off = e
        .call(
            "POST",
            "/auth/mfa/totp/disable",
            Auth::Bearer(&access),
            None,
        )
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
    let again = e
        .call(
            "POST",
            "/auth/mfa/totp/disable",
            Auth::Bearer(&access),
            None,
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "MFA_NOT_ENABLED"));
    let login = e.login(&user.email, &user.password).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let (_, claims) = jwt_parts(&login.str("access_token"));
    assert_eq!(claims["amr"], json!(["pwd"]));
}

#[tokio::test]
async fn the_mfa_routes_need_authentication() {
    let e = demo();
    for path in [
        "/auth/mfa/totp/enroll",
        "/auth/mfa/totp/confirm",
        "/auth/mfa/totp/disable",
        "/auth/mfa/recovery-codes",
    ] {
        let r = e.call("POST", path, Auth::None, None).await;
        assert_eq!((r.status, r.code()), (401, "MISSING_CREDENTIALS"), "{path}");
    }
}
