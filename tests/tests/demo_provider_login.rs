//! The demo server's "Sign in with a provider" (issue 14, demo part) against a real OpenID
//! Provider (npm `oidc-provider`), driven through its development login and consent pages by
//! the cookie-keeping `Browser` of `auth_integration_tests::oidc_login`: a first login creates
//! an account and a cookie session, a second one reuses it, identities of two provider
//! instances link to a password account, two tabs complete in reverse order, a TOTP account
//! passes its second factor. The refused callbacks are in `demo_provider_login_refused.rs`.
//!
//! Needs Node.js and `npm ci --prefix tests/oidc` (or `bash tests/interop/install.sh`).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod demo_login;

use std::time::Duration;

use auth_core::clock::Clock as _;
use auth_integration_tests::oidc_login::{Browser, sign_in_at_provider};
use demo_login::{RedisPair, Rig, assert_no_session, error_code, header_value, param};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_creates_an_account_and_starts_a_cookie_session() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let cb = rig
        .to_callback(&browser, "acme", "?return_to=/orders", "ann")
        .await;
    let page = browser.get(&cb).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/orders").as_str()));
    // The cookies of POST /auth/session/login, and the transaction cookie removed.
    let access = header_value(&page, "access_token").unwrap();
    assert!(
        access.contains("HttpOnly") && access.contains("SameSite=Lax"),
        "{access}"
    );
    assert!(
        header_value(&page, "refresh_token")
            .unwrap()
            .contains("Path=/auth/session")
    );
    assert!(header_value(&page, "csrf_token").is_some());
    assert!(
        !browser
            .cookie_names()
            .iter()
            .any(|n| n.contains("auth_login_")),
        "{:?}",
        browser.cookie_names()
    );

    let (status, me) = rig.me(&browser).await;
    assert_eq!(status, 200, "{me}");
    let sub = me["sub"].as_str().unwrap();
    assert!(sub.starts_with("usr_"), "{me}");
    assert_eq!(me["amr"], json!(["ext"]));
    assert_eq!(me["roles"], json!(["user"]));
    assert_eq!(
        me["identities"],
        json!([{"provider": "acme", "iss": rig.acme.issuer(), "sub": "ann"}])
    );
    // The account exists, without a password, with the provider's email for display.
    let account = rig.demo.users.by_subject(sub).await.unwrap().unwrap();
    assert_eq!(account.email.as_deref(), Some("ann@example.test"));
    let login = json!({"email": "ann@example.test", "password": "any password at all"});
    let (status, body) = rig
        .post_json(&Browser::new().unwrap(), "/auth/login", &login)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("INVALID_CREDENTIALS"))
    );
    // The session is a real one: refresh works with the CSRF cookie.
    let (status, body) = rig
        .post_json(&browser, "/auth/session/refresh", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_with_the_same_identity_reuses_the_account() {
    let rig = Rig::one_provider().await;
    let first = Browser::new().unwrap();
    assert_eq!(rig.sign_in(&first, "acme", "bea").await.status, 303);
    let (_, me1) = rig.me(&first).await;
    // Another browser, so the provider asks for the login again.
    let second = Browser::new().unwrap();
    let page = rig.sign_in(&second, "acme", "bea").await;
    assert_eq!(page.status, 303, "{}", page.body);
    let (_, me2) = rig.me(&second).await;
    assert_eq!(me1["sub"], me2["sub"]);
    assert_eq!(me2["identities"].as_array().unwrap().len(), 1);
    // Two sessions of one account: two sessions, not one.
    assert_ne!(
        first.cookie("refresh_token"),
        second.cookie("refresh_token")
    );
    // A different user at the provider is a different account.
    let third = Browser::new().unwrap();
    rig.sign_in(&third, "acme", "cid").await;
    assert_ne!(rig.me(&third).await.1["sub"], me1["sub"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_of_two_providers_link_to_a_password_account_and_to_no_other() {
    let rig = Rig::two_providers().await;
    let browser = Browser::new().unwrap();
    let sub = rig.password_session(&browser, "pat@example.com").await;

    // Link acme's "pat", then beta's "pat" (another issuer: another identity).
    for provider in ["acme", "beta"] {
        let cb = rig
            .to_callback(&browser, provider, "?link=true&return_to=/linked", "pat")
            .await;
        let page = browser.get(&cb).await.unwrap();
        assert_eq!(page.status, 303, "{provider}: {}", page.body);
        assert_eq!(page.location.as_deref(), Some(rig.url("/linked").as_str()));
        // Linking keeps the session: no new session cookie.
        assert!(
            header_value(&page, "access_token").is_none(),
            "{:?}",
            page.set_cookies
        );
    }
    let (status, me) = rig.me(&browser).await;
    assert_eq!(status, 200);
    assert_eq!(me["sub"], sub.as_str());
    assert_eq!(me["amr"], json!(["pwd"]));
    assert_eq!(
        me["identities"],
        json!([
            {"provider": "acme", "iss": rig.acme.issuer(), "sub": "pat"},
            {"provider": "beta", "iss": rig.beta().issuer(), "sub": "pat"},
        ])
    );

    // Either identity now signs in to the password account.
    for provider in ["beta", "acme"] {
        let other = Browser::new().unwrap();
        assert_eq!(rig.sign_in(&other, provider, "pat").await.status, 303);
        let (_, me) = rig.me(&other).await;
        assert_eq!(me["sub"], sub.as_str(), "{provider}");
        assert_eq!(me["amr"], json!(["ext"]));
    }

    // Another account cannot take acme's "pat": 409, nothing linked, its session unchanged.
    let mallory = Browser::new().unwrap();
    let msub = rig.password_session(&mallory, "mal@example.com").await;
    let cb = rig.to_callback(&mallory, "acme", "?link=true", "pat").await;
    let page = mallory.get(&cb).await.unwrap();
    assert_eq!(page.status, 409, "{}", page.body);
    assert_eq!(error_code(&page), "IDENTITY_ALREADY_LINKED");
    assert!(header_value(&page, "access_token").is_none());
    let (_, me) = rig.me(&mallory).await;
    assert_eq!(me["sub"], msub.as_str());
    assert!(me.get("identities").is_none(), "{me}");

    // Linking needs a session: without one, 401 before the provider is involved.
    let anonymous = Browser::new().unwrap();
    let page = anonymous
        .get(&rig.url("/auth/login/acme?link=true"))
        .await
        .unwrap();
    assert_eq!(page.status, 401);
    assert_eq!(error_code(&page), "MISSING_CREDENTIALS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_logins_started_in_two_tabs_complete_in_reverse_order() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let first = rig
        .to_callback(&browser, "acme", "?return_to=/first", "tab")
        .await;
    let second = rig
        .to_callback(&browser, "acme", "?return_to=/second", "tab")
        .await;
    assert_ne!(param(&first, "state"), param(&second, "state"));
    let page = browser.get(&second).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/second").as_str()));
    let (_, me_second) = rig.me(&browser).await;
    let page = browser.get(&first).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/first").as_str()));
    let (_, me_first) = rig.me(&browser).await;
    assert_eq!(me_first["sub"], me_second["sub"]);
    assert_eq!(rig.acme.token_requests().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_begin_route_404s_for_an_unknown_provider_and_post_auth_login_still_works() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    for path in ["/auth/login/nope", "/auth/login/nope/callback"] {
        assert_eq!(
            browser.get(&rig.url(path)).await.unwrap().status,
            404,
            "{path}"
        );
    }
    let page = browser.get(&rig.url("/auth/login/acme")).await.unwrap();
    assert_eq!(page.status, 303);
    assert!(
        page.location
            .as_deref()
            .unwrap()
            .starts_with(&format!("{}/auth?", rig.acme.issuer())),
        "{:?}",
        page.location
    );
    // The password login beside the provider routes.
    let creds = json!({"email": "demo@example.com", "password": "demo-password"});
    let (status, body) = rig.post_json(&browser, "/auth/login", &creds).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    // The page offers the provider.
    let page = browser.get(&rig.url("/")).await.unwrap();
    assert!(
        page.body
            .contains(r#"href="/auth/login/acme?return_to=/">Sign in with acme</a>"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_login_to_an_account_with_totp_needs_the_second_factor() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    assert_eq!(rig.sign_in(&browser, "acme", "tess").await.status, 303);
    let (status, body) = rig
        .post_json(&browser, "/auth/mfa/totp/enroll", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let secret = auth_core::mfa::TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
    let p = rig.demo.mfa.totp_params();
    let code = || p.format(p.code_at(secret.as_bytes(), p.step_at(rig.clock.now())));
    let (status, body) = rig
        .post_json(&browser, "/auth/mfa/totp/confirm", &json!({"code": code()}))
        .await;
    assert_eq!(status, 200, "{body}");
    rig.clock.advance(Duration::from_secs(30));

    // A new browser signs in with the provider: no session, the second step instead.
    let other = Browser::new().unwrap();
    let page = rig.sign_in(&other, "acme", "tess").await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/").as_str()));
    assert_no_session(&rig, &other, &page).await;
    let mfa_token = other.cookie("mfa_login").unwrap();
    let (status, body) = rig
        .post_json(
            &other,
            "/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, me) = rig.me(&other).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["amr"], json!(["ext", "otp", "mfa"]), "no pwd is claimed");
    assert_eq!(me["mfa"]["totp"], true);
}

// With REDIS_URL, instances share the sealing key, the used transactions and the identities: a
// login started at one completes at the other, and its replay is refused at both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_started_at_one_instance_completes_at_the_other_and_is_not_replayed_at_either() {
    let Some(pair) = RedisPair::start().await else {
        eprintln!("skipped: no Redis (set REDIS_URL or install redis-server)");
        return;
    };
    let browser = Browser::new().unwrap();
    let callback = format!("{}/auth/login/acme/callback", pair.a);
    let cb = sign_in_at_provider(
        &browser,
        &format!("{}/auth/login/acme", pair.a),
        "rhea",
        &callback,
    )
    .await
    .unwrap();
    let kept: Vec<String> = browser
        .cookie_names()
        .into_iter()
        .filter(|n| n.contains("auth_login_"))
        .map(|n| format!("{n}={}; Path=/", browser.cookie(&n).unwrap()))
        .collect();
    assert_eq!(kept.len(), 1);
    // Completed at B.
    let at_b = cb.replacen(&pair.a, &pair.b, 1);
    let page = browser.get(&at_b).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(pair.acme.provider.token_requests().await.unwrap(), 1);
    // The session and the identity are seen at A too (cookies are per host, not port).
    let me = browser.get(&format!("{}/api/me", pair.a)).await.unwrap();
    assert_eq!(me.status, 200, "{}", me.body);
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["identities"][0]["sub"], "rhea", "{me}");
    // Replayed at either instance by a client that kept the transaction cookie: refused.
    for url in [&cb, &at_b] {
        let replayer = Browser::new().unwrap();
        replayer.store(url, &kept[0]);
        let page = replayer.get(url).await.unwrap();
        assert_eq!(page.status, 400, "{url}: {}", page.body);
        assert_eq!(error_code(&page), "LOGIN_STATE_INVALID");
    }
    assert_eq!(pair.acme.provider.token_requests().await.unwrap(), 1);
    pair.clean_up().await;
}
