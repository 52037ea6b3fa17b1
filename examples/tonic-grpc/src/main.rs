//! The tonic gRPC demo: `demo.v1.Greeter` and `demo.v1.Orders` behind auth-tower's
//! `BearerLayer` (Orders with a scope per method), health checks and reflection open.
//!
//! Run with:
//!
//! ```text
//! cargo run -p tonic-grpc
//! ```
//!
//! Listens on `127.0.0.1:50051` (`AUTH_GRPC_ADDR` overrides it; loopback addresses only).
//! Tokens are HS256 with the secret from `AUTH_JWT_SECRET` (at least 32 bytes) or, without it,
//! an ephemeral random secret; either way a ready-to-use token is printed at startup.

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;

use auth_core::clock::{Clock, SystemClock};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

const DEFAULT_ADDR: &str = "127.0.0.1:50051";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,auth::decision=debug")),
        )
        .init();

    let addr: SocketAddr = match std::env::var("AUTH_GRPC_ADDR") {
        Ok(a) => a
            .parse()
            .map_err(|e| format!("AUTH_GRPC_ADDR `{a}`: {e}"))?,
        Err(std::env::VarError::NotPresent) => DEFAULT_ADDR.parse()?,
        Err(e) => return Err(format!("AUTH_GRPC_ADDR: {e}").into()),
    };
    if !addr.ip().is_loopback() {
        return Err(format!("AUTH_GRPC_ADDR must be a loopback address, got {addr}").into());
    }

    let secret = match std::env::var("AUTH_JWT_SECRET") {
        Ok(s) => s.into_bytes(),
        Err(std::env::VarError::NotPresent) => {
            let mut secret = vec![0; 32];
            getrandom::fill(&mut secret)?;
            tracing::info!("AUTH_JWT_SECRET not set: using an ephemeral random secret");
            secret
        }
        Err(e) => return Err(format!("AUTH_JWT_SECRET: {e}").into()),
    };
    let verifier =
        tonic_grpc::verifier(&secret, SystemClock).map_err(|e| format!("AUTH_JWT_SECRET: {e}"))?;
    let token = tonic_grpc::demo_token(&secret, SystemClock.now())?;

    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    println!("demo token (sub demo-user, scope read:orders, valid 1 hour):\n\n{token}\n");
    println!("call it with grpcurl (the server offers reflection, so no .proto is needed):\n");
    println!("  grpcurl -plaintext {addr} grpc.health.v1.Health/Check            # open");
    println!("  grpcurl -plaintext {addr} list                                   # open");
    println!(
        "  grpcurl -plaintext -H 'authorization: Bearer {token}' {addr} demo.v1.Greeter/WhoAmI"
    );
    println!(
        "  grpcurl -plaintext -H 'authorization: Bearer {token}' {addr} demo.v1.Orders/ListOrders"
    );
    println!(
        "  grpcurl -plaintext -H 'authorization: Bearer {token}' -d '{{\"order_id\":\"ord-1001\"}}' \\\n    \
         {addr} demo.v1.Orders/RefundOrder   # PermissionDenied: the token lacks orders:refund\n"
    );
    tracing::info!(%addr, "serving demo.v1.Greeter and demo.v1.Orders");

    tonic_grpc::serve(listener, verifier)
        .await
        .map_err(|e| e as Box<dyn Error>)?;
    Ok(())
}
