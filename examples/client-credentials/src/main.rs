//! A service calling another with OAuth 2.0 client credentials.
//!
//! ```text
//! cargo run -p client-credentials
//! ```
//!
//! Starts, on 127.0.0.1 (free ports), an authorization server, the orders API (tokens
//! checked by `BearerLayer` against the authorization server's JWKS, scope `orders:read`
//! required) and the reports service, whose outbound client carries tokens from a
//! `TokenManager` through `AccessTokenLayer`. Then it calls `GET /report` ten times (one token
//! request in all), once more through a reports service configured with a wrong secret (503
//! `OUTBOUND_TOKEN_UNAVAILABLE`, nothing sent to the orders API), prints what happened and
//! exits. Set `RUST_LOG=auth=debug` to see the token manager's events.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use client_credentials::{
    AuthServer, ORDERS_SCOPE, RegisteredClient, auth_server, orders_api, outbound_client,
    reports_service, spawn, token_manager,
};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "auth::oauth_client=info".into()),
        )
        .init();

    let as_listener = TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}", as_listener.local_addr()?);
    let clients = HashMap::from([(
        "reports".to_owned(),
        RegisteredClient {
            secret: "reports-secret: with + and %".to_owned(),
            scopes: vec![ORDERS_SCOPE.to_owned()],
        },
    )]);
    let server = AuthServer::new(&issuer, clients, Duration::from_secs(300))?;
    let token_requests = Arc::clone(&server.token_requests);
    spawn(as_listener, auth_server(server));

    let orders_listener = TcpListener::bind("127.0.0.1:0").await?;
    let orders_url = format!("http://{}/orders", orders_listener.local_addr()?);
    let hits = Arc::new(AtomicUsize::new(0));
    spawn(orders_listener, orders_api(&issuer, Arc::clone(&hits))?);

    let tokens = token_manager(&issuer, "reports", "reports-secret: with + and %")?;
    let reports_listener = TcpListener::bind("127.0.0.1:0").await?;
    let reports_url = format!("http://{}/report", reports_listener.local_addr()?);
    spawn(
        reports_listener,
        reports_service(outbound_client(tokens)?, &orders_url),
    );
    println!("authorization server: {issuer}/token");
    println!("orders api:           {orders_url}");
    println!("reports service:      {reports_url}");

    let http = reqwest::Client::new();
    for i in 1..=10 {
        let res = http.get(&reports_url).send().await?;
        let status = res.status();
        let body = res.text().await?;
        if i == 1 {
            println!("GET /report -> {status} {body}");
        }
    }
    println!(
        "10 reports: {} token request(s), {} orders api call(s)",
        token_requests.load(Ordering::SeqCst),
        hits.load(Ordering::SeqCst)
    );

    // The same service with a wrong secret: no token, so nothing reaches the orders API.
    let wrong = token_manager(&issuer, "reports", "wrong")?;
    let wrong_listener = TcpListener::bind("127.0.0.1:0").await?;
    let wrong_url = format!("http://{}/report", wrong_listener.local_addr()?);
    spawn(
        wrong_listener,
        reports_service(outbound_client(wrong)?, &orders_url),
    );
    let before = hits.load(Ordering::SeqCst);
    let res = http.get(&wrong_url).send().await?;
    println!(
        "with a wrong secret: GET /report -> {} {}",
        res.status(),
        res.text().await?
    );
    println!(
        "orders api calls meanwhile: {}",
        hits.load(Ordering::SeqCst) - before
    );
    Ok(())
}
