//! The reports and orders services of the example against `auth_test::MockOidcProvider`
//! instead of the example's own authorization server: any provider serving `/token` and
//! `/jwks` under its issuer works, and its faults reach the caller as 503
//! `OUTBOUND_TOKEN_UNAVAILABLE` with the orders API untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::clock::ManualClock;
use auth_core::jwt::Algorithm;
use auth_test::MockOidcProvider;
use auth_test::provider::{Endpoint, Fault};
use client_credentials::{
    ORDERS_AUDIENCE, ORDERS_SCOPE, orders_api, outbound_client, reports_service, spawn,
    token_manager,
};
use tokio::net::TcpListener;

struct World {
    idp: MockOidcProvider,
    reports_url: String,
    hits: Arc<AtomicUsize>,
}

async fn world() -> World {
    // The services read the system clock, so the provider issues tokens at the real time.
    let idp = MockOidcProvider::start_with(Algorithm::RS256, ManualClock::starting_now())
        .await
        .unwrap();
    idp.set_audience(ORDERS_AUDIENCE);
    idp.register_client_with_scopes("reports", "s3cr3t", [ORDERS_SCOPE]);
    let hits = Arc::new(AtomicUsize::new(0));
    let orders = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let orders_url = format!("http://{}/orders", orders.local_addr().unwrap());
    spawn(orders, orders_api(idp.issuer(), Arc::clone(&hits)).unwrap());
    let tokens = token_manager(idp.issuer(), "reports", "s3cr3t").unwrap();
    let reports = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let reports_url = format!("http://{}/report", reports.local_addr().unwrap());
    spawn(
        reports,
        reports_service(outbound_client(tokens).unwrap(), &orders_url),
    );
    World {
        idp,
        reports_url,
        hits,
    }
}

#[tokio::test]
async fn reports_reach_orders_with_one_token_from_the_mock_provider() {
    let w = world().await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let res = http.get(&w.reports_url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["report"]["caller"], "reports");
    }
    assert_eq!(w.idp.requests(Endpoint::Token), 1);
    assert_eq!(w.idp.requests(Endpoint::Jwks), 1);
    assert_eq!(w.hits.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_token_endpoint_refusal_gives_503_and_orders_gets_nothing() {
    let w = world().await;
    w.idp.fault(
        Endpoint::Token,
        Some(Fault::OAuthError(401, "invalid_client".into())),
    );
    let res = reqwest::get(&w.reports_url).await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "OUTBOUND_TOKEN_UNAVAILABLE");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_client")
    );
    assert_eq!(w.hits.load(Ordering::SeqCst), 0);
}
