//! Token introspection (RFC 7662, issue 20) against a real authorization server: npm
//! `oidc-provider` (pinned in `tests/oidc/package.json`) started with opaque access tokens,
//! its introspection and revocation endpoints on, and a counter of introspection requests.
//!
//! `BearerLayer` verifies JWT-shaped tokens locally and introspects the others; the
//! introspection endpoint is found by discovery. Tested: an active token is accepted (and
//! cached); a revoked one is refused once the cache bound has passed (the bound, 1 s here, read
//! on a [`ManualClock`], so nothing sleeps); N concurrent requests with one token cost one
//! introspection, counted at the provider; a provider that is down answers 503, not 401.
//!
//! Needs Node.js and `npm ci --prefix tests/oidc` (or `bash tests/interop/install.sh`); without
//! them every test here fails with that instruction.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use auth_core::Principal;
use auth_core::client_auth::ClientAuth;
use auth_core::clock::ManualClock;
use auth_core::introspection::Introspector;
use auth_core::jwks::JwksSource;
use auth_core::jwt::JwtVerifier;
use auth_integration_tests::oidc::{self, KeyFile, OidcProvider, RESOURCE};
use auth_tower::bearer::BearerLayer;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn start(key: &KeyFile) -> OidcProvider {
    OidcProvider::start_opaque(key, 0).unwrap_or_else(|e| panic!("{e}"))
}

fn token(p: &OidcProvider) -> String {
    let t = p
        .client_credentials_token("read:orders write:orders")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(
        t.split('.').count(),
        3,
        "the provider must issue opaque tokens"
    );
    t
}

fn introspections(p: &OidcProvider) -> usize {
    p.introspection_requests().unwrap_or_else(|e| panic!("{e}"))
}

/// The layer: local JWT verification (the provider's JWKS) plus introspection of opaque tokens
/// (endpoint by discovery), active answers cached for at most `active_ttl`.
fn app(provider: &OidcProvider, clock: &ManualClock, active_ttl: Duration) -> Router {
    let source = JwksSource::from_oidc_issuer(provider.issuer())
        .clock(clock.clone())
        .build()
        .unwrap();
    let verifier = JwtVerifier::builder()
        .jwks(source)
        .audience(RESOURCE)
        .clock(clock.clone())
        .build()
        .unwrap();
    let introspector = Introspector::builder(
        ClientAuth::client_secret_basic(oidc::CLIENT_ID, oidc::CLIENT_SECRET).unwrap(),
        provider.issuer(),
    )
    .audience(RESOURCE)
    .active_ttl(active_ttl)
    .timeout(Duration::from_secs(5))
    .clock(clock.clone())
    .build()
    .unwrap();
    let layer = BearerLayer::builder(verifier)
        .introspection(introspector)
        .build()
        .unwrap();
    Router::new()
        .route(
            "/me",
            get(|Extension(p): Extension<Principal>| async move {
                axum::Json(json!({"sub": p.subject(), "scopes": p.scopes(), "iss": p.issuer()}))
            }),
        )
        .layer(layer)
}

async fn call(app: &Router, token: &str) -> (StatusCode, Value) {
    let req = Request::get("/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn an_active_opaque_token_is_accepted_and_its_answer_cached() {
    let key = KeyFile::fresh("intro-active");
    let provider = start(&key);
    let clock = ManualClock::starting_now();
    let app = app(&provider, &clock, Duration::from_secs(60));
    let t = token(&provider);

    let (status, body) = call(&app, &t).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A client-credentials token has no `sub`: the subject is the client.
    assert_eq!(body["sub"], oidc::CLIENT_ID);
    assert_eq!(body["iss"], provider.issuer());
    assert_eq!(body["scopes"], json!(["read:orders", "write:orders"]));
    assert_eq!(introspections(&provider), 1);

    let (status, _) = call(&app, &t).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        introspections(&provider),
        1,
        "the second request is a cache hit"
    );

    // A JWT-shaped token is verified locally, never introspected.
    let (status, body) = call(&app, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
    // An unknown opaque token is introspected and refused as inactive.
    let (status, body) = call(&app, "not-a-token-the-provider-issued").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
    assert_eq!(introspections(&provider), 2);
}

#[tokio::test]
async fn a_revoked_token_is_refused_once_the_cache_bound_has_passed() {
    let key = KeyFile::fresh("intro-revoked");
    let provider = start(&key);
    let clock = ManualClock::starting_now();
    let app = app(&provider, &clock, Duration::from_secs(1));
    let t = token(&provider);

    assert_eq!(call(&app, &t).await.0, StatusCode::OK);
    provider.revoke(&t).unwrap_or_else(|e| panic!("{e}"));
    // Within the bound the cached answer stands: that bound is the revocation delay.
    assert_eq!(call(&app, &t).await.0, StatusCode::OK);
    assert_eq!(introspections(&provider), 1);

    clock.advance(Duration::from_secs(1));
    let (status, body) = call(&app, &t).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
    assert_eq!(introspections(&provider), 2);
    // The inactive answer is cached for a few seconds: no request per refusal.
    assert_eq!(call(&app, &t).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(introspections(&provider), 2);
}

#[tokio::test]
async fn concurrent_requests_with_one_token_cost_one_introspection_at_the_provider() {
    let key = KeyFile::fresh("intro-coalesce");
    let provider = start(&key);
    let clock = ManualClock::starting_now();
    let app = app(&provider, &clock, Duration::from_secs(60));
    let (a, b) = (token(&provider), token(&provider));

    const N: usize = 32;
    let calls = (0..N).map(|i| {
        let app = app.clone();
        let t = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { call(&app, &t).await.0 }
    });
    let statuses = futures_util::future::join_all(calls).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(
        introspections(&provider),
        2,
        "one introspection per distinct token"
    );
}

#[tokio::test]
async fn a_provider_that_is_down_answers_503_not_401() {
    let key = KeyFile::fresh("intro-down");
    let provider = start(&key);
    let clock = ManualClock::starting_now();
    let app = app(&provider, &clock, Duration::from_secs(60));
    let (seen, unseen) = (token(&provider), token(&provider));
    assert_eq!(call(&app, &seen).await.0, StatusCode::OK);

    provider.stop();
    for _ in 0..2 {
        let (status, body) = call(&app, &unseen).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "AUTH_BACKEND_UNAVAILABLE");
    }
    // The token introspected before the outage is still accepted until its bound.
    assert_eq!(call(&app, &seen).await.0, StatusCode::OK);
}

/// The demo server with `AUTH_OIDC_INTROSPECTION=true`: the provider's opaque tokens are
/// introspected at the endpoint its discovery document names, with the demo's client
/// credentials, and a revoked one is refused once `AUTH_OIDC_INTROSPECTION_TTL` has passed.
#[tokio::test]
async fn the_demo_introspects_the_providers_opaque_tokens_when_configured() {
    let key = KeyFile::fresh("intro-demo");
    let provider = start(&key);
    let secret = "a demo secret that is at least thirty-two bytes long";
    let env = [
        ("AUTH_JWT_SECRET", secret),
        ("AUTH_OIDC_ISSUER", provider.issuer()),
        ("AUTH_OIDC_AUDIENCE", RESOURCE),
        ("AUTH_OIDC_INTROSPECTION", "true"),
        ("AUTH_OIDC_CLIENT_ID", oidc::CLIENT_ID),
        ("AUTH_OIDC_CLIENT_SECRET", oidc::CLIENT_SECRET),
        ("AUTH_OIDC_INTROSPECTION_TTL", "1"),
    ];
    let config = demo_server::config::Config::from_env(|k| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    let clock = ManualClock::starting_now();
    let (demo, _) =
        demo_server::Demo::from_config_with_clock(&config, std::sync::Arc::new(clock.clone()))
            .unwrap();
    let app = demo_server::app_with(demo).unwrap();
    let me = |t: &str| {
        let req = Request::get("/api/me")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap();
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await.unwrap();
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (status, body)
        }
    };
    let t = token(&provider);
    let (status, body) = me(&t).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], oidc::CLIENT_ID);
    assert_eq!(introspections(&provider), 1);
    // The demo's own tokens are still verified locally.
    let own = demo_server::demo_token(secret.as_bytes(), "auth-demo", "auth-demo-api").unwrap();
    assert_eq!(me(&own).await.0, StatusCode::OK);
    assert_eq!(introspections(&provider), 1);

    provider.revoke(&t).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        me(&t).await.0,
        StatusCode::OK,
        "cached within the 1 s bound"
    );
    clock.advance(Duration::from_secs(1));
    let (status, body) = me(&t).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");

    let other = token(&provider);
    provider.stop();
    let (status, body) = me(&other).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "AUTH_BACKEND_UNAVAILABLE");
}
