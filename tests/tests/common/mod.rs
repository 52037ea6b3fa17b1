//! Instances of the demo that share nothing but their stores (Redis, or PostgreSQL with Redis),
//! served over HTTP on loopback, for the multi-instance and failover tests.
//!
//! Each [`Instance`] is a separate stack: its own `Demo` (built by `demo_server::stores` from a
//! `REDIS_URL`, so its own Redis connection), its own listener on 127.0.0.1, and extra
//! `/session/...` routes built from the library pieces the demo does not route yet (refresh
//! rotation, logout by revocation, a brute-force-protected check with either failure policy):
//!
//! | route | what |
//! |---|---|
//! | `POST /session/start` `{"sub"}` | starts a refresh family: `{"refresh_token"}` |
//! | `POST /session/refresh` `{"refresh_token"}` | rotates: `{"refresh_token"}`, or the error |
//! | `GET /session/me` | `BearerLayer` with the revocation store: `{"sub"}` |
//! | `POST /session/logout` | same layer; revokes the presented token (`Revoker`): 204 |
//! | `POST /session/login-closed`, `/session/login-open` `{"email","password"}` | `BruteForceLayer` failing closed / open; password `right` succeeds |
//!
//! Instances trust `X-Forwarded-For` from 127.0.0.1, so tests can play many clients.

#![allow(dead_code)]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::brute_force::LoginAttempt;
use auth_core::refresh::RefreshTokens;
use auth_core::revocation::Revoker;
use auth_core::{AuthError, Principal};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use auth_tower::brute_force::BruteForceLayer;
use auth_tower::response::{JsonRejection, RejectionResponse};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use demo_server::Demo;
use demo_server::config::Config;
use demo_server::stores::{StoreConfig, Stores};
use serde_json::{Value, json};

/// The HS256 secret every instance shares (as a real deployment shares its signing key).
pub(crate) const SECRET: &str = "a shared multi-instance secret of at least 32 bytes";

/// The key that seals TOTP secrets, shared by every instance (32 bytes).
pub(crate) const MFA_SEALING_KEY: &str = "base64:bXVsdGktaW5zdGFuY2Ugc2VhbGluZyBrZXkgMzIgQiE=";

/// The key recovery codes are digested under, shared by every instance (32 bytes).
pub(crate) const MFA_RECOVERY_KEY: &str = "base64:bXVsdGktaW5zdGFuY2UgcmVjb3Zlcnkga2V5IDMyQiE=";

/// A running instance.
pub(crate) struct Instance {
    pub(crate) base: String,
    pub(crate) stores: Stores,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts an instance whose stores are in the Redis at `redis_url`, under `prefix`.
pub(crate) async fn instance(redis_url: &str, prefix: &str, timeout: Duration) -> Instance {
    instance_with(&StoreConfig {
        redis_url: Some(redis_url.to_owned()),
        redis_prefix: prefix.to_owned(),
        redis_timeout: timeout,
        ..StoreConfig::default()
    })
    .await
}

/// Starts an instance on the stores `config` names (a Redis server or cluster, or PostgreSQL
/// with Redis, whose tables it creates if needed, as the demo does at start-up).
pub(crate) async fn instance_with(config: &StoreConfig) -> Instance {
    let env = [
        ("AUTH_JWT_SECRET", SECRET),
        ("AUTH_DEMO_TRUSTED_PROXIES", "127.0.0.1/32"),
        // With shared stores the demo requires the second factor's keys, the same everywhere.
        ("AUTH_MFA_SEALING_KEY", MFA_SEALING_KEY),
        ("AUTH_MFA_RECOVERY_KEY", MFA_RECOVERY_KEY),
    ];
    let config_env = Config::from_env(|k| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    let (mut demo, _) = Demo::from_config(&config_env).unwrap();
    let stores = Stores::from_config(config).unwrap();
    stores.migrate().await.unwrap();
    stores.apply_to(&mut demo).unwrap();
    let router = demo_server::app_with(demo.clone())
        .unwrap()
        .merge(session_routes(&demo, &stores));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Instance {
        base: format!("http://{addr}"),
        stores,
        task,
    }
}

#[derive(Clone)]
struct Session {
    refresh: RefreshTokens,
    revoker: Revoker,
}

fn session_routes(demo: &Demo, stores: &Stores) -> Router {
    let session = Session {
        refresh: RefreshTokens::builder_shared(Arc::clone(&stores.refresh))
            .build()
            .unwrap(),
        revoker: Revoker::builder(Arc::clone(&stores.revocations))
            .build()
            .unwrap(),
    };
    let bearer = BearerLayer::builder(demo.verifier.clone())
        .revocation(Arc::clone(&stores.revocations))
        .build()
        .unwrap();
    let closed = BruteForceLayer::builder(stores.brute_force.clone())
        .trusted_proxy_list("127.0.0.1/32")
        .build()
        .unwrap();
    let open = BruteForceLayer::builder(stores.brute_force.clone())
        .trusted_proxy_list("127.0.0.1/32")
        .dangerous_fail_open_on_store_error()
        .build()
        .unwrap();
    let authenticated = Router::new()
        .route("/session/me", get(me))
        .route("/session/logout", post(logout))
        .route_layer(bearer);
    Router::new()
        .route("/session/start", post(start))
        .route("/session/refresh", post(refresh))
        .merge(authenticated)
        .route("/session/login-closed", post(check).route_layer(closed))
        .route("/session/login-open", post(check).route_layer(open))
        .with_state(session)
}

fn reject(error: AuthError) -> Response {
    let rejection = Rejection::from_error(error);
    let mut res: Response = JsonRejection.response(&rejection);
    res.extensions_mut().insert(rejection);
    res
}

async fn start(State(s): State<Session>, Json(body): Json<Value>) -> Response {
    let sub = body["sub"].as_str().unwrap_or("nobody").to_owned();
    match s.refresh.issue(&sub).await {
        Ok(t) => Json(json!({"refresh_token": t.token().as_str()})).into_response(),
        Err(e) => reject(e),
    }
}

async fn refresh(State(s): State<Session>, Json(body): Json<Value>) -> Response {
    let presented = body["refresh_token"].as_str().unwrap_or_default();
    match s.refresh.rotate(presented).await {
        Ok(t) => Json(json!({"refresh_token": t.token().as_str()})).into_response(),
        Err(e) => reject(e),
    }
}

async fn me(Extension(p): Extension<Principal>) -> Json<Value> {
    Json(json!({"sub": p.subject()}))
}

async fn logout(State(s): State<Session>, Extension(p): Extension<Principal>) -> Response {
    match s.revoker.revoke_token(&p).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => reject(e),
    }
}

async fn check(Json(body): Json<Value>) -> Response {
    let email = body["email"].as_str().unwrap_or_default().to_owned();
    if body["password"] == "right" {
        (Extension(LoginAttempt::success(email)), "welcome").into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            Extension(LoginAttempt::failure(email)),
            "wrong",
        )
            .into_response()
    }
}

/// An HTTP client for loopback (no proxies, no idle connections kept between tests).
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A request's answer: status and JSON body (`Value::Null` when the body is not JSON).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<String>,
}

impl Answer {
    /// The rejection code, if the body is one.
    pub(crate) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// Sends `method url` with `headers` and an optional JSON body.
pub(crate) async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut req = client.request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&b).unwrap());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = res.bytes().await.unwrap();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        retry_after,
    }
}
