//! `GET /api/outbound/{*path}` (issue 13): the demo calls a downstream API with an OAuth 2.0
//! client-credentials token. A small authorization server and the downstream API run on
//! loopback in the test; the demo runs in-process on its manual clock.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use common::{Auth, env};
use demo_server::login::DEMO_EMAIL;
use serde_json::json;

const CLIENT_ID: &str = "demo-client";
/// A secret with the characters RFC 6749 section 2.3.1 makes clients form-encode.
const CLIENT_SECRET: &str = "s3cr et+:%/é";

#[derive(Clone, Default)]
struct Fakes {
    token_requests: Arc<AtomicUsize>,
    /// The token endpoint fails with this status when set.
    token_failure: Arc<Mutex<Option<u16>>>,
    /// What the downstream saw: (path and query, Authorization header).
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

async fn token(State(f): State<Fakes>, headers: HeaderMap) -> Response {
    let n = f.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(status) = *f.token_failure.lock().unwrap() {
        let body = if status == 401 {
            json!({"error": "invalid_client"})
        } else {
            json!({"error": "server_error"})
        };
        return (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
    }
    // client_secret_basic: id and secret form-urlencoded, then Basic.
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{CLIENT_ID}:{}", "s3cr+et%2B%3A%25%2F%C3%A9"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    Json(
        json!({"access_token": format!("downstream-token-{n}"), "token_type": "Bearer",
                "expires_in": 300}),
    )
    .into_response()
}

async fn downstream(State(f): State<Fakes>, uri: Uri, headers: HeaderMap) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let target = uri
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    f.seen.lock().unwrap().push((target.clone(), auth));
    if uri.path().ends_with("/teapot") {
        return (
            StatusCode::IM_A_TEAPOT,
            [(header::CONTENT_TYPE, "text/plain")],
            "short and stout",
        )
            .into_response();
    }
    Json(json!({"orders": [1, 2], "you_asked_for": target})).into_response()
}

/// The authorization server and the downstream API on one loopback listener.
async fn serve_fakes() -> (String, Fakes) {
    let fakes = Fakes::default();
    let app = Router::new()
        .route("/token", post(token))
        .route("/api/{*rest}", get(downstream))
        .with_state(fakes.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (origin, fakes)
}

fn demo_with(origin: &str) -> common::Env {
    env(&[
        ("AUTH_OUTBOUND_URL", &format!("{origin}/api")),
        ("AUTH_OUTBOUND_TOKEN_URL", &format!("{origin}/token")),
        ("AUTH_OUTBOUND_CLIENT_ID", CLIENT_ID),
        ("AUTH_OUTBOUND_CLIENT_SECRET", CLIENT_SECRET),
    ])
}

async fn login(e: &common::Env) -> String {
    e.login(DEMO_EMAIL, "demo-password")
        .await
        .str("access_token")
}

#[tokio::test]
async fn an_authenticated_call_reaches_the_downstream_with_a_token_and_relays_its_answer() {
    let (origin, fakes) = serve_fakes().await;
    let e = demo_with(&origin);
    let access = login(&e).await;
    let r = e
        .call(
            "GET",
            "/api/outbound/orders/7?page=2&q=a%20b",
            Auth::Bearer(&access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.body["you_asked_for"], "/api/orders/7?page=2&q=a%20b");
    let seen = fakes.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(
            "/api/orders/7?page=2&q=a%20b".to_owned(),
            "Bearer downstream-token-1".to_owned()
        )]
    );
    // The downstream's own status and content type come through; the token is reused.
    let r = e
        .call("GET", "/api/outbound/teapot", Auth::Bearer(&access), None)
        .await;
    assert_eq!(r.status, 418);
    assert_eq!(r.headers["content-type"], "text/plain");
    assert_eq!(fakes.token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_a_token_the_answer_is_503_and_the_downstream_receives_nothing() {
    let (origin, fakes) = serve_fakes().await;
    *fakes.token_failure.lock().unwrap() = Some(401);
    let e = demo_with(&origin);
    let access = login(&e).await;
    let r = e
        .call("GET", "/api/outbound/orders", Auth::Bearer(&access), None)
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.code(), "OUTBOUND_TOKEN_UNAVAILABLE");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("invalid_client"), "{message}");
    assert!(!message.contains("s3cr"), "{message}");
    assert!(fakes.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn anonymous_callers_and_dot_segments_are_refused_before_any_token_request() {
    let (origin, fakes) = serve_fakes().await;
    let e = demo_with(&origin);
    let r = e
        .call("GET", "/api/outbound/orders", Auth::None, None)
        .await;
    assert_eq!(r.status, 401);
    let access = login(&e).await;
    for path in ["/api/outbound/../admin", "/api/outbound/%2e%2e/admin"] {
        let r = e.call("GET", path, Auth::Bearer(&access), None).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
    }
    assert_eq!(fakes.token_requests.load(Ordering::SeqCst), 0);
    assert!(fakes.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn without_auth_outbound_url_the_route_answers_404() {
    let e = env(&[]);
    let access = login(&e).await;
    let r = e
        .call("GET", "/api/outbound/orders", Auth::Bearer(&access), None)
        .await;
    assert_eq!(r.status, 404);
}

#[test]
fn outbound_settings_are_checked_at_start_up_naming_the_variable() {
    let read = |vars: &[(&str, &str)]| {
        demo_server::config::Config::from_env(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    };
    let base = ("AUTH_OUTBOUND_URL", "https://api.example");
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("AUTH_OUTBOUND_CLIENT_ID", "x")], "AUTH_OUTBOUND_URL"),
        (
            &[base, ("AUTH_OUTBOUND_CLIENT_ID", "x")],
            "AUTH_OUTBOUND_TOKEN_URL",
        ),
        (
            &[
                ("AUTH_OUTBOUND_URL", "http://api.example"),
                ("AUTH_OUTBOUND_TOKEN_URL", "https://as.example/token"),
            ],
            "AUTH_OUTBOUND_URL",
        ),
        (
            &[
                base,
                ("AUTH_OUTBOUND_TOKEN_URL", "https://as.example/token"),
                ("AUTH_OUTBOUND_CLIENT_ID", "x"),
            ],
            "AUTH_OUTBOUND_CLIENT_SECRET",
        ),
        (
            &[
                base,
                ("AUTH_OUTBOUND_TOKEN_URL", "https://as.example/token"),
                ("AUTH_OUTBOUND_CLIENT_ID", "x"),
                ("AUTH_OUTBOUND_AUTH", "private_key_jwt"),
            ],
            "AUTH_OUTBOUND_PRIVATE_KEY_FILE",
        ),
    ];
    for (vars, named) in cases {
        let err = read(vars).unwrap_err().to_string();
        assert!(err.contains(named), "{vars:?}: {err}");
        assert!(!err.contains("s3cr"), "{err}");
    }
    let ok = read(&[
        base,
        ("AUTH_OUTBOUND_ISSUER", "https://as.example"),
        ("AUTH_OUTBOUND_CLIENT_ID", "x"),
        ("AUTH_OUTBOUND_AUTH", "client_secret_post"),
        ("AUTH_OUTBOUND_CLIENT_SECRET", "y"),
        ("AUTH_OUTBOUND_SCOPE", "orders:read orders:list"),
    ]);
    assert!(ok.unwrap().outbound.is_some());
}
