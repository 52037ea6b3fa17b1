//! The demo server: an auth service (register, login, refresh, logout, cookie sessions) in
//! front of a JWT-protected API, with in-memory defaults.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p demo-server
//! ```
//!
//! It listens on 127.0.0.1:3000 (`AUTH_DEMO_ADDR` overrides) and serves a browser page at `/`.
//! With no key configured it makes an ephemeral HS256 secret and prints ready-to-use tokens,
//! issued by its `TokenIssuer`. See `config.rs` for the environment variables, and `stores.rs`
//! for `REDIS_URL` (state in Redis, shared by several instances).

use std::process::ExitCode;

use auth_core::jwt::AccessGrant;
use demo_server::Demo;
use demo_server::config::{Config, KeySource};
use demo_server::observability::{self, LogFormat};
use demo_server::roles::Role;
use demo_server::stores::{StoreConfig, Stores};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr; stdout carries the address and the ready-to-use tokens.
    let format = match LogFormat::from_env(std::env::var("AUTH_DEMO_LOG_FORMAT").ok().as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("demo-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,auth=debug"));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::from_env(|k| std::env::var(k).ok())?;
    // Bound first: the address (port 0 picks one) is the default public URL, from which the
    // login providers' redirect URIs are made.
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    config.login.listening_on(addr);
    let (mut demo, oidc) = Demo::from_config(&config)?;
    // In memory by default; every store in Redis when REDIS_URL is set (several instances then
    // share lockouts, revocations, refresh families and API keys).
    // With DATABASE_URL, users, API keys, refresh families, revocations, identities and MFA
    // state are in PostgreSQL (the tables are created or upgraded here, and a bounded sweep
    // deletes expired rows every minute); brute-force counters stay in Redis or memory.
    let stores = Stores::from_config(&StoreConfig::from_env(|k| std::env::var(k).ok())?)?;
    stores.apply_to(&mut demo)?;
    stores
        .migrate()
        .await
        .map_err(|e| format!("DATABASE_URL: migrations failed: {e}"))?;
    let _sweeper = stores
        .postgres()
        .map(|pg| auth_postgres::Sweeper::new(pg.clone()).spawn(auth_core::clock::SystemClock));
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
    let issuer = demo.issuer.clone();
    let login = demo.provider_login.clone();
    let metrics =
        observability::metrics_enabled(std::env::var("AUTH_DEMO_METRICS").ok().as_deref())?;
    let mut app = demo_server::app_with(demo)?;
    if metrics {
        app = app.merge(observability::metrics_router(
            observability::install_prometheus()?,
        ));
    }
    // The first line is read by tests that start the binary on port 0.
    println!("demo-server listening on http://{addr}");
    if stores.postgres().is_some() {
        println!(
            "Durable state in PostgreSQL (tables {}*).",
            demo_server::stores::DEFAULT_DATABASE_PREFIX
        );
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
    match (&config.key, &issuer) {
        (KeySource::Ephemeral(_), Some(issuer)) => {
            let user = Role::User;
            let admin = Role::Admin;
            let token = issuer.issue(
                &AccessGrant::new(demo_server::users::DEMO_SUBJECT)
                    .role(user.as_str())
                    .scopes(user.default_scopes().iter().copied()),
            )?;
            let admin_token = issuer.issue(
                &AccessGrant::new("demo-admin")
                    .role(admin.as_str())
                    .scopes(admin.default_scopes().iter().copied()),
            )?;
            let secs = issuer.lifetime().as_secs();
            let valid = if secs % 60 == 0 {
                format!("{} minutes", secs / 60)
            } else {
                format!("{secs} seconds")
            };
            println!(
                "No AUTH_JWT_SECRET set: signing with an ephemeral HS256 secret (tokens die with this process)."
            );
            println!(
                "Demo token (sub demo-user, role user, scope read:orders, valid {valid}):\n\n{}\n",
                token.as_str()
            );
            println!(
                "Admin token (sub demo-admin, role admin, scopes read:orders write:orders, valid {valid}):\n\n{}\n",
                admin_token.as_str()
            );
            println!(
                "Try:\n  curl -H \"Authorization: Bearer {}\" http://{addr}/api/me",
                token.as_str()
            );
            println!(
                "  curl -H \"Authorization: Bearer {}\" http://{addr}/api/admin/stats",
                admin_token.as_str()
            );
        }
        (_, None) => println!(
            "Verify-only: AUTH_JWT_PUBLIC_KEY_FILE is a public key, so login, refresh and \
             sessions answer 503 (set AUTH_JWT_SECRET or AUTH_JWT_PRIVATE_KEY_FILE to issue)."
        ),
        _ => {}
    }
    println!(
        "Register, then log in (brute-force protected; the seeded {} has the password from \
         AUTH_DEMO_PASSWORD, default `{}`):\n  \
         curl -X POST -H 'content-type: application/json' \
         -d '{{\"email\":\"you@example.com\",\"password\":\"at least 8 chars\"}}' http://{addr}/auth/register\n  \
         curl -X POST -H 'content-type: application/json' \
         -d '{{\"email\":\"you@example.com\",\"password\":\"at least 8 chars\"}}' http://{addr}/auth/login",
        demo_server::users::DEMO_EMAIL,
        demo_server::users::DEFAULT_DEMO_PASSWORD,
    );
    if let Some(notice) = config.admin_notice() {
        if config.admin_password.is_some() {
            tracing::info!(target: "demo::config", "{notice}");
        } else {
            tracing::warn!(target: "demo::config", "{notice}");
        }
        println!("{notice}");
    }
    if let Some(login) = login {
        for name in login.provider_names() {
            println!(
                "Sign in with {name}: http://{addr}/auth/login/{name} (redirect URI {}).",
                config.login.redirect_uri(name)
            );
        }
        // Discovery now, so a misconfigured provider shows at start-up (logins retry it).
        tokio::spawn(async move {
            if let Err(e) = login.discover().await {
                tracing::warn!(target: "demo::provider_login", error = %e, "provider discovery failed");
            }
        });
    }
    // The last line of the start-up text (tests that read it stop here).
    println!("Browser session (cookies + CSRF): open http://{addr}/");
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
