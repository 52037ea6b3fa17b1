//! The demo server: JWT bearer authentication with in-memory defaults.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p demo-server
//! ```
//!
//! It listens on 127.0.0.1:3000 (`AUTH_DEMO_ADDR` overrides). With no key configured it makes
//! an ephemeral HS256 secret and prints one ready-to-use token. See `config.rs` for the
//! environment variables.

use std::process::ExitCode;

use demo_server::Demo;
use demo_server::config::{Config, KeySource};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,auth=debug")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env(|k| std::env::var(k).ok())?;
    let (demo, oidc) = Demo::from_config(&config)?;
    if let (Some(source), Some(oidc)) = (oidc, &config.oidc) {
        println!(
            "Also accepting tokens from {} (aud {}), keys by OpenID discovery.",
            oidc.issuer, oidc.audience
        );
        // Fetch the provider's keys now so the first request does not wait; failures are
        // logged and retried on demand (requests get 503 until keys are available).
        tokio::spawn(async move {
            if let Err(e) = source.refresh_now().await {
                tracing::warn!(target: "auth::jwks", error = %e, "initial jwks fetch failed");
            }
        });
    }
    let app = demo_server::app_with(demo)?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    println!("demo-server listening on http://{addr}");
    if let KeySource::Ephemeral(secret) = &config.key {
        let token = demo_server::demo_token(secret, &config.issuer, &config.audience)?;
        let admin = demo_server::demo_admin_token(secret, &config.issuer, &config.audience)?;
        println!(
            "No AUTH_JWT_SECRET set: using an ephemeral HS256 secret (tokens die with this process)."
        );
        println!(
            "Demo token (sub demo-user, role user, scope read:orders, valid 1 hour):\n\n{token}\n"
        );
        println!(
            "Admin token (sub demo-admin, role admin, scopes read:orders write:orders, valid 1 hour):\n\n{admin}\n"
        );
        println!("Try:\n  curl -H \"Authorization: Bearer {token}\" http://{addr}/api/me");
        println!("  curl -H \"Authorization: Bearer {token}\" http://{addr}/api/orders");
        println!("  curl -H \"Authorization: Bearer {admin}\" http://{addr}/api/admin/stats");
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
