//! Layers from settings (configuration as data): `auth_core::settings` describes the layers,
//! these functions build them, with the field path in every error.
//!
//! | settings | layer | function |
//! |---|---|---|
//! | [`BearerSettings`] | [`BearerLayer`](crate::bearer::BearerLayer) | [`bearer_layer`], [`bearer_layer_builder`] |
//! | [`ApiKeySettings`](auth_core::settings::ApiKeySettings) | [`ApiKeyLayer`](crate::api_key::ApiKeyLayer) | `api_key_layer` (feature `api-key`) |
//! | [`BruteForceSettings`](auth_core::settings::BruteForceSettings) | [`BruteForceLayer`](crate::brute_force::BruteForceLayer) | `brute_force_layer` (feature `brute-force`) |
//! | [`ScopeSettings`] | [`ScopeLayer`] per route | [`scope_layer`] |
//!
//! Paths in errors are relative to the settings given (`issuers[0].audiences`); errors of
//! [`AuthSettings`] sections are prefixed with the section (`bearer.issuers[0].audiences`).
//! The builders stay available for what settings do not describe (revocation, token cache,
//! DPoP, a custom responder): [`bearer_layer_builder`] returns one to finish.
//!
//! # Example
//!
//! ```
//! use auth_core::settings::{AuthSettings, BuildContext};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings: AuthSettings = auth_core::settings::from_json_str(r#"{
//!     "bearer": { "issuers": [{ "issuer": "https://issuer.example", "audiences": ["orders-api"],
//!                               "keys": [{ "alg": "HS256", "secret_env": "ORDERS_JWT_SECRET" }] }] },
//!     "scopes": { "routes": [{ "route": "GET /orders", "require": { "scopes": ["read:orders"] } }] }
//! }"#)?;
//! # let secret = "an example secret of at least thirty-two bytes";
//! let ctx = BuildContext::new();
//! # let ctx = ctx.env(move |v| (v == "ORDERS_JWT_SECRET").then(|| secret.to_owned()));
//! let bearer = auth_tower::settings::bearer_layer(AuthSettings::section(settings.bearer.as_ref(), "bearer")?, &ctx)?;
//! let scopes = auth_tower::settings::scope_layer(AuthSettings::section(settings.scopes.as_ref(), "scopes")?)?;
//! let svc = ServiceBuilder::new()
//!     .layer(bearer)
//!     .layer(scopes)
//!     .service(service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::from("orders")))
//!     }));
//!
//! # let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 60;
//! # let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(),
//! #     &serde_json::json!({"sub": "ann", "iss": "https://issuer.example", "aud": "orders-api", "exp": exp, "scope": "read:orders"}),
//! #     &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()))?;
//! let call = |path: &str| Request::get(path).header("authorization", format!("Bearer {token}")).body(Full::default());
//! assert_eq!(svc.clone().oneshot(call("/orders")?).await?.status(), StatusCode::OK);
//! // A route without a rule is refused.
//! assert_eq!(svc.oneshot(call("/invoices")?).await?.status(), StatusCode::FORBIDDEN);
//! # Ok(())
//! # }
//! ```

#[cfg(any(feature = "bearer", feature = "api-key"))]
use auth_core::ConfigError;
#[cfg(feature = "bearer")]
use auth_core::jwt::JwtVerifier;
#[cfg(doc)]
use auth_core::settings::AuthSettings;
#[cfg(feature = "bearer")]
use auth_core::settings::{BearerSettings, BuildContext};
use auth_core::settings::{ScopeSettings, SettingsError};

use crate::scope::{HttpRoutes, ScopeLayer};

/// `ConfigError::InvalidHeaderValue { what }` names the setting: map it to its field.
#[cfg(any(feature = "bearer", feature = "api-key"))]
fn header_field(e: &ConfigError) -> &'static str {
    match e {
        ConfigError::InvalidHeaderValue { what } if what.contains("realm") => "realm",
        ConfigError::InvalidHeaderValue { what } if what.contains("cookie") => "cookie",
        ConfigError::InvalidHeaderValue { what } if what.contains("header") => "header",
        _ => "",
    }
}

/// The [`BearerLayer`](crate::bearer::BearerLayer) of `settings`: its verifier
/// ([`BearerSettings::verifier`]), realm, cookie and optional mode.
///
/// # Errors
///
/// A [`SettingsError`] naming the field at fault.
#[cfg(feature = "bearer")]
#[cfg_attr(docsrs, doc(cfg(feature = "bearer")))]
pub fn bearer_layer(
    settings: &BearerSettings,
    ctx: &BuildContext,
) -> Result<crate::bearer::BearerLayer, SettingsError> {
    let verifier = settings.verifier(ctx)?;
    bearer_layer_builder(settings, verifier)
        .build()
        .map_err(|e| SettingsError::config(header_field(&e), e))
}

/// A [`BearerLayerBuilder`](crate::bearer::BearerLayerBuilder) over `verifier` with the
/// layer settings of `settings` (realm, cookie, optional) applied, to add what settings do
/// not describe (revocation, a token cache, DPoP) before building.
#[cfg(feature = "bearer")]
#[cfg_attr(docsrs, doc(cfg(feature = "bearer")))]
pub fn bearer_layer_builder(
    settings: &BearerSettings,
    verifier: JwtVerifier,
) -> crate::bearer::BearerLayerBuilder {
    let mut b = crate::bearer::BearerLayer::builder(verifier);
    if let Some(realm) = &settings.realm {
        b = b.realm(realm.clone());
    }
    if let Some(cookie) = &settings.cookie {
        b = b.cookie(cookie.clone());
    }
    if settings.optional {
        b = b.optional();
    }
    b
}

/// The [`ApiKeyLayer`](crate::api_key::ApiKeyLayer) over `keys` (built with
/// [`ApiKeySettings::builder`](auth_core::settings::ApiKeySettings::builder)) with the layer
/// settings of `settings` (header, realm, optional).
///
/// # Errors
///
/// A [`SettingsError`] at `header` or `realm` when the layer refuses it.
#[cfg(feature = "api-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
pub fn api_key_layer(
    settings: &auth_core::settings::ApiKeySettings,
    keys: auth_core::api_key::ApiKeys,
) -> Result<crate::api_key::ApiKeyLayer, SettingsError> {
    let mut b = crate::api_key::ApiKeyLayer::builder(keys);
    if let Some(header) = &settings.header {
        b = b.header(header.clone());
    }
    if let Some(realm) = &settings.realm {
        b = b.realm(realm.clone());
    }
    if settings.optional {
        b = b.optional();
    }
    b.build()
        .map_err(|e| SettingsError::config(header_field(&e), e))
}

/// The [`BruteForceLayer`](crate::brute_force::BruteForceLayer) over `limiter` (built on
/// [`BruteForceSettings::policy`](auth_core::settings::BruteForceSettings::policy), with the
/// store of your choice) with the trusted proxies and forwarding header of `settings`.
///
/// # Errors
///
/// A [`SettingsError`] at `trusted_proxies[i]` for an entry that is not an address or CIDR
/// network (or is a `/0` network).
#[cfg(feature = "brute-force")]
#[cfg_attr(docsrs, doc(cfg(feature = "brute-force")))]
pub fn brute_force_layer(
    settings: &auth_core::settings::BruteForceSettings,
    limiter: auth_core::brute_force::BruteForceLimiter,
) -> Result<crate::brute_force::BruteForceLayer, SettingsError> {
    use auth_core::settings::ForwardedHeaderName;

    use crate::brute_force::{ForwardedHeader, TrustedProxies};
    for (i, entry) in settings.trusted_proxies.iter().enumerate() {
        if entry.trim().is_empty() || entry.contains(',') {
            return Err(SettingsError::invalid(
                format!("trusted_proxies[{i}]"),
                "one address or CIDR network per entry",
            ));
        }
        TrustedProxies::parse_list(entry)
            .map_err(|e| SettingsError::config(format!("trusted_proxies[{i}]"), e))?;
    }
    let trusted = TrustedProxies::parse_list(&settings.trusted_proxies.join(","))
        .map_err(|e| SettingsError::config("trusted_proxies", e))?;
    let header = match settings.forwarded_header {
        Some(ForwardedHeaderName::Forwarded) => ForwardedHeader::Forwarded,
        _ => ForwardedHeader::XForwardedFor,
    };
    crate::brute_force::BruteForceLayer::builder(limiter)
        .trusted_proxies(trusted)
        .forwarded_header(header)
        .build()
        .map_err(|e| SettingsError::config("", e))
}

/// The [`ScopeLayer`] of `settings`: one requirement per route ([`HttpRoutes`]), the role
/// policy of `permissions`, the realm.
///
/// # Errors
///
/// A [`SettingsError`] naming the field: `routes[i].route` for a malformed or duplicate
/// route, `routes[i].require` for a requirement that requires nothing, `permissions`,
/// `otherwise` or `realm`.
pub fn scope_layer(settings: &ScopeSettings) -> Result<ScopeLayer, SettingsError> {
    let mut routes = HttpRoutes::new();
    for (i, r) in settings.routes.iter().enumerate() {
        let at = |field: &str| format!("routes[{i}].{field}");
        let requirement = r
            .require
            .requirement()
            .map_err(|e| e.within(&at("require")))?;
        let (method, path) = match r.route.trim().split_once(' ') {
            Some((method, path)) => {
                let method = http::Method::from_bytes(method.as_bytes())
                    .ok()
                    .filter(|m| m.as_str().bytes().all(|b| b.is_ascii_uppercase()))
                    .ok_or_else(|| {
                        SettingsError::invalid(
                            at("route"),
                            format!("`{method}` is not an upper-case HTTP method"),
                        )
                    })?;
                (Some(method), path.trim())
            }
            None => (None, r.route.trim()),
        };
        // Each route is checked alone first, so the error names its index.
        let one = match &method {
            Some(m) => HttpRoutes::new().route(m.clone(), path, requirement.clone()),
            None => HttpRoutes::new().any_method(path, requirement.clone()),
        };
        one.compile()
            .map_err(|e| SettingsError::config(at("route"), e))?;
        routes = match method {
            Some(m) => routes.route(m, path, requirement),
            None => routes.any_method(path, requirement),
        };
        // A duplicate shows when the table so far is compiled.
        routes
            .clone()
            .compile()
            .map_err(|e| SettingsError::config(at("route"), e))?;
    }
    if let Some(otherwise) = &settings.otherwise {
        routes = routes.otherwise(otherwise.requirement().map_err(|e| e.within("otherwise"))?);
    }
    let mut layer =
        ScopeLayer::per_route(routes).map_err(|e| SettingsError::config("routes", e))?;
    layer = layer.policy(settings.role_policy()?);
    if let Some(realm) = &settings.realm {
        layer = layer
            .realm(realm)
            .map_err(|e| SettingsError::config("realm", e))?;
    }
    Ok(layer)
}
