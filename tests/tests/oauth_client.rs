//! OAuth 2.0 client credentials against a real OpenID Provider (npm `oidc-provider`, pinned in
//! `tests/oidc/package.json`): `client_secret_basic` (with a secret full of characters RFC 6749
//! section 2.3.1 encodes), `client_secret_post` and `private_key_jwt` clients get tokens through
//! `TokenManager` (token endpoint discovered from the issuer), and the project's own
//! `BearerLayer`, with the provider's JWKS, accepts them, both directly and on requests sent
//! through `AccessTokenLayer`.
//!
//! Needs Node.js and `npm ci --prefix tests/oidc` (or `bash tests/interop/install.sh`); without
//! them every test here fails with that instruction.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use auth_core::Principal;
use auth_core::clock::ManualClock;
use auth_core::jwks::JwksSource;
use auth_core::jwt::{Algorithm, JwtVerifier, SigningKey};
use auth_core::oauth_client::{AssertionAudience, ClientAuth, TokenManager, TokenManagerBuilder};
use auth_integration_tests::oidc::{self, KeyFile, OidcProvider, RESOURCE};
use auth_tower::bearer::BearerLayer;
use auth_tower::client::{AccessTokenLayer, OutboundError};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Value, json};
use tower::{Layer as _, ServiceExt as _};

fn start(key: &KeyFile) -> OidcProvider {
    OidcProvider::start(key, 0).unwrap_or_else(|e| panic!("{e}"))
}

/// The provider's resource server: `/me` behind `BearerLayer`, keys by OpenID discovery.
fn api(issuer: &str) -> Router {
    let clock = ManualClock::starting_now();
    let keys = JwksSource::from_oidc_issuer(issuer)
        .clock(clock.clone())
        .build()
        .unwrap();
    let verifier = JwtVerifier::builder()
        .jwks(keys)
        .audience(RESOURCE)
        .require_type("at+jwt")
        .clock(clock)
        .build()
        .unwrap();
    Router::new()
        .route(
            "/me",
            get(|Extension(p): Extension<Principal>| async move {
                axum::Json(json!({"sub": p.subject(), "scopes": p.scopes()}))
            }),
        )
        .layer(BearerLayer::new(verifier))
}

fn manager(auth: ClientAuth, issuer: &str) -> TokenManagerBuilder {
    TokenManager::builder(auth)
        .issuer(issuer)
        .resource(RESOURCE)
        .scope("read:orders")
}

async fn me(app: &Router, authorization: &str) -> (StatusCode, Value) {
    let res = app
        .clone()
        .oneshot(
            Request::get("/me")
                .header(header::AUTHORIZATION, authorization)
                .body(Body::empty())
                .unwrap(),
        )
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

/// Gets a token with `tokens`, checks `BearerLayer` accepts it for `client_id`, then sends a
/// request through `AccessTokenLayer` to the same API.
async fn token_is_accepted(tokens: &TokenManager, app: &Router, client_id: &str) {
    let token = tokens
        .access_token()
        .await
        .unwrap_or_else(|e| panic!("{client_id}: {e}"));
    let (status, body) = me(app, token.authorization()).await;
    assert_eq!(status, StatusCode::OK, "{client_id}: {body}");
    assert_eq!(body["sub"], client_id);
    assert_eq!(body["scopes"], json!(["read:orders"]));

    let client = AccessTokenLayer::new(tokens.clone()).layer(app.clone());
    let res = client
        .oneshot(Request::get("/me").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{client_id} through AccessTokenLayer"
    );
}

#[tokio::test]
async fn client_secret_basic_with_a_secret_that_needs_encoding_gets_an_accepted_token() {
    let key = KeyFile::fresh("basic");
    let provider = start(&key);
    let app = api(provider.issuer());
    let auth =
        ClientAuth::client_secret_basic(oidc::BASIC_CLIENT_ID, oidc::BASIC_CLIENT_SECRET).unwrap();
    let tokens = manager(auth, provider.issuer()).build().unwrap();
    token_is_accepted(&tokens, &app, oidc::BASIC_CLIENT_ID).await;
    // Plain credentials (the harness's `test-client`) too.
    let plain = ClientAuth::client_secret_basic(oidc::CLIENT_ID, oidc::CLIENT_SECRET).unwrap();
    let tokens = manager(plain, provider.issuer()).build().unwrap();
    token_is_accepted(&tokens, &app, oidc::CLIENT_ID).await;
    provider.stop();
}

#[tokio::test]
async fn client_secret_post_gets_an_accepted_token() {
    let key = KeyFile::fresh("post");
    let provider = start(&key);
    let app = api(provider.issuer());
    let auth =
        ClientAuth::client_secret_post(oidc::POST_CLIENT_ID, oidc::POST_CLIENT_SECRET).unwrap();
    let tokens = manager(auth, provider.issuer()).build().unwrap();
    token_is_accepted(&tokens, &app, oidc::POST_CLIENT_ID).await;
    provider.stop();
}

#[tokio::test]
async fn private_key_jwt_gets_an_accepted_token_with_either_assertion_audience() {
    let key = KeyFile::fresh("jwt");
    let client_key = SigningKey::generate(Algorithm::ES256, "jwt-client-key").unwrap();
    let jwks = KeyFile::fresh("client-jwks");
    std::fs::write(
        jwks.path(),
        json!({"keys": [client_key.public_jwk().unwrap()]}).to_string(),
    )
    .unwrap();
    let provider = OidcProvider::start_with_client_jwks(&key, 0, jwks.path())
        .unwrap_or_else(|e| panic!("{e}"));
    let app = api(provider.issuer());
    let auth = ClientAuth::private_key_jwt(oidc::JWT_CLIENT_ID, client_key).unwrap();

    let by_issuer = manager(auth.clone(), provider.issuer()).build().unwrap();
    token_is_accepted(&by_issuer, &app, oidc::JWT_CLIENT_ID).await;

    let by_endpoint = manager(auth, provider.issuer())
        .assertion_audience(AssertionAudience::TokenEndpoint)
        .build()
        .unwrap();
    token_is_accepted(&by_endpoint, &app, oidc::JWT_CLIENT_ID).await;
    provider.stop();
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_and_nothing_reaches_the_api() {
    let key = KeyFile::fresh("wrong");
    let provider = start(&key);
    let app = api(provider.issuer());
    let auth = ClientAuth::client_secret_basic(oidc::BASIC_CLIENT_ID, "b+a:s%i c/&=?").unwrap();
    let tokens = manager(auth, provider.issuer()).build().unwrap();
    let err = tokens.access_token().await.unwrap_err();
    assert_eq!(err.class(), "invalid_client", "{err}");

    let client = AccessTokenLayer::new(tokens).layer(app);
    let err = client
        .oneshot(Request::get("/me").body(Body::empty()).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::Token(_)), "{err}");
    provider.stop();
}
