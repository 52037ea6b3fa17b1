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
//! environment variables, and `stores.rs` for `REDIS_URL` (state in Redis, shared by several
//! instances).

use std::process::ExitCode;

use demo_server::Demo;
use demo_server::config::{Config, KeySource};
use demo_server::stores::{StoreConfig, Stores};
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
    let (mut demo, oidc) = Demo::from_config(&config)?;
    demo_server::login::configure(&mut demo, &config);
    // In memory by default; every store in Redis when REDIS_URL is set (several instances then
    // share lockouts, revocations, refresh families and API keys).
    let stores = Stores::from_config(&StoreConfig::from_env(|k| std::env::var(k).ok())?)?;
    stores.apply_to(&mut demo)?;
    if let Some(attempts) = stores.memory_attempts().cloned() {
        // Expired brute-force entries also leave on their own as requests come in; this frees
        // memory when traffic stops. (Redis keys expire by themselves.)
        tokio::spawn(async move {
            use auth_core::brute_force::AttemptStoreHousekeeping as _;
            use auth_core::clock::Clock as _;
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                attempts.purge_expired(auth_core::clock::SystemClock.now());
            }
        });
    }
    if let Some(redis) = stores.redis() {
        match redis.ping().await {
            Ok(()) => println!("State in Redis (key prefix {}).", redis.prefix()),
            Err(e) => eprintln!(
                "demo-server: Redis is not reachable yet ({e}); requests that need it get 503 \
                 until it is"
            ),
        }
    }
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
    println!(
        "Log in (brute-force protected; password from AUTH_DEMO_PASSWORD, default `{}`):\n  \
         curl -X POST -H 'content-type: application/json' \
         -d '{{\"email\":\"{}\",\"password\":\"...\"}}' http://{addr}/auth/login",
        demo_server::login::DEFAULT_DEMO_PASSWORD,
        demo_server::login::DEMO_EMAIL,
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
