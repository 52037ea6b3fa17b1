//! `GET /api/me` (who the token says you are, and how you logged in) and `GET /api/hello`
//! (anonymous allowed).
//!
//! `GET /api/me` answers `{"sub","roles","scopes","auth_method","mfa":{"totp":bool},"amr":[..]}`:
//! `mfa.totp` says whether the account has an active TOTP second factor, `amr` is the token's
//! (`["pwd"]` after a password login, `["pwd","otp","mfa"]` after a second factor, `[]` for a
//! token without one).

use std::sync::Arc;

use auth_axum_extractors::Principal;
use auth_core::ConfigError;
use auth_core::mfa::Mfa;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::Demo;
use crate::issuers::AccountKeys;
use crate::tokens::rejection;

#[derive(Clone, Debug)]
struct Me {
    mfa: Mfa,
    accounts: AccountKeys,
}

/// `GET /api/me` (bearer required) and `GET /api/hello` (bearer optional).
pub(crate) fn router(demo: &Demo) -> Result<Router, ConfigError> {
    let state = Arc::new(Me {
        mfa: demo.mfa.clone(),
        accounts: demo.accounts.clone(),
    });
    Ok(Router::new()
        .route("/api/me", get(me).layer(demo.bearer()?))
        .route("/api/hello", get(hello).layer(demo.optional_bearer()?))
        .with_state(state))
}

async fn me(State(state): State<Arc<Me>>, p: Principal) -> Response {
    let totp = match state.mfa.is_enabled(&state.accounts.key(&p)).await {
        Ok(on) => on,
        Err(e) => return rejection(e),
    };
    let amr: Vec<Value> = p
        .claims()
        .and_then(|c| c.get("amr"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter(|v| v.is_string()).cloned().collect())
        .unwrap_or_default();
    Json(json!({
        "sub": p.subject(),
        "roles": p.roles(),
        "scopes": p.scopes(),
        "auth_method": p.auth_method().as_str(),
        "mfa": {"totp": totp},
        "amr": amr,
    }))
    .into_response()
}

async fn hello(p: Option<Principal>) -> Json<Value> {
    let who = p.as_ref().map_or("anonymous", |p| p.subject());
    Json(json!({ "message": format!("hello {who}") }))
}
