//! The demo API, as a library so tests can drive it in-process.
//!
//! Routes (a public contract; clients and tests outside this repository rely on them):
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /health` | none | 200 `{"status":"ok"}` |
//! | `GET /.well-known/jwks.json` | none | 200 JWK Set of the demo's public verification keys (`{"keys":[]}` for HS256), `Cache-Control: public, max-age=300` |
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
//! With `AUTH_OIDC_ISSUER` and `AUTH_OIDC_AUDIENCE`, tokens from that OpenID Provider are
//! accepted too: the token's `iss` picks the demo's own key or the provider's JWKS (found by
//! discovery, cached and refreshed in the background); see [`verifier`].
//!
//! Failures are the layer's: 401 (400 for malformed headers) with `WWW-Authenticate` and
//! `{"error":{"code":"...","message":"..."}}`.

pub mod config;
pub mod keys;
pub mod login;
pub mod orders;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_axum_extractors::Principal;
use auth_core::ConfigError;
use auth_core::api_key::{ApiKeys, MemoryApiKeyStore};
use auth_core::jwks::JwksSource;
use auth_core::jwt::{JwtVerifier, PublicJwkSet, TrustedIssuer};
use auth_tower::bearer::BearerLayer;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::config::Config;

/// How long clients may cache the demo's JWK Set (`Cache-Control: max-age`). A key added to
/// the set must be published at least this long before it signs anything.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(300);

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
    /// The public keys served at `GET /.well-known/jwks.json`.
    pub public_keys: Arc<PublicJwkSet>,
    /// Remembers verified bearer tokens (off by default; see [`Demo::with_token_cache`]).
    pub token_cache: Option<auth_core::jwt::TokenCache>,
}

impl Demo {
    /// The demo with in-memory defaults around a verifier, publishing no keys.
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
            public_keys: Arc::new(PublicJwkSet::default()),
            token_cache: None,
        }
    }

    /// Lets the bearer routes answer a token seen before from `cache` (its signature is not
    /// checked again; expiry and revocation still are). The load benchmark turns it on.
    #[must_use]
    pub fn with_token_cache(mut self, cache: auth_core::jwt::TokenCache) -> Self {
        self.token_cache = Some(cache);
        self
    }

    /// Publishes these keys at `GET /.well-known/jwks.json`.
    #[must_use]
    pub fn with_public_keys(mut self, keys: PublicJwkSet) -> Self {
        self.public_keys = Arc::new(keys);
        self
    }

    /// The demo as configured: its verifier (see [`verifier`]) and its public keys.
    ///
    /// # Errors
    ///
    /// As [`verifier`].
    pub fn from_config(config: &Config) -> Result<(Self, Option<JwksSource>), ConfigError> {
        let (verifier, oidc) = verifier(config)?;
        let keys = PublicJwkSet::from_keys([&config.verification_key()?])?;
        Ok((Self::new(verifier).with_public_keys(keys), oidc))
    }
}

/// The demo's verifier: its own key, issuer and audience; with `AUTH_OIDC_ISSUER`, also the
/// OpenID Provider's tokens (keys by discovery and JWKS; the token's `iss` selects which).
/// Returns the provider's key source too, so the caller can prime it.
///
/// # Errors
///
/// When a key, URL or setting is invalid.
pub fn verifier(config: &Config) -> Result<(JwtVerifier, Option<JwksSource>), ConfigError> {
    let own = config.verification_key()?;
    let Some(oidc) = &config.oidc else {
        let verifier = JwtVerifier::builder()
            .key(own)
            .issuer(config.issuer.clone())
            .audience(config.audience.clone())
            .build()?;
        return Ok((verifier, None));
    };
    let source = JwksSource::from_oidc_issuer(oidc.issuer.clone()).build()?;
    let verifier = JwtVerifier::builder()
        .trusted_issuer(
            TrustedIssuer::with_keys(config.issuer.clone(), [own])?
                .audience(config.audience.clone()),
        )
        .trusted_issuer(TrustedIssuer::jwks(source.clone())?.audience(oidc.audience.clone()))
        .build()?;
    Ok((verifier, Some(source)))
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
    let bearer = || {
        let b = BearerLayer::builder(demo.verifier.clone()).realm(REALM);
        match &demo.token_cache {
            Some(cache) => b.token_cache(cache.clone()),
            None => b,
        }
    };
    let required = bearer().build()?;
    let optional = bearer().optional().build()?;
    let jwks = demo.public_keys.document(JWKS_MAX_AGE);
    let router = Router::new()
        .route("/health", get(health))
        .route(
            "/.well-known/jwks.json",
            get(move || {
                let jwks = jwks.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, jwks.content_type().to_owned()),
                            (header::CACHE_CONTROL, jwks.cache_control().to_owned()),
                        ],
                        jwks.body().to_owned(),
                    )
                        .into_response()
                }
            }),
        )
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
