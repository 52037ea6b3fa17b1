//! The demo server's refused provider sign-ins (issue 14, demo part), against a real OpenID
//! Provider (npm `oidc-provider`): a swapped, duplicated, missing or replayed `state`, a wrong
//! `iss`, the provider's `access_denied` each start no session (no session cookie, `/api/me`
//! refused) and, where the flow is cut before the code exchange, the provider's token endpoint
//! sees no request; a return-to off this origin lands on `/`.
//!
//! Needs Node.js and `npm ci --prefix tests/oidc` (or `bash tests/interop/install.sh`).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod demo_login;

use auth_integration_tests::oidc_login::{Browser, abort_at_provider};
use demo_login::{Rig, assert_no_session, error_code, param};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_duplicated_missing_or_replayed_state_starts_no_session() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let mine = rig.to_callback(&browser, "acme", "", "ann").await;
    // The attacker's own callback, sent to my browser (login CSRF).
    let theirs = rig
        .to_callback(&Browser::new().unwrap(), "acme", "", "mallory")
        .await;
    let query = mine.split_once('?').unwrap().1;
    let without_state: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("state="))
        .collect();
    let cases = [
        ("swapped", theirs.clone()),
        (
            "duplicated",
            format!("{mine}&state={}", param(&mine, "state")),
        ),
        (
            "missing",
            format!("{}?{}", rig.callback("acme"), without_state.join("&")),
        ),
    ];
    // My transaction cookie, put back after each refusal (a refused callback clears the
    // transaction cookie it names).
    let kept: Vec<String> = browser
        .cookie_names()
        .into_iter()
        .filter(|n| n.contains("auth_login_"))
        .map(|n| format!("{n}={}; Path=/", browser.cookie(&n).unwrap()))
        .collect();
    assert_eq!(kept.len(), 1);
    for (what, url) in &cases {
        let page = browser.get(url).await.unwrap();
        assert_eq!(page.status, 400, "{what}: {}", page.body);
        assert_eq!(error_code(&page), "LOGIN_STATE_INVALID", "{what}");
        assert_no_session(&rig, &browser, &page).await;
        browser.store(&rig.url("/"), &kept[0]);
    }
    assert_eq!(rig.acme.token_requests().await, 0);

    // The real callback works once; replayed by a client that kept the cookie, refused.
    let page = browser.get(&mine).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(rig.acme.token_requests().await, 1);
    let replayer = Browser::new().unwrap();
    replayer.store(&rig.url("/"), &kept[0]);
    let page = replayer.get(&mine).await.unwrap();
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(error_code(&page), "LOGIN_STATE_INVALID");
    assert_no_session(&rig, &replayer, &page).await;
    assert_eq!(rig.acme.token_requests().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_iss_starts_no_session_and_never_reaches_the_token_endpoint() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let cb = rig.to_callback(&browser, "acme", "", "ann").await;
    let forged = cb.replace(param(&cb, "iss"), "https%3A%2F%2Fevil.example");
    assert_ne!(forged, cb);
    let page = browser.get(&forged).await.unwrap();
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(error_code(&page), "LOGIN_FAILED");
    assert_no_session(&rig, &browser, &page).await;
    assert_eq!(rig.acme.token_requests().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_at_the_provider_starts_no_session_and_says_why() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let cb = abort_at_provider(
        &browser,
        &rig.url("/auth/login/acme"),
        &rig.callback("acme"),
    )
    .await
    .unwrap();
    let page = browser.get(&cb).await.unwrap();
    assert_eq!(page.status, 400, "{}", page.body);
    let body: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(body["error"]["code"], "LOGIN_FAILED");
    assert_eq!(body["error"]["provider_error"], "access_denied");
    assert_no_session(&rig, &browser, &page).await;
    assert!(
        !browser
            .cookie_names()
            .iter()
            .any(|n| n.contains("auth_login_")),
        "transaction cleared"
    );
    assert_eq!(rig.acme.token_requests().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_to_off_this_origin_lands_on_the_home_page() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    // `//evil.example`, `https://evil.example`, `/\evil.example`, `/%2F%2Fevil.example`,
    // percent-encoded in the begin URL's query.
    for encoded in [
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%252F%252Fevil.example",
    ] {
        let cb = rig
            .to_callback(&browser, "acme", &format!("?return_to={encoded}"), "ann")
            .await;
        let page = browser.get(&cb).await.unwrap();
        assert_eq!(page.status, 303, "{encoded}: {}", page.body);
        assert_eq!(
            page.location.as_deref(),
            Some(rig.url("/").as_str()),
            "{encoded}"
        );
    }
}
