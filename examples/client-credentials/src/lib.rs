//! A service calling another with OAuth 2.0 client credentials, in one process on 127.0.0.1:
//!
//! - [`auth_server`]: a small authorization server: `POST /token` (client credentials grant,
//!   `client_secret_basic`, JWT access tokens signed by a [`KeyRing`]) and `GET /jwks`.
//! - [`orders_api`]: the downstream API, `GET /orders` behind `BearerLayer` (keys from the
//!   authorization server's JWKS) and `ScopeLayer` (`orders:read`).
//! - [`reports_service`]: the caller, `GET /report`, which fetches `/orders` through an HTTP
//!   client wrapped in `AccessTokenLayer`: a `TokenManager` gets, caches and renews the token;
//!   when none can be had, `/report` answers 503 `OUTBOUND_TOKEN_UNAVAILABLE` and the orders
//!   API receives nothing.
//!
//! Run it with `cargo run -p client-credentials` (see `main.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::jwks::JwksSource;
use auth_core::jwt::{AccessGrant, Algorithm, JwtVerifier, KeyRing, SigningKey, TokenIssuer};
use auth_core::oauth_client::{ClientAuth, TokenError, TokenManager};
use auth_core::scope::Requirement;
use auth_tower::bearer::BearerLayer;
use auth_tower::client::{AccessToken, AccessTokenLayer, OutboundError, ReqwestService};
use auth_tower::scope::ScopeLayer;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use serde_json::json;
use tower::{Layer as _, ServiceExt as _};

/// The audience of the orders API's tokens.
pub const ORDERS_AUDIENCE: &str = "orders-api";
/// The scope `/orders` requires.
pub const ORDERS_SCOPE: &str = "orders:read";

/// A registered client of the authorization server.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    /// Its secret (compared in constant time).
    pub secret: String,
    /// The scopes it may be granted.
    pub scopes: Vec<String>,
}

/// The authorization server's state; `token_requests` counts `POST /token`.
#[derive(Clone, Debug)]
pub struct AuthServer {
    issuer: TokenIssuer,
    ring: KeyRing,
    clients: Arc<HashMap<String, RegisteredClient>>,
    /// How many token requests were made.
    pub token_requests: Arc<AtomicUsize>,
}

impl AuthServer {
    /// An authorization server for `issuer` (its URL) with these clients, issuing tokens for
    /// [`ORDERS_AUDIENCE`] that live `lifetime`.
    ///
    /// # Errors
    ///
    /// When the signing key cannot be generated or the issuer is misconfigured.
    pub fn new(
        issuer_url: &str,
        clients: HashMap<String, RegisteredClient>,
        lifetime: Duration,
    ) -> Result<Self, auth_core::ConfigError> {
        let ring = KeyRing::new(SigningKey::generate(Algorithm::ES256, "as-key-1")?);
        let issuer = TokenIssuer::builder(ring.clone())
            .issuer(issuer_url)
            .audience(ORDERS_AUDIENCE)
            .lifetime(lifetime)
            .build()?;
        Ok(Self {
            issuer,
            ring,
            clients: Arc::new(clients),
            token_requests: Arc::default(),
        })
    }
}

/// `application/x-www-form-urlencoded` decoding of one component (`+` is a space).
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).ok()
}

/// The client id and secret of an RFC 6749 section 2.3.1 `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = value.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": error })),
    )
        .into_response()
}

async fn token(
    State(server): State<AuthServer>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    server.token_requests.fetch_add(1, Ordering::SeqCst);
    let client = basic_credentials(&headers).and_then(|(id, secret)| {
        let c = server.clients.get(&id)?;
        auth_core::constant_time::secrets_equal(c.secret.as_bytes(), secret.as_bytes())
            .then(|| (id, c.clone()))
    });
    let Some((client_id, client)) = client else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let requested: Vec<&str> = form
        .get("scope")
        .map(|s| s.split(' ').collect())
        .unwrap_or_default();
    if requested
        .iter()
        .any(|s| !client.scopes.iter().any(|c| c == s))
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    }
    let grant = AccessGrant::new(client_id.clone())
        .client_id(client_id)
        .scopes(requested.iter().copied());
    match server.issuer.issue(&grant) {
        Ok(t) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({
                "access_token": t.as_str(),
                "token_type": "Bearer",
                "expires_in": t.expires_in().as_secs(),
                "scope": requested.join(" "),
            })),
        )
            .into_response(),
        Err(_) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

/// The authorization server's routes: `POST /token`, `GET /jwks`.
pub fn auth_server(server: AuthServer) -> Router {
    Router::new()
        .route("/token", post(token))
        .route(
            "/jwks",
            get(|State(s): State<AuthServer>| async move {
                let doc = s.ring.public_jwks().document(Duration::from_secs(300));
                (
                    [
                        (header::CONTENT_TYPE, doc.content_type().to_owned()),
                        (header::CACHE_CONTROL, doc.cache_control().to_owned()),
                    ],
                    doc.body().to_owned(),
                )
            }),
        )
        .with_state(server)
}

/// The orders API: `GET /orders` for tokens from `issuer_url` (keys from its `/jwks`) with
/// [`ORDERS_SCOPE`]; `hits` counts the requests that reached the handler.
///
/// # Errors
///
/// When the verifier cannot be built.
pub fn orders_api(
    issuer_url: &str,
    hits: Arc<AtomicUsize>,
) -> Result<Router, auth_core::ConfigError> {
    let keys = JwksSource::from_jwks_uri(format!("{issuer_url}/jwks")).build()?;
    let verifier = JwtVerifier::builder()
        .jwks(keys)
        .issuer(issuer_url)
        .audience(ORDERS_AUDIENCE)
        .build()?;
    Ok(Router::new()
        .route(
            "/orders",
            get(move |p: axum::Extension<auth_core::Principal>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                Json(json!({
                    "caller": p.subject(),
                    "orders": [{"id": 1, "total": 42}, {"id": 2, "total": 7}],
                }))
            }),
        )
        .layer(ScopeLayer::new(Requirement::scope(ORDERS_SCOPE)))
        .layer(BearerLayer::new(verifier)))
}

/// The outbound HTTP client of the reports service: reqwest (no redirects) behind
/// `AccessTokenLayer`.
pub type OutboundClient = AccessToken<ReqwestService>;

/// A token manager for client `client_id` at `issuer_url`'s token endpoint, asking for
/// [`ORDERS_SCOPE`].
///
/// # Errors
///
/// When the configuration is invalid.
pub fn token_manager(
    issuer_url: &str,
    client_id: &str,
    secret: &str,
) -> Result<TokenManager, auth_core::ConfigError> {
    TokenManager::builder(ClientAuth::client_secret_basic(client_id, secret)?)
        .token_endpoint(format!("{issuer_url}/token"))
        .scope(ORDERS_SCOPE)
        .build()
}

/// `tokens` on a reqwest client.
///
/// # Errors
///
/// When reqwest's TLS backend cannot be initialised.
pub fn outbound_client(tokens: TokenManager) -> Result<OutboundClient, reqwest::Error> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    Ok(AccessTokenLayer::new(tokens).layer(ReqwestService::new(http)))
}

#[derive(Clone)]
struct Reports {
    client: OutboundClient,
    orders_url: Arc<str>,
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

async fn report(State(r): State<Reports>) -> Response {
    let request = match http::Request::get(&*r.orders_url).body(reqwest::Body::from("")) {
        Ok(req) => req,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    };
    match r.client.clone().oneshot(request).await {
        Ok(res) if res.status().is_success() => {
            let body = reqwest::Response::from(res)
                .json::<serde_json::Value>()
                .await;
            match body {
                Ok(orders) => Json(json!({ "report": orders })).into_response(),
                Err(e) => error(StatusCode::BAD_GATEWAY, "BAD_GATEWAY", e.to_string()),
            }
        }
        Ok(res) => error(
            StatusCode::BAD_GATEWAY,
            "BAD_GATEWAY",
            format!("the orders api answered {}", res.status()),
        ),
        Err(OutboundError::Token(e)) => token_unavailable(&e),
        Err(e) => error(StatusCode::BAD_GATEWAY, "BAD_GATEWAY", e.to_string()),
    }
}

/// 503 `OUTBOUND_TOKEN_UNAVAILABLE`, naming the reason class (never the secret).
pub fn token_unavailable(e: &TokenError) -> Response {
    let status =
        StatusCode::from_u16(TokenError::HTTP_STATUS).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    error(
        status,
        TokenError::CODE,
        format!("no access token for the downstream api ({})", e.class()),
    )
}

/// The reports service: `GET /report` fetches `orders_url` through `client`.
pub fn reports_service(client: OutboundClient, orders_url: &str) -> Router {
    Router::new()
        .route("/report", get(report))
        .with_state(Reports {
            client,
            orders_url: Arc::from(orders_url),
        })
}

/// Serves `router` on `listener` in a background task.
pub fn spawn(listener: tokio::net::TcpListener, router: Router) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(%e, "server stopped");
        }
    })
}
