//! The demo's router: every route declared once with who may call it (see [`crate::openapi`]).

use auth_axum_extractors::openapi::{self as aoa, Access, RouteTable, SecuredRoutes};
use auth_core::ConfigError;
use auth_core::jwt::JwtVerifier;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::{
    Demo, JWKS_MAX_AGE, keys, login, me, mfa, openapi, orders, outbound, page, provider_login,
    resource, session, tokens,
};

/// Builds the demo router around a verifier, with in-memory defaults (verify only).
///
/// # Errors
///
/// Only if a built-in default were invalid (none is).
pub fn app(verifier: JwtVerifier) -> Result<Router, ConfigError> {
    app_with(Demo::new(verifier)?)
}

/// Builds the demo router from its shared parts.
///
/// # Errors
///
/// When a layer's configuration is invalid (for example an allowed origin).
pub fn app_with(demo: Demo) -> Result<Router, ConfigError> {
    Ok(app_and_routes(demo)?.0)
}

/// [`app_with`], and the table of its routes: each route's method, path and [`Access`], as
/// `GET /openapi.json` documents them (see [`openapi`]).
///
/// # Errors
///
/// As [`app_with`].
pub fn app_and_routes(demo: Demo) -> Result<(Router, RouteTable), ConfigError> {
    let public = Access::public;
    let routes = SecuredRoutes::new()
        .route("/", page::index_route(&demo), public())?
        .route("/app.js", aoa::get(page::script), public())?
        .route("/health", aoa::get(health), public())?
        .route(
            "/.well-known/jwks.json",
            aoa::get(jwks_handler(&demo)),
            public(),
        )?
        .merge(resource::router(&demo)?)?
        .merge(me::router(&demo)?)?
        .merge(provider_login::router(&demo)?)?
        .merge(orders::router(&demo)?)?
        .merge(outbound::router(&demo)?)?
        .merge(keys::router(&demo)?)?
        .merge(login::router(&demo)?)?
        .merge(tokens::router(&demo)?)?
        .merge(session::router(&demo)?)?
        .merge(mfa::router(&demo)?)?;
    openapi::serve(&demo, routes)
}

/// `GET /.well-known/jwks.json`: the key ring's public keys (live, so a rotation shows at
/// once) when the demo issues, else the configured public keys.
fn jwks_handler(
    demo: &Demo,
) -> impl Fn() -> std::future::Ready<axum::response::Response> + Clone + Send + Sync + 'static {
    let ring = demo.issuer.as_ref().map(|i| i.key_ring().clone());
    let fixed = demo.public_keys.document(JWKS_MAX_AGE);
    move || {
        let doc = match &ring {
            Some(ring) => ring.public_jwks().document(JWKS_MAX_AGE),
            None => fixed.clone(),
        };
        std::future::ready(
            (
                [
                    (header::CONTENT_TYPE, doc.content_type().to_owned()),
                    (header::CACHE_CONTROL, doc.cache_control().to_owned()),
                ],
                doc.body().to_owned(),
            )
                .into_response(),
        )
    }
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
