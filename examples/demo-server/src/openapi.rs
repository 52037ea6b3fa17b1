//! `GET /openapi.json`: the demo's OpenAPI 3.1 document, written from the same declarations
//! that build its router (`auth_axum_extractors::openapi::SecuredRoutes`), so every route is in
//! it and each protected route's `security` names the schemes it accepts and what it requires.
//!
//! | scheme | what it is |
//! |---|---|
//! | `bearer` | `Authorization: Bearer <JWT>` |
//! | `session_cookie` | the access token in the `access_token` cookie (unsafe methods also need `X-CSRF-Token`) |
//! | `api_key` | `X-API-Key: demo_live_...` (the orders routes) |
//! | `refresh_cookie` | the `refresh_token` cookie (`POST /auth/session/refresh`) |
//!
//! Each scheme of an operation is an alternative. The scopes listed are what the route
//! requires, as the 403 body's `required` list names them (`read:orders`, `orders:refund`,
//! `role:admin`). Routes open to anonymous callers that also recognise a credential
//! (`GET /api/hello`) list the empty requirement `{}` first. The route is public and answers
//! `200` with `Content-Type: application/json`. `GET /metrics` (`AUTH_DEMO_METRICS=true`) is
//! not in the document: it is added by the binary, outside the declared routes.

use std::sync::{Arc, OnceLock};

use auth_axum_extractors::openapi::{
    self, Access, RouteTable, Scheme, SecuredRoutes, SecuritySchemes,
};
use auth_core::ConfigError;
use auth_core::scope::Requirement;
use auth_tower::scope::ScopeLayer;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Info, OpenApi, Paths};

use crate::{Demo, REALM};

/// The route of the document.
pub const PATH: &str = "/openapi.json";

/// The schemes of the routes behind the demo's bearer layer: the header or the access cookie.
pub const BEARER_SCHEMES: [Scheme; 2] = [Scheme::BEARER, Scheme::SESSION_COOKIE];

/// The name of the refresh cookie's scheme.
pub const REFRESH_COOKIE: &str = "refresh_cookie";

/// The demo's `ScopeLayer` for `requirement` (realm [`REALM`]).
pub(crate) fn scope_layer(requirement: Requirement) -> Result<ScopeLayer, ConfigError> {
    ScopeLayer::new(requirement).realm(REALM)
}

/// The document of `table`: its routes, their security, and the demo's schemes.
#[must_use]
pub fn document(demo: &Demo, table: &RouteTable) -> OpenApi {
    let mut doc = OpenApi::new(
        Info::new("tower-auth demo server", env!("CARGO_PKG_VERSION")),
        Paths::new(),
    );
    let refresh = ApiKey::Cookie(ApiKeyValue::new(demo.cookies.refresh_name()));
    SecuritySchemes::new()
        .bearer_jwt()
        .session_cookie(demo.cookies.access_name())
        .api_key_header("X-API-Key")
        .custom(
            Scheme::named(REFRESH_COOKIE),
            SecurityScheme::ApiKey(refresh),
        )
        .apply(&mut doc);
    table.apply(&mut doc);
    doc
}

/// Declares `GET /openapi.json` on `routes`, then splits them into the router and its table;
/// the route serves the document of the whole table, itself included.
///
/// # Errors
///
/// When the route is already declared, or the document cannot be serialised.
pub fn serve(demo: &Demo, routes: SecuredRoutes) -> Result<(Router, RouteTable), ConfigError> {
    let slot: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let served = Arc::clone(&slot);
    let routes = routes.route(
        PATH,
        openapi::get(move || std::future::ready(answer(served.get()))),
        Access::public(),
    )?;
    let (router, table) = routes.into_parts();
    let json = document(demo, &table)
        .to_json()
        .map_err(|e| ConfigError::Input(format!("the OpenAPI document: {e}")))?;
    // The slot is new and set once here.
    let _ = slot.set(json);
    Ok((router, table))
}

fn answer(json: Option<&String>) -> Response {
    match json {
        Some(json) => ([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
