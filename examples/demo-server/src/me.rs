//! `GET /api/me` (who the token says you are, and how you logged in) and `GET /api/hello`
//! (anonymous allowed).
//!
//! `GET /api/me` answers `{"sub","roles","scopes","auth_method","mfa":{"totp":bool},"amr":[..]}`:
//! `mfa.totp` says whether the account has an active TOTP second factor, `amr` is the token's
//! (`["pwd"]` after a password login, `["pwd","otp","mfa"]` after a second factor, `["ext"]`
//! after a provider sign-in, `[]` for a token without one). An account with linked provider
//! identities also gets `"identities":[{"provider","iss","sub"}]`, oldest link first (see
//! [`crate::provider_login`]); the field is absent for an account without any.

use std::sync::Arc;

use auth_axum_extractors::Authenticated;
use auth_axum_extractors::openapi::{self, Access, SecuredRoutes};
use auth_core::ConfigError;
use auth_core::mfa::Mfa;
use auth_core::oidc_login::IdentityStore;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Demo;
use crate::issuers::AccountKeys;
use crate::tokens::rejection;

#[derive(Clone, Debug)]
struct Me {
    mfa: Mfa,
    accounts: AccountKeys,
    identities: Arc<dyn IdentityStore>,
}

/// `GET /api/me` (bearer required) and `GET /api/hello` (bearer optional).
pub(crate) fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let state = Arc::new(Me {
        mfa: demo.mfa.clone(),
        accounts: demo.accounts.clone(),
        identities: Arc::clone(&demo.identities),
    });
    let me = SecuredRoutes::with_scope_layer(crate::openapi::scope_layer)
        .route(
            "/api/me",
            openapi::get(me),
            Access::authenticated(crate::openapi::BEARER_SCHEMES),
        )?
        .route_layer(demo.bearer()?);
    let hello = SecuredRoutes::new()
        .route(
            "/api/hello",
            openapi::get(hello),
            Access::optional(crate::openapi::BEARER_SCHEMES),
        )?
        .route_layer(demo.optional_bearer()?);
    Ok(me.merge(hello)?.with_state(state))
}

async fn me(State(state): State<Arc<Me>>, p: Authenticated) -> Response {
    let account = state.accounts.key(&p);
    let totp = match state.mfa.is_enabled(&account).await {
        Ok(on) => on,
        Err(e) => return rejection(e),
    };
    let identities = match state.identities.list_for_account(&account).await {
        Ok(links) => links,
        Err(e) => {
            tracing::error!(target: "demo::me", error = %e, "identity store failed");
            return rejection(auth_core::AuthError::BackendUnavailable(
                "identity store".into(),
            ));
        }
    };
    let amr: Vec<Value> = p
        .claims()
        .and_then(|c| c.get("amr"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter(|v| v.is_string()).cloned().collect())
        .unwrap_or_default();
    let mut body = json!({
        "sub": p.subject(),
        "roles": p.roles(),
        "scopes": p.scopes(),
        "auth_method": p.auth_method().as_str(),
        "mfa": {"totp": totp},
        "amr": amr,
    });
    if let (false, Some(obj)) = (identities.is_empty(), body.as_object_mut()) {
        let list: Vec<Value> = identities
            .iter()
            .map(|l| {
                json!({
                    "provider": l.provider(),
                    "iss": l.identity().issuer(),
                    "sub": l.identity().subject(),
                })
            })
            .collect();
        obj.insert("identities".to_owned(), Value::Array(list));
    }
    Json(body).into_response()
}

async fn hello(p: Option<Authenticated>) -> Json<Value> {
    let who = p.as_ref().map_or("anonymous", |p| p.subject());
    Json(json!({ "message": format!("hello {who}") }))
}
