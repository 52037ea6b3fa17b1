//! The demo API, as a library so tests can drive it in-process.
//!
//! Routes (a public contract; clients and tests outside this repository rely on them):
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /health` | none | 200 `{"status":"ok"}` |
//! | `GET /api/me` | bearer required | 200 `{"sub","roles","scopes","auth_method"}` |
//! | `GET /api/hello` | bearer optional | 200 `{"message":"hello <sub>"}` or `"hello anonymous"` |
//! | `GET /api/orders` | scope `read:orders` | 200 `{"subject","orders":[..]}` |
//! | `POST /api/orders/{id}/refund` | permission `orders:refund` | 200 `{"order_id","status","refunded_by"}` |
//! | `GET /api/admin/stats` | role `admin` | 200 `{"requested_by","orders","refunds"}` |
//! | `POST /api/keys` | bearer required | 201 `{"id","api_key","name","scopes","expires_at"}` |
//! | `GET /api/keys` | bearer required | 200 `{"keys":[..]}` (never a plaintext or digest) |
//! | `DELETE /api/keys/{id}` | bearer required | 204; 404 unless the caller owns it |
//! | `POST /api/keys/{id}/rotate` | bearer required | 201, the replacement, as on creation |
//! | `POST /auth/login` | none; brute-force protected | 200 `{"access_token","token_type","expires_in"}`, 401 `INVALID_CREDENTIALS`, 429 `TOO_MANY_ATTEMPTS` |
//!
//! The orders routes accept a bearer token or an API key (`X-API-Key: demo_live_...`); see
//! [`keys`] for the key routes' bodies and errors.
//!
//! `POST /auth/login` is behind `BruteForceLayer` (see [`login`]).
//!
//! Failures are the layer's: 401 (400 for malformed headers) with `WWW-Authenticate` and
//! `{"error":{"code":"...","message":"..."}}`.

pub mod config;
pub mod keys;
pub mod login;
pub mod orders;

use std::time::{SystemTime, UNIX_EPOCH};

use auth_axum_extractors::Principal;
use auth_core::ConfigError;
use auth_core::api_key::{ApiKeys, MemoryApiKeyStore};
use auth_core::jwt::JwtVerifier;
use auth_tower::bearer::BearerLayer;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// The realm named in the demo's `WWW-Authenticate` challenges.
pub const REALM: &str = "auth-demo";

/// Everything the demo's routes share: the verifier and (as features land) the stores and
/// policies. Each feature module adds its own field and builds its routes from this.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Demo {
    /// Verifies bearer tokens.
    pub verifier: JwtVerifier,
    /// API keys (`demo_live_...`) over the key store: in memory by default, see [`keys`].
    pub api_keys: ApiKeys,
    /// Brute-force protection of `POST /auth/login` (in-memory store, system clock).
    pub brute_force: auth_core::brute_force::BruteForceLimiter,
    /// Proxies whose `X-Forwarded-For` is believed (`AUTH_DEMO_TRUSTED_PROXIES`; none by default).
    pub trusted_proxies: auth_tower::brute_force::TrustedProxies,
    /// The accounts `/auth/login` checks (`demo@example.com`), see [`login`].
    pub accounts: login::Accounts,
    /// The HS256 secret `/auth/login` signs with; `None` (public key only) answers 503.
    pub signing_secret: Option<login::SigningSecret>,
    /// `iss` of the tokens `/auth/login` issues.
    pub token_issuer: String,
    /// `aud` of the tokens `/auth/login` issues.
    pub token_audience: String,
}

impl Demo {
    /// The demo with in-memory defaults around a verifier.
    #[must_use]
    pub fn new(verifier: JwtVerifier) -> Self {
        Self {
            verifier,
            api_keys: ApiKeys::new(MemoryApiKeyStore::new(), keys::DEMO_KEY_PREFIX),
            brute_force: auth_core::brute_force::BruteForceLimiter::new(
                auth_core::brute_force::BruteForcePolicy::default(),
            ),
            trusted_proxies: auth_tower::brute_force::TrustedProxies::none(),
            accounts: login::Accounts::default(),
            signing_secret: None,
            token_issuer: config::DEFAULT_ISSUER.to_owned(),
            token_audience: config::DEFAULT_AUDIENCE.to_owned(),
        }
    }
}

/// Builds the demo router around a verifier, with in-memory defaults.
///
/// # Errors
///
/// Only if the fixed realm were invalid (it is not).
pub fn app(verifier: JwtVerifier) -> Result<Router, ConfigError> {
    app_with(Demo::new(verifier))
}

/// Builds the demo router from its shared parts.
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn app_with(demo: Demo) -> Result<Router, ConfigError> {
    let required = BearerLayer::builder(demo.verifier.clone())
        .realm(REALM)
        .build()?;
    let optional = BearerLayer::builder(demo.verifier.clone())
        .realm(REALM)
        .optional()
        .build()?;
    let router = Router::new()
        .route("/health", get(health))
        .route("/api/me", get(me).layer(required))
        .route("/api/hello", get(hello).layer(optional))
        .merge(orders::router(&demo)?)
        .merge(keys::router(&demo)?)
        .merge(login::router(&demo)?);
    Ok(router)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn me(p: Principal) -> Json<Value> {
    Json(json!({
        "sub": p.subject(),
        "roles": p.roles(),
        "scopes": p.scopes(),
        "auth_method": p.auth_method().as_str(),
    }))
}

async fn hello(p: Option<Principal>) -> Json<Value> {
    let who = p.as_ref().map_or("anonymous", |p| p.subject());
    Json(json!({ "message": format!("hello {who}") }))
}

/// Signs a one-hour HS256 demo token for `demo-user` with role `user` and scope `read:orders`.
///
/// # Errors
///
/// When signing or the OS random source fails.
pub fn demo_token(secret: &[u8], issuer: &str, audience: &str) -> Result<String, ConfigError> {
    demo_token_for(
        secret,
        issuer,
        audience,
        "demo-user",
        &["user"],
        "read:orders",
    )
}

/// Signs a one-hour HS256 demo token for `demo-admin` with role `admin` and scopes
/// `read:orders write:orders`.
///
/// # Errors
///
/// When signing or the OS random source fails.
pub fn demo_admin_token(
    secret: &[u8],
    issuer: &str,
    audience: &str,
) -> Result<String, ConfigError> {
    demo_token_for(
        secret,
        issuer,
        audience,
        "demo-admin",
        &["admin"],
        "read:orders write:orders",
    )
}

/// Signs a one-hour HS256 token with the given subject, roles and space-delimited scopes.
///
/// # Errors
///
/// When signing or the OS random source fails.
pub fn demo_token_for(
    secret: &[u8],
    issuer: &str,
    audience: &str,
    subject: &str,
    roles: &[&str],
    scope: &str,
) -> Result<String, ConfigError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| ConfigError::Input(e.to_string()))?
        .as_secs();
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| ConfigError::Input(e.to_string()))?;
    let jti: String = jti.iter().map(|b| format!("{b:02x}")).collect();
    let claims = json!({
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + 3600,
        "jti": jti,
        "roles": roles,
        "scope": scope,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .map_err(|e| ConfigError::Input(format!("signing the demo token failed: {e}")))
}
