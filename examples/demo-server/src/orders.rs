//! Orders routes: authorization by scope, permission and role, whichever method authenticated.
//!
//! | route | requires |
//! |---|---|
//! | `GET /api/orders` | scope `read:orders` |
//! | `POST /api/orders/{id}/refund` | permission `orders:refund` (roles `manager`, `admin`) |
//! | `GET /api/admin/stats` | role `admin` |
//!
//! Each accepts a bearer token (header or access cookie) or an API key (`X-API-Key`, see
//! [`crate::keys`]): the authentication layers run in optional mode and the `ScopeLayer`
//! answers 401 (challenging every accepted scheme) when nobody authenticated, 403
//! `INSUFFICIENT_SCOPE` when the principal lacks the rights.

use std::sync::Arc;

use auth_axum_extractors::Authenticated;
use auth_axum_extractors::openapi::{self, Access, Scheme, SecuredRoutes};
use auth_core::ConfigError;
use auth_core::scope::{Requirement, RolePolicy};
use auth_tower::api_key::ApiKeyLayer;
use auth_tower::scope::ScopeLayer;
use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use crate::{Demo, REALM};

/// The demo's role policy: which roles hold which permissions.
#[must_use]
pub fn role_policy() -> RolePolicy {
    RolePolicy::builder()
        .grant("orders:refund", ["manager", "admin"])
        .build()
}

/// The schemes the orders routes accept.
const SCHEMES: [Scheme; 3] = [Scheme::BEARER, Scheme::SESSION_COOKIE, Scheme::API_KEY];

fn require(rule: Requirement) -> Access {
    Access::require(rule, SCHEMES)
}

/// The orders routes, authenticated by bearer token or API key (both in optional mode) and
/// authorized per route.
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let policy = Arc::new(role_policy());
    let router = SecuredRoutes::with_scope_layer(move |rule| {
        ScopeLayer::new(rule)
            .policy(Arc::clone(&policy))
            .realm(REALM)
    })
    .route(
        "/api/orders",
        openapi::get(list_orders),
        require(Requirement::scope("read:orders")),
    )?
    .route(
        "/api/orders/{id}/refund",
        openapi::post(refund),
        require(Requirement::permission("orders:refund")),
    )?
    .route(
        "/api/admin/stats",
        openapi::get(stats),
        require(Requirement::role("admin")),
    )?;
    let api_key = ApiKeyLayer::builder(demo.api_keys.clone())
        .realm(REALM)
        .optional()
        .build()?;
    // route_layer wraps what came before, so the last one runs first: bearer (header or access
    // cookie; revoked tokens refused), then the API key (both layers refuse a request carrying
    // both credentials), then the CSRF check, which reads which credential authenticated the
    // request (cookie-authenticated unsafe requests are checked), then the per-route ScopeLayer.
    Ok(router
        .route_layer(demo.csrf(&[demo.cookies.access_name()])?)
        .route_layer(api_key)
        .route_layer(demo.optional_bearer()?))
}

async fn list_orders(p: Authenticated) -> Json<Value> {
    Json(json!({
        "subject": p.subject(),
        "orders": [
            {"id": "1001", "item": "keyboard", "total_cents": 4900},
            {"id": "1002", "item": "monitor", "total_cents": 18900},
        ],
    }))
}

async fn refund(p: Authenticated, Path(id): Path<String>) -> Json<Value> {
    Json(json!({ "order_id": id, "status": "refunded", "refunded_by": p.subject() }))
}

async fn stats(p: Authenticated) -> Json<Value> {
    Json(json!({ "requested_by": p.subject(), "orders": 2, "refunds": 0 }))
}
