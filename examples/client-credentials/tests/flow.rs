//! The example end to end on 127.0.0.1: reports calls orders with a client-credentials token
//! (one token request for many calls); a wrong secret gives 503 `OUTBOUND_TOKEN_UNAVAILABLE`
//! and the orders API receives nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use client_credentials::{
    AuthServer, ORDERS_SCOPE, RegisteredClient, auth_server, orders_api, outbound_client,
    reports_service, spawn, token_manager,
};
use tokio::net::TcpListener;

const SECRET: &str = "s3cr3t: +%/é";

struct World {
    issuer: String,
    orders_url: String,
    token_requests: Arc<AtomicUsize>,
    hits: Arc<AtomicUsize>,
}

async fn world(scopes: &[&str]) -> World {
    let as_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", as_listener.local_addr().unwrap());
    let clients = HashMap::from([(
        "reports".to_owned(),
        RegisteredClient {
            secret: SECRET.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        },
    )]);
    let server = AuthServer::new(&issuer, clients, Duration::from_secs(300)).unwrap();
    let token_requests = Arc::clone(&server.token_requests);
    spawn(as_listener, auth_server(server));
    let orders_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let orders_url = format!("http://{}/orders", orders_listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    spawn(
        orders_listener,
        orders_api(&issuer, Arc::clone(&hits)).unwrap(),
    );
    World {
        issuer,
        orders_url,
        token_requests,
        hits,
    }
}

async fn reports(w: &World, secret: &str) -> String {
    let tokens = token_manager(&w.issuer, "reports", secret).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/report", listener.local_addr().unwrap());
    spawn(
        listener,
        reports_service(outbound_client(tokens).unwrap(), &w.orders_url),
    );
    url
}

#[tokio::test]
async fn reports_reach_orders_with_one_token_for_many_calls() {
    let w = world(&[ORDERS_SCOPE]).await;
    let url = reports(&w, SECRET).await;
    let http = reqwest::Client::new();
    for _ in 0..10 {
        let res = http.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["report"]["caller"], "reports");
        assert_eq!(body["report"]["orders"].as_array().unwrap().len(), 2);
    }
    assert_eq!(w.token_requests.load(Ordering::SeqCst), 1);
    assert_eq!(w.hits.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn a_wrong_secret_gives_503_outbound_token_unavailable_and_orders_gets_nothing() {
    let w = world(&[ORDERS_SCOPE]).await;
    let url = reports(&w, "not-the-secret").await;
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "OUTBOUND_TOKEN_UNAVAILABLE");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("invalid_client"), "{message}");
    assert!(!message.contains("not-the-secret"), "{message}");
    assert_eq!(w.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_scope_the_client_may_not_have_is_reported_as_invalid_scope() {
    let w = world(&["something:else"]).await;
    let url = reports(&w, SECRET).await;
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_scope")
    );
    assert_eq!(w.hits.load(Ordering::SeqCst), 0);
}
