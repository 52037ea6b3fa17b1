//! The audit trail of a whole demo session (issue 17): every event at every level, from
//! `TRACE` up, is captured while a user registers, fails and passes a login, calls the API with
//! a token, an API key and a session cookie, refreshes, enrols TOTP, logs in with a second
//! factor (a wrong code first), and logs out. No event may carry a password, a token, a
//! refresh token, an API key, an MFA token, a TOTP secret or code, a recovery code, a CSRF
//! token, the signing secret or a full email; and each decision leaves its `INFO` event under
//! `auth::audit`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use auth_test::capture::{Captured, CapturedEvents};
use common::{Auth, SECRET, env, totp_code};
use serde_json::json;

fn audit_of(events: &[Captured]) -> Vec<(String, String, Option<String>)> {
    events
        .iter()
        .filter(|e| e.target == "auth::audit")
        .map(|e| {
            assert_eq!(e.level, tracing::Level::INFO, "{e:?}");
            (
                e.fields["method"].clone(),
                e.fields["outcome"].clone(),
                e.fields.get("reason").cloned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_leaves_one_audit_event_per_decision_and_no_secret_at_any_level() {
    let capture = CapturedEvents::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();
    let mut secrets: Vec<String> = vec![SECRET.to_owned()];
    let email = "audit.user@example.com";
    let password = "a good password";
    let e = env(&[]);

    // Register, a wrong password, the right one.
    let r = e.register(email, password).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let wrong = e.login(email, "not the password").await;
    assert_eq!(wrong.status, 401);
    secrets.push("not the password".to_owned());
    let login = e.login(email, password).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let access = login.str("access_token");
    let refresh = login.str("refresh_token");
    secrets.extend([access.clone(), refresh.clone()]);

    // The API with the token: allowed, then refused by the role check.
    assert_eq!(e.me(&access).await.status, 200);
    let stats = e
        .call("GET", "/api/admin/stats", Auth::Bearer(&access), None)
        .await;
    assert_eq!(stats.status, 403);

    // An API key: created, then used.
    let key = e
        .call(
            "POST",
            "/api/keys",
            Auth::Bearer(&access),
            Some(json!({"name": "ci", "scopes": ["read:orders"]})),
        )
        .await;
    assert_eq!(key.status, 201, "{}", key.body);
    let api_key = key.str("api_key");
    secrets.push(api_key.clone());
    let orders = e
        .call("GET", "/api/orders", Auth::ApiKey(&api_key), None)
        .await;
    assert_eq!(orders.status, 200, "{}", orders.body);

    // Refresh.
    let refreshed = e.refresh(&refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let access = refreshed.str("access_token");
    secrets.extend([access.clone(), refreshed.str("refresh_token")]);

    // A cookie session: login, a CSRF-checked call, logout.
    let session = e
        .call(
            "POST",
            "/auth/session/login",
            Auth::None,
            Some(json!({"email": email, "password": password})),
        )
        .await;
    assert_eq!(session.status, 200, "{}", session.body);
    let (cookie_access, csrf) = (
        session.cookie_value("access_token"),
        session.cookie_value("csrf_token"),
    );
    secrets.extend([
        cookie_access.clone(),
        csrf.clone(),
        session.cookie_value("refresh_token"),
    ]);
    let cookies = format!("access_token={cookie_access}; csrf_token={csrf}");
    let no_csrf = e
        .call("POST", "/auth/logout", Auth::Cookies(&cookies, None), None)
        .await;
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
    let out = e
        .call(
            "POST",
            "/auth/logout",
            Auth::Cookies(&cookies, Some(&csrf)),
            None,
        )
        .await;
    assert_eq!(out.status, 204, "{}", out.body);

    // TOTP: enrol, then a login with a wrong code and a right one.
    let user = e.totp_user("mfa.user@example.com").await;
    secrets.push(user.secret.clone());
    secrets.extend(user.recovery_codes.iter().cloned());
    let first = e.login(&user.email, &user.password).await;
    assert_eq!(first.code(), "MFA_REQUIRED");
    let mfa_token = first.str("mfa_token");
    secrets.push(mfa_token.clone());
    let right = totp_code(&e.demo, &user.secret);
    let wrong_code = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let bad = e
        .mfa_verify(json!({"mfa_token": mfa_token, "code": wrong_code}))
        .await;
    assert_eq!(bad.status, 401, "{}", bad.body);
    let done = e
        .mfa_verify(json!({"mfa_token": mfa_token, "code": right}))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    secrets.push(right);
    let last = done.str("access_token");
    secrets.push(last.clone());
    let bye = e
        .call("POST", "/auth/logout", Auth::Bearer(&last), None)
        .await;
    assert_eq!(bye.status, 204, "{}", bye.body);

    let events = capture.events();
    assert!(events.len() > 20, "{}", events.len());

    // No secret, at any level, in any field of any event or span.
    let all = format!("{events:?}");
    for s in &secrets {
        assert!(!s.is_empty());
        assert!(!all.contains(s.as_str()), "a secret leaked: {s}");
    }
    assert!(!all.contains(password));
    for address in [email, "mfa.user@example.com"] {
        let leaks: Vec<&Captured> = events
            .iter()
            .filter(|e| format!("{e:?}").contains(address))
            .collect();
        assert!(leaks.is_empty(), "a full email leaked: {leaks:?}");
    }
    // Nor the local part, URL-encoded or not.
    assert!(!all.contains("audit.user"));

    // One INFO event per decision, with the route template.
    let audit = audit_of(&events);
    let has = |m: &str, o: &str, r: Option<&str>| {
        audit
            .iter()
            .any(|(am, ao, ar)| am == m && ao == o && ar.as_deref() == r)
    };
    assert!(
        has("login", "failure", Some("INVALID_CREDENTIALS")),
        "{audit:?}"
    );
    assert!(has("login", "success", None), "{audit:?}");
    assert!(has("login", "failure", Some("MFA_REQUIRED")), "{audit:?}");
    assert!(has("bearer", "success", None), "{audit:?}");
    assert!(
        has("scope", "failure", Some("INSUFFICIENT_SCOPE")),
        "{audit:?}"
    );
    assert!(has("api_key", "success", None), "{audit:?}");
    assert!(has("refresh", "success", None), "{audit:?}");
    assert!(has("cookie", "success", None), "{audit:?}");
    assert!(has("csrf", "failure", Some("CSRF_REJECTED")), "{audit:?}");
    assert!(has("csrf", "success", None), "{audit:?}");
    assert!(has("logout", "success", None), "{audit:?}");
    assert!(has("mfa", "failure", Some("INVALID_OTP")), "{audit:?}");
    assert!(has("mfa", "success", None), "{audit:?}");
    let logins: Vec<&Captured> = events
        .iter()
        .filter(|e| e.target == "auth::audit" && e.fields["method"] == "login")
        .collect();
    for l in &logins {
        let route = l.fields["route"].as_str();
        assert!(
            route == "/auth/login" || route == "/auth/session/login",
            "{l:?}"
        );
        let digest = &l.fields["account"];
        assert_eq!(digest.len(), 32, "{l:?}");
    }
    // The wrong and the right password of one account give the same digest.
    assert_eq!(logins[0].fields["account"], logins[1].fields["account"]);
}
