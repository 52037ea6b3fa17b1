//! Issue 20: DPoP replay across instances. Two instances, each with its own Redis connection
//! and `BearerLayer`, share one `RedisOneTimeUseStore`: a proof accepted at one is refused at
//! the other, concurrent uses of one value are accepted exactly once, and each record lives
//! only until its proof's window ends (skipped without `REDIS_URL` or a `redis-server`,
//! except under `CI=true`).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::ErrorCode;
use auth_core::clock::{Clock as _, UnixTime};
use auth_core::dpop::{
    DpopVerifier, ExternalOrigin, OneTimeUseStore, access_token_hash, jwk_thumbprint,
};
use auth_core::jwt::Algorithm;
use auth_redis::test_util::{delete_prefix, keys_with_ttl, redis_for_tests, unique_prefix};
use auth_redis::{RedisBackend, RedisOneTimeUseStore};
use auth_test::{TestAuthority, TestKey};
use auth_tower::Rejection;
use auth_tower::bearer::{BearerLayer, Dpop};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use serde_json::json;
use tower::ServiceExt;

fn connect(url: &str, prefix: &str) -> RedisBackend {
    RedisBackend::builder(url)
        .prefix(prefix.to_owned())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// One instance: its own connection and its own layer, over the shared Redis.
fn instance(redis: RedisBackend, authority: &TestAuthority) -> Router {
    let dpop = Dpop::new(
        DpopVerifier::builder()
            .clock(authority.clock().clone())
            .build()
            .unwrap(),
        ExternalOrigin::parse("https://api.example").unwrap(),
    )
    .store(Arc::new(RedisOneTimeUseStore::new(redis)));
    Router::new()
        .route("/orders", get(|| async { "orders" }))
        .route_layer(
            BearerLayer::builder(authority.verifier())
                .dpop(dpop)
                .build()
                .unwrap(),
        )
}

async fn call(app: &Router, token: &str, proof: &str) -> (StatusCode, Option<ErrorCode>) {
    let req = Request::get("/orders")
        .header(header::AUTHORIZATION, format!("DPoP {token}"))
        .header("dpop", proof)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let code = res.extensions().get::<Rejection>().map(Rejection::code);
    (res.status(), code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_used_at_one_instance_is_refused_at_the_other() {
    let server = redis_for_tests().expect("a Redis for the dpop tests");
    let Some(server) = server else { return };
    let prefix = unique_prefix("dpop");
    let authority = TestAuthority::es256();
    let a = instance(connect(&server.url(), &prefix), &authority);
    let b = instance(connect(&server.url(), &prefix), &authority);

    let key = TestKey::generate(Algorithm::ES256, "dpop").unwrap();
    let jwk = key.public_jwk().unwrap();
    let token = authority
        .token()
        .claim("cnf", json!({ "jkt": jwk_thumbprint(&jwk).unwrap() }))
        .sign();
    let proof = |jti: &str| {
        key.sign_compact(
            &json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": jwk }),
            &json!({
                "jti": jti,
                "htm": "GET",
                "htu": "https://api.example/orders",
                "iat": authority.clock().now().as_secs(),
                "ath": access_token_hash(&token),
            }),
        )
    };

    let first = proof("j1");
    assert_eq!(call(&a, &token, &first).await, (StatusCode::OK, None));
    let replayed = (StatusCode::UNAUTHORIZED, Some(ErrorCode::InvalidDpopProof));
    assert_eq!(call(&b, &token, &first).await, replayed);
    assert_eq!(call(&a, &token, &first).await, replayed);
    // Another proof of the same key is accepted at the other instance.
    assert_eq!(call(&b, &token, &proof("j2")).await, (StatusCode::OK, None));

    // One record per accepted proof, living no longer than the window (60 s back + 1 s).
    let redis = connect(&server.url(), &prefix);
    let keys = keys_with_ttl(&redis).await.unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for (k, ttl) in &keys {
        assert!(k.starts_with(&format!("{prefix}once:")), "{k}");
        assert!((1..=61_000).contains(ttl), "{k}: {ttl}");
    }
    delete_prefix(&redis).await.unwrap();
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uses_of_one_value_from_two_connections_succeed_once() {
    let server = redis_for_tests().expect("a Redis for the dpop tests");
    let Some(server) = server else { return };
    let prefix = unique_prefix("dpop-race");
    let stores = [
        Arc::new(RedisOneTimeUseStore::new(connect(&server.url(), &prefix))),
        Arc::new(RedisOneTimeUseStore::new(connect(&server.url(), &prefix))),
    ];
    let now = UnixTime::from_secs(1_750_000_000);
    let until = UnixTime::from_secs(1_750_000_061);
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = Arc::clone(&stores[i % 2]);
        tasks.push(tokio::spawn(async move {
            store.use_once("the-same-proof", until, now).await.unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(accepted, 1);
    // A value past its end is refused without being recorded.
    assert!(!stores[0].use_once("late", now, until).await.unwrap());
    let redis = connect(&server.url(), &prefix);
    assert_eq!(keys_with_ttl(&redis).await.unwrap().len(), 1);
    delete_prefix(&redis).await.unwrap();
    drop(server);
}
