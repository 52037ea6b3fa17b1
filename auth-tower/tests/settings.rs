//! Layers from settings (issue 17): a TOML file builds the bearer, API-key, brute-force and
//! per-route scope layers, which then accept and refuse requests as the file says; every
//! mistake names its field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::api_key::MemoryApiKeyStore;
use auth_core::brute_force::BruteForceLimiter;
use auth_core::settings::{self, AuthSettings, BuildContext, ScopeSettings, SettingsError};
use auth_tower::settings as layers;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt, service_fn};

const SECRET: &str = "an example secret of at least thirty-two bytes";

const TOML: &str = r#"
[bearer]
audiences = ["orders-api"]
realm = "orders"

[[bearer.issuers]]
issuer = "https://issuer.example"
keys = [{ alg = "HS256", secret_env = "ORDERS_JWT_SECRET" }]

[api_keys]
prefix = "acme_live"
header = "x-acme-key"
optional = true

[brute_force]
attempts = 2
window = "1m"
trusted_proxies = ["10.0.0.0/8"]

[scopes]
permissions = { "orders:refund" = ["manager"] }
routes = [
  { route = "GET /orders", require = { scopes = ["read:orders"] } },
  { route = "GET /orders/{id}", require = { any_scopes = ["read:orders", "read:own"] } },
  { route = "POST /orders/{id}/refund", require = { permissions = ["orders:refund"] } },
  { route = "/health", require = { authenticated = true } },
]
"#;

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, SettingsError> {
    let de = toml::de::Deserializer::parse(text)
        .map_err(|e| SettingsError::invalid("", format!("not TOML: {e}")))?;
    settings::deserialize(de)
}

fn ctx() -> BuildContext {
    BuildContext::new().env(|v| (v == "ORDERS_JWT_SECRET").then(|| SECRET.to_owned()))
}

fn token(scope: &str, roles: &[&str]) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "ann", "iss": "https://issuer.example", "aud": "orders-api",
            "exp": exp, "scope": scope, "roles": roles}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn layers_from_toml_enforce_the_route_table() {
    let s: AuthSettings = parse(TOML).unwrap();
    let bearer = layers::bearer_layer(s.bearer.as_ref().unwrap(), &ctx()).unwrap();
    let scopes = layers::scope_layer(s.scopes.as_ref().unwrap()).unwrap();
    let svc = ServiceBuilder::new()
        .layer(bearer)
        .layer(scopes)
        .service(service_fn(|_req: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::from("ok")))
        }));
    let call = |method: &str, path: &str, token: &str| {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Full::default())
            .unwrap();
        svc.clone().oneshot(req)
    };
    let reader = &*token("read:orders", &[]);
    let own = &*token("read:own", &[]);
    let manager = &*token("", &["manager"]);
    let cases = [
        ("GET", "/orders", reader, StatusCode::OK),
        ("GET", "/orders", own, StatusCode::FORBIDDEN),
        ("GET", "/orders/7", own, StatusCode::OK),
        ("POST", "/orders/7/refund", manager, StatusCode::OK),
        ("POST", "/orders/7/refund", reader, StatusCode::FORBIDDEN),
        ("DELETE", "/health", manager, StatusCode::OK),
        // No rule: denied, whatever the token holds.
        ("GET", "/invoices", reader, StatusCode::FORBIDDEN),
        ("GET", "/orders/", reader, StatusCode::FORBIDDEN),
        ("GET", "/orders", "not-a-token", StatusCode::UNAUTHORIZED),
    ];
    for (method, path, token, status) in cases {
        let res = call(method, path, token).await.unwrap();
        assert_eq!(res.status(), status, "{method} {path}");
        if status == StatusCode::UNAUTHORIZED {
            // The realm came from the settings.
            let challenge = res.headers()["www-authenticate"].to_str().unwrap();
            assert!(challenge.contains("realm=\"orders\""), "{challenge}");
        }
    }
}

#[test]
fn api_key_and_brute_force_layers_build_from_toml() {
    let s: AuthSettings = parse(TOML).unwrap();
    let api = s.api_keys.as_ref().unwrap();
    let keys = api
        .builder(MemoryApiKeyStore::new(), &ctx())
        .unwrap()
        .build()
        .unwrap();
    let _layer = layers::api_key_layer(api, keys).unwrap();
    let bf = s.brute_force.as_ref().unwrap();
    let limiter = BruteForceLimiter::new(s.brute_force_policy().unwrap());
    let layer = layers::brute_force_layer(bf, limiter).unwrap();
    assert_eq!(layer.limiter().policy().max_attempts().get(), 2);
}

#[test]
fn layer_errors_name_the_field_path() {
    let scope_err = |json: &str| {
        let s: ScopeSettings = settings::from_json_str(json).unwrap();
        layers::scope_layer(&s).unwrap_err()
    };
    let err = scope_err(
        r#"{"routes": [{"route": "GET /a", "require": {"scopes": ["a"]}},
        {"route": "get /b", "require": {"scopes": ["a"]}}]}"#,
    );
    assert_eq!(err.path(), "routes[1].route", "{err}");
    let err = scope_err(
        r#"{"routes": [{"route": "GET /a/{id}", "require": {"scopes": ["a"]}},
        {"route": "GET /a/{other}", "require": {"scopes": ["b"]}}]}"#,
    );
    assert_eq!(err.path(), "routes[1].route", "{err}");
    assert!(err.to_string().contains("listed twice"), "{err}");
    let err = scope_err(r#"{"routes": [{"route": "/a/{*rest}/b", "require": {"scopes": ["a"]}}]}"#);
    assert_eq!(err.path(), "routes[0].route", "{err}");
    let err = scope_err(r#"{"routes": [{"route": "/a", "require": {}}]}"#);
    assert_eq!(err.path(), "routes[0].require", "{err}");
    let err = scope_err(r#"{"routes": [{"route": "/a", "require": {"scopes": ["a", ""]}}]}"#);
    assert_eq!(err.path(), "routes[0].require.scopes[1]", "{err}");
    let err = scope_err(r#"{"realm": "a\"b"}"#);
    assert_eq!(err.path(), "realm", "{err}");

    let s: AuthSettings =
        parse("[brute_force]\ntrusted_proxies = [\"10.0.0.0/8\", \"0.0.0.0/0\"]\n").unwrap();
    let limiter = BruteForceLimiter::new(s.brute_force_policy().unwrap());
    let err = layers::brute_force_layer(s.brute_force.as_ref().unwrap(), limiter).unwrap_err();
    assert_eq!(err.path(), "trusted_proxies[1]", "{err}");

    let mut s: AuthSettings = parse(TOML).unwrap();
    s.bearer.as_mut().unwrap().cookie = Some("bad cookie".into());
    let err = layers::bearer_layer(s.bearer.as_ref().unwrap(), &ctx()).unwrap_err();
    assert_eq!(err.path(), "cookie", "{err}");
    let api = s.api_keys.as_mut().unwrap();
    api.header = Some("bad header".into());
    let keys = api
        .builder(MemoryApiKeyStore::new(), &ctx())
        .unwrap()
        .build()
        .unwrap();
    let err = layers::api_key_layer(api, keys).unwrap_err();
    assert_eq!(err.path(), "header", "{err}");
}
