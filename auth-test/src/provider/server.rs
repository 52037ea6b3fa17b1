//! The provider's routes: discovery, JWKS, and the fault injection they share.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Endpoint, Fault, State, discovery_document, flows, lock};

pub(super) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/authorize", get(authorize))
        .with_state(state)
}

/// A JSON response.
pub(super) fn json_response(status: u16, body: &Value) -> Response {
    let mut res = Response::new(Body::from(body.to_string()));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Counts the request and applies the endpoint's fault: `Some(response)` to answer with
/// instead of the normal one. A slow fault waits, then lets the normal answer through.
pub(super) async fn faulted(state: &State, endpoint: Endpoint) -> Option<Response> {
    state.count(endpoint);
    match state.fault(endpoint)? {
        Fault::Slow(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Fault::Status(status) => Some(json_response(status, &json!({}))),
        Fault::InvalidJson => {
            let mut res = json_response(200, &json!({}));
            *res.body_mut() = Body::from("{\"this is\": not json");
            Some(res)
        }
        Fault::OAuthError(status, error) if endpoint == Endpoint::Token => {
            Some(json_response(status, &json!({ "error": error })))
        }
        // Faults meant for other endpoints leave this one alone.
        Fault::NoKeys | Fault::OAuthError(..) => None,
    }
}

async fn discovery(Extract(state): Extract<Arc<State>>) -> Response {
    if let Some(res) = faulted(&state, Endpoint::Discovery).await {
        return res;
    }
    json_response(200, &discovery_document(&state))
}

async fn jwks(Extract(state): Extract<Arc<State>>) -> Response {
    if let Some(res) = faulted(&state, Endpoint::Jwks).await {
        return res;
    }
    let keys: Vec<Value> = if state.fault(Endpoint::Jwks) == Some(Fault::NoKeys) {
        Vec::new()
    } else {
        lock(&state.keys)
            .published
            .iter()
            .filter_map(|k| k.public_jwk().map(Value::Object))
            .collect()
    };
    let mut res = json_response(200, &json!({ "keys": keys }));
    if let Some(cc) = lock(&state.jwks_cache_control).as_deref()
        && let Ok(v) = HeaderValue::from_str(cc)
    {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    res
}

async fn token(Extract(state): Extract<Arc<State>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(res) = faulted(&state, Endpoint::Token).await {
        return res;
    }
    flows::token(&state, &headers, &body)
}

async fn authorize(Extract(state): Extract<Arc<State>>, uri: Uri) -> Response {
    if let Some(res) = faulted(&state, Endpoint::Authorize).await {
        return res;
    }
    flows::authorize(&state, uri.query().unwrap_or_default())
}
