//! Keys from a real OpenID Provider: npm `oidc-provider` (pinned in `tests/oidc/package.json`)
//! issues JWT access tokens (client-credentials grant, resource indicators) that verify through
//! OpenID discovery, [`JwksSource`] and `BearerLayer`; rotation, the refetch cooldown (counted
//! on the provider's JWKS endpoint), outages and a key-less start; and the same key-set client
//! reading the demo server's own JWKS endpoint.
//!
//! Time: cache expiry and cooldowns read a [`ManualClock`]; the provider runs on real time, so
//! the tests move the manual clock (within the tokens' 10-minute lifetime) instead of waiting.
//!
//! Needs Node.js and `npm ci --prefix tests/oidc` (or `bash tests/interop/install.sh`); without
//! them every test here fails with that instruction.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use auth_core::Principal;
use auth_core::clock::{Clock as _, ManualClock};
use auth_core::jwks::JwksSource;
use auth_core::jwt::{Algorithm, JwtVerifier};
use auth_integration_tests::keys::TestKey;
use auth_integration_tests::oidc::{self, KeyFile, OidcProvider, RESOURCE};
use auth_tower::bearer::BearerLayer;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn start(key: &KeyFile, port: u16) -> OidcProvider {
    OidcProvider::start(key, port).unwrap_or_else(|e| panic!("{e}"))
}

fn token(p: &OidcProvider) -> String {
    p.client_credentials_token("read:orders write:orders")
        .unwrap_or_else(|e| panic!("{e}"))
}

fn jwks_requests(p: &OidcProvider) -> usize {
    p.jwks_requests().unwrap_or_else(|e| panic!("{e}"))
}

/// A key source for the provider's issuer, by discovery, on the manual clock.
fn source(issuer: &str, clock: &ManualClock) -> JwksSource {
    JwksSource::from_oidc_issuer(issuer)
        .clock(clock.clone())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn verifier(source: JwksSource, clock: &ManualClock) -> JwtVerifier {
    JwtVerifier::builder()
        .jwks(source)
        .audience(RESOURCE)
        .require_type("at+jwt")
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn app(verifier: JwtVerifier) -> Router {
    Router::new()
        .route(
            "/me",
            get(|Extension(p): Extension<Principal>| async move {
                axum::Json(json!({"sub": p.subject(), "scopes": p.scopes(), "iss": p.issuer()}))
            }),
        )
        .layer(BearerLayer::new(verifier))
}

async fn call(app: &Router, token: Option<&str>) -> (StatusCode, Value) {
    call_path(app, "/me", token).await
}

async fn call_path(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A token that names a random `kid` and carries the provider's claims, with a junk signature:
/// what an attacker flooding the verifier would send.
fn random_kid_token(issuer: &str, n: usize) -> String {
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": format!("random-{n}-{}", std::process::id())});
    let claims = json!({"sub": "x", "iss": issuer, "aud": RESOURCE, "exp": u32::MAX});
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}

#[test]
fn oidc_provider_is_installed_at_the_pinned_version() {
    oidc::ensure_installed().unwrap_or_else(|e| panic!("{e}"));
    let pinned = oidc::pinned_version().unwrap();
    let installed: Value = serde_json::from_str(
        &std::fs::read_to_string(oidc::oidc_dir().join("node_modules/oidc-provider/package.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(installed["version"], pinned.as_str());
}

#[tokio::test]
async fn provider_access_token_verifies_through_discovery_and_bearer_layer() {
    let key = KeyFile::fresh("a");
    let provider = start(&key, 0);
    let clock = ManualClock::starting_now();
    let app = app(verifier(source(provider.issuer(), &clock), &clock));

    let t = token(&provider);
    let (status, body) = call(&app, Some(&t)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], oidc::CLIENT_ID);
    assert_eq!(body["iss"], provider.issuer());
    assert_eq!(body["scopes"], json!(["read:orders", "write:orders"]));
    assert_eq!(jwks_requests(&provider), 1);

    // Further requests use the cache.
    for _ in 0..5 {
        assert_eq!(call(&app, Some(&token(&provider))).await.0, StatusCode::OK);
    }
    assert_eq!(jwks_requests(&provider), 1);

    // No token: 401 from the layer, no fetch.
    let (status, body) = call(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "MISSING_CREDENTIALS");
    provider.stop();
}

#[tokio::test]
async fn rotated_signing_key_is_accepted_after_one_refetch_and_random_kids_wait_for_the_cooldown() {
    let (key_a, key_b) = (KeyFile::fresh("a"), KeyFile::fresh("b"));
    let first = start(&key_a, 0);
    let port = first.port();
    let clock = ManualClock::starting_now();
    let keys = source(first.issuer(), &clock);
    let app = app(verifier(keys.clone(), &clock));
    assert_eq!(call(&app, Some(&token(&first))).await.0, StatusCode::OK);
    assert_eq!(jwks_requests(&first), 1);
    let old_kid = first.kid().to_owned();
    first.stop();

    // Restart on the same port (same issuer) with a new signing key.
    let second = start(&key_b, port);
    assert_ne!(second.kid(), old_kid);
    let rotated = token(&second);

    // Issue 12, item 16: the first (start-up) fetch does not start the unknown-kid cooldown,
    // so the rotated key is learned at once: exactly one refetch, and the token is accepted.
    let (status, body) = call(&app, Some(&rotated)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(jwks_requests(&second), 1);

    // A flood of random kids: nothing more within the cooldown...
    for n in 0..50 {
        let (status, _) = call(&app, Some(&random_kid_token(second.issuer(), n))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        clock.advance(Duration::from_millis(500)); // 50 tokens over 25 s
    }
    assert_eq!(jwks_requests(&second), 1);
    // ...then at most one fetch per cooldown window.
    clock.advance(Duration::from_secs(5));
    for n in 50..100 {
        let (status, _) = call(&app, Some(&random_kid_token(second.issuer(), n))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        clock.advance(Duration::from_millis(500));
    }
    assert_eq!(jwks_requests(&second), 2);
    // The legitimate token still passes, from the cache.
    assert_eq!(call(&app, Some(&rotated)).await.0, StatusCode::OK);
    assert_eq!(jwks_requests(&second), 2);
    second.stop();
}

#[tokio::test]
async fn with_the_provider_stopped_cached_keys_keep_working_and_a_key_less_start_answers_503() {
    let key = KeyFile::fresh("a");
    let provider = start(&key, 0);
    let issuer = provider.issuer().to_owned();
    let clock = ManualClock::starting_now();
    // A one-minute cache lifetime, so expiry and refresh-ahead happen well within the tokens'
    // real ten-minute lifetime.
    let keys = JwksSource::from_oidc_issuer(issuer.clone())
        .clock(clock.clone())
        .default_ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let app = app(verifier(keys.clone(), &clock));
    let t = token(&provider);
    assert_eq!(call(&app, Some(&t)).await.0, StatusCode::OK);
    provider.stop();

    // Past expiry, with refresh attempts failing: the cached keys still verify.
    clock.advance(Duration::from_secs(61));
    let (status, body) = call(&app, Some(&t)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(keys.refresh_now().await.is_err());
    clock.advance(Duration::from_secs(120));
    assert_eq!(call(&app, Some(&t)).await.0, StatusCode::OK);

    // A fresh verifier that never got keys: 503, not 401.
    let cold = app_for_cold_start(&issuer, &clock);
    let (status, body) = call(&cold, Some(&t)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "AUTH_BACKEND_UNAVAILABLE");
    // Within the cooldown it stays 503 without trying again.
    let (status, _) = call(&cold, Some(&t)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

fn app_for_cold_start(issuer: &str, clock: &ManualClock) -> Router {
    app(verifier(source(issuer, clock), clock))
}

/// The demo server, serving on a free loopback port, configured with `env`.
async fn serve_demo(env: &[(&str, &str)]) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let env: std::collections::HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let config = demo_server::config::Config::from_env(|k| env.get(k).cloned()).unwrap();
    let (demo, _) = demo_server::Demo::from_config(&config).unwrap();
    let router = demo_server::app_with(demo).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (addr, task)
}

#[tokio::test]
async fn our_own_tokens_verify_with_keys_read_from_the_demo_jwks_endpoint() {
    let signing = TestKey::generate(Algorithm::EdDSA).unwrap();
    let pem_file = KeyFile::fresh("demo-public");
    std::fs::write(pem_file.path(), signing.public_key_pem().unwrap()).unwrap();
    let (addr, server) = serve_demo(&[
        ("AUTH_JWT_ALG", "EdDSA"),
        (
            "AUTH_JWT_PUBLIC_KEY_FILE",
            pem_file.path().to_str().unwrap(),
        ),
        ("AUTH_JWT_KEY_ID", "demo-ed-1"),
    ])
    .await;

    let clock = ManualClock::starting_now();
    let keys = JwksSource::from_jwks_uri(format!("http://{addr}/.well-known/jwks.json"))
        .clock(clock.clone())
        .build()
        .unwrap();
    let verifier = JwtVerifier::builder()
        .jwks(keys.clone())
        .issuer("auth-demo")
        .audience("auth-demo-api")
        .clock(clock.clone())
        .build()
        .unwrap();
    let exp = clock.now().as_secs() + 300;
    let t = signing
        .sign(
            &json!({"sub": "own-user", "iss": "auth-demo", "aud": "auth-demo-api", "exp": exp}),
            &json!({"kid": "demo-ed-1"}),
        )
        .unwrap();
    assert_eq!(verifier.verify(&t).await.unwrap().subject(), "own-user");
    // The demo's Cache-Control (max-age=300) sets the cache lifetime.
    assert_eq!(
        keys.expires_at().unwrap(),
        clock.now().saturating_add(Duration::from_secs(300))
    );
    server.abort();
}

#[tokio::test]
async fn the_demo_accepts_provider_tokens_next_to_its_own_when_configured() {
    let key = KeyFile::fresh("a");
    let provider = start(&key, 0);
    let secret = "a demo secret that is at least thirty-two bytes long";
    let env = [
        ("AUTH_JWT_SECRET", secret),
        ("AUTH_OIDC_ISSUER", provider.issuer()),
        ("AUTH_OIDC_AUDIENCE", RESOURCE),
    ];
    let config = demo_server::config::Config::from_env(|k| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    let (demo, _) = demo_server::Demo::from_config(&config).unwrap();
    let app = demo_server::app_with(demo).unwrap();
    let me = |t: String| {
        let app = app.clone();
        async move { call_path(&app, "/api/me", Some(&t)).await }
    };
    let (status, body) = me(token(&provider)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], oidc::CLIENT_ID);
    let own = demo_server::demo_token(secret.as_bytes(), "auth-demo", "auth-demo-api").unwrap();
    let (status, body) = me(own).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], "demo-user");
    // A token from an issuer the demo does not trust: 401 and no fetch anywhere.
    let before = jwks_requests(&provider);
    let (status, body) = me(random_kid_token("https://unknown.example", 0)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
    assert_eq!(jwks_requests(&provider), before);
    provider.stop();
}

/// Issue 12, item 8: `typ` is required per issuer. The demo's own tokens keep needing
/// `at+jwt` next to a provider (before, a second issuer switched the requirement off for
/// both), and the provider's tokens follow `AUTH_OIDC_TYP` (default `any`).
#[tokio::test]
async fn each_issuer_of_the_demo_has_its_own_typ_rule() {
    let key = KeyFile::fresh("typ");
    let provider = start(&key, 0);
    let secret = "a demo secret that is at least thirty-two bytes long";
    let theirs = token(&provider);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(theirs.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header["typ"], "at+jwt",
        "oidc-provider types its JWT access tokens"
    );
    let demo = |typ: Option<&str>| {
        let mut env = vec![
            ("AUTH_JWT_SECRET", secret),
            ("AUTH_OIDC_ISSUER", provider.issuer()),
            ("AUTH_OIDC_AUDIENCE", RESOURCE),
        ];
        if let Some(t) = typ {
            env.push(("AUTH_OIDC_TYP", t));
        }
        let config = demo_server::config::Config::from_env(|k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap();
        demo_server::app_with(demo_server::Demo::from_config(&config).unwrap().0).unwrap()
    };
    for (typ, expected) in [
        (None, StatusCode::OK),
        (Some("any"), StatusCode::OK),
        (Some("at+jwt"), StatusCode::OK),
        (Some("application/at+jwt"), StatusCode::OK),
        (Some("jwt"), StatusCode::UNAUTHORIZED),
    ] {
        let (status, body) = call_path(&demo(typ), "/api/me", Some(&theirs)).await;
        assert_eq!(status, expected, "AUTH_OIDC_TYP={typ:?}: {body}");
    }
    // The demo's own token without `typ: at+jwt` is refused whatever the provider's rule.
    let claims = json!({"sub": "own", "iss": "auth-demo", "aud": "auth-demo-api",
                        "exp": u32::MAX, "iat": 1_000_000_000u32});
    let untyped = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let (status, body) = call_path(&demo(None), "/api/me", Some(&untyped)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_TOKEN");
    provider.stop();
}
