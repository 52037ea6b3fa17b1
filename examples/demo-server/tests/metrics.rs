//! `GET /metrics` after a scripted sequence of requests (issue 17): the demo binary runs with
//! `AUTH_DEMO_METRICS=true` in its own process (so its global Prometheus recorder sees only
//! this test's requests), gets two good bearer requests, one expired token and one scope
//! refusal, and its `/metrics` page must show exactly those counts, labelled by method, result
//! and `error.type`, and no subject, token or address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use auth_test::clock::ManualClock;
use auth_test::{TestAuthority, TestKey};
use common::{DemoProcess, SECRET};

/// The value of the sample `name{labels}` on the page, labels in the exporter's (sorted)
/// order; `None` when the page has no such line.
fn sample(page: &str, name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{labels}}}")
    };
    page.lines()
        .find_map(|line| line.strip_prefix(&series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_count_a_scripted_sequence_of_requests_exactly() {
    let demo = DemoProcess::start(&[("AUTH_DEMO_METRICS", "true")]);
    let authority = TestAuthority::with_key(TestKey::hs256(SECRET, "auth-demo-1").unwrap())
        .with_issuer("auth-demo")
        .with_audience("auth-demo-api")
        // The binary reads the system clock.
        .with_clock(ManualClock::starting_now());
    let good = authority
        .token()
        .typ("at+jwt")
        .subject("metrics-user-7f3a")
        .roles(["user"])
        .scopes(["read:orders"])
        .sign();
    let expired = authority
        .token()
        .typ("at+jwt")
        .subject("metrics-user-7f3a")
        .expired();
    let expired = expired.token().to_owned();
    let client = reqwest::Client::new();
    let get = |path: &str, token: &str| {
        client
            .get(format!("{}{path}", demo.origin))
            .bearer_auth(token)
            .send()
    };

    // Before any request: no authentication has been recorded.
    let before = client
        .get(format!("{}/metrics", demo.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200);
    assert!(!before.text().await.unwrap().contains("auth_authentication"));

    // The script: two good requests, one expired token, one scope refusal.
    assert_eq!(get("/api/me", &good).await.unwrap().status(), 200);
    assert_eq!(get("/api/orders", &good).await.unwrap().status(), 200);
    let refused = get("/api/me", &expired).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(get("/api/admin/stats", &good).await.unwrap().status(), 403);

    let res = client
        .get(format!("{}/metrics", demo.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let page = res.text().await.unwrap();

    let duration = "auth_authentication_duration_count";
    // The bearer layer authenticated the two good requests and the refused one's token.
    assert_eq!(
        sample(
            &page,
            duration,
            r#"auth_method="bearer",auth_result="success""#
        ),
        Some(3.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            duration,
            r#"auth_method="bearer",auth_result="failure",error_type="TOKEN_EXPIRED""#
        ),
        Some(1.0),
        "{page}"
    );
    // A counter, named as the facade names it (dots become underscores; no `_total` suffix).
    let attempts = "auth_authorization_attempts";
    assert!(
        page.contains("# TYPE auth_authorization_attempts counter"),
        "{page}"
    );
    // Every declared route checks its requirement (`SecuredRoutes`): `/api/me` passed its
    // "authenticated" check and `/api/orders` its scope check; `/api/admin/stats` needed the
    // admin role. The expired token never reached a check (the bearer layer refused it).
    assert_eq!(
        sample(
            &page,
            attempts,
            r#"auth_method="scope",auth_result="success""#
        ),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            attempts,
            r#"auth_method="scope",auth_result="failure",error_type="INSUFFICIENT_SCOPE""#
        ),
        Some(1.0),
        "{page}"
    );
    // No brute-force block, and nothing identifying anyone on the page.
    assert_eq!(sample(&page, "auth_brute_force_blocks", ""), None, "{page}");
    for secret in [
        "metrics-user-7f3a",
        "127.0.0.1",
        good.as_str(),
        expired.as_str(),
    ] {
        assert!(!page.contains(secret), "{secret} on the page:\n{page}");
    }
}
