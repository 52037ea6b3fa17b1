//! At most one round trip per request per layer on the hot path, counted by the server
//! (`INFO commandstats` of a private `redis-server`, commands the clients sent; the commands
//! scripts run inside the server are not round trips):
//!
//! | request | round trips |
//! |---|---|
//! | `BearerLayer` with revocation, token not revoked | 1 (`MGET`) |
//! | `ApiKeyLayer`, valid key (usage write already coalesced) | 1 (`HGETALL`) |
//! | `BruteForceLayer`, refused attempt | 1 (admission script) |
//! | `BruteForceLayer`, admitted login | 2: the admission before the handler and the outcome after it |
//! | `RefreshTokens::rotate` | 1 (rotation script) |
//!
//! The same in each mode: one server over plain TCP, one over TLS (feature `tls`), and a
//! Redis Cluster (feature `cluster`; counted on every primary), since each operation's keys
//! share one hash slot and so go to one node in one command.
//!
//! The `round_trips` bench prints the same counts with latencies.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::api_key::{ApiKeys, NewApiKey};
use auth_core::brute_force::{BruteForceLimiter, BruteForcePolicy, LoginAttempt};
use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey, TokenIssuer};
use auth_core::refresh::RefreshTokens;
use auth_redis::test_util::{command_calls, private_redis_server};
use auth_redis::{
    RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore, RedisRevocationStore,
};
use auth_tower::api_key::ApiKeyLayer;
use auth_tower::bearer::BearerLayer;
use auth_tower::brute_force::{BruteForceLayer, ClientAddr};
use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use http::{Request, StatusCode, header};
use tower::ServiceExt;

const N: u64 = 10;
const CLIENT_COMMANDS: [&str; 6] = ["evalsha", "eval", "script|load", "mget", "hgetall", "ping"];

/// Where the commands are counted.
enum Counter<'a> {
    /// The one server the backend talks to.
    Server,
    /// Every primary of a cluster.
    #[cfg(feature = "cluster")]
    Cluster(&'a auth_redis::test_util::RedisCluster),
    #[allow(dead_code)]
    Unused(std::marker::PhantomData<&'a ()>),
}

impl Counter<'_> {
    async fn calls(&self, redis: &RedisBackend) -> BTreeMap<String, u64> {
        match self {
            Self::Server => command_calls(redis).await.unwrap(),
            #[cfg(feature = "cluster")]
            Self::Cluster(c) => c.command_calls().unwrap(),
            Self::Unused(_) => unreachable!(),
        }
    }
}

/// Commands the clients sent during `f`.
async fn sent_during<F: Future<Output = ()>>(
    redis: &RedisBackend,
    counter: &Counter<'_>,
    f: F,
) -> BTreeMap<String, u64> {
    let before = counter.calls(redis).await;
    f.await;
    let after = counter.calls(redis).await;
    after
        .into_iter()
        .filter(|(c, _)| CLIENT_COMMANDS.contains(&c.as_str()))
        .map(|(c, n)| {
            let d = n - before.get(&c).copied().unwrap_or(0);
            (c, d)
        })
        .filter(|(_, d)| *d > 0)
        .collect()
}

fn expect(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect()
}

async fn status(app: &Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

fn login(i: u32) -> Request<Body> {
    let mut req = Request::post("/login").body(Body::empty()).unwrap();
    let addr = SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 40_000));
    req.extensions_mut().insert(ClientAddr(addr));
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_layer_makes_at_most_one_round_trip_per_request() {
    let Some(server) = private_redis_server().expect("a private redis-server") else {
        return;
    };
    let redis = RedisBackend::builder(server.url())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    measure(&redis, &Counter::Server).await;
}

#[cfg(feature = "tls")]
mod common;

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_layer_makes_at_most_one_round_trip_per_request_over_tls() {
    let pki = common::pki::pki();
    let Some((_server, port)) = common::pki::tls_server(&pki, false) else {
        return;
    };
    let redis = RedisBackend::builder(format!("rediss://localhost:{port}"))
        .tls_ca_file(pki.path("ca.pem"))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    // INFO over the same TLS connection counts on the same server.
    measure(&redis, &Counter::Server).await;
}

#[cfg(feature = "cluster")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_layer_makes_at_most_one_round_trip_per_request_on_a_cluster() {
    let Some(cluster) =
        auth_redis::test_util::private_redis_cluster().expect("a private redis cluster")
    else {
        return;
    };
    let redis = RedisBackend::cluster_builder(cluster.seeds())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    measure(&redis, &Counter::Cluster(&cluster)).await;
}

async fn measure(redis: &RedisBackend, counter: &Counter<'_>) {
    let redis = redis.clone();

    let issuer = TokenIssuer::builder(KeyRing::new(
        SigningKey::generate(Algorithm::HS256, "rt").unwrap(),
    ))
    .issuer("https://auth.example.test/")
    .audience("api")
    .build()
    .unwrap();
    let token = issuer.issue(&AccessGrant::new("user-1")).unwrap();
    let bearer = format!("Bearer {}", token.as_str());
    let me = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(
            BearerLayer::builder(issuer.verifier_builder().build().unwrap())
                .revocation(Arc::new(RedisRevocationStore::new(redis.clone())))
                .build()
                .unwrap(),
        );

    let keys = ApiKeys::builder(RedisApiKeyStore::new(redis.clone()))
        .prefix("rt_live")
        .build()
        .unwrap();
    let key = keys
        .create(NewApiKey::new("alice", "ci"))
        .await
        .unwrap()
        .key
        .expose_secret()
        .to_owned();
    let orders = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .route_layer(ApiKeyLayer::new(keys));

    let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
        .store(Arc::new(RedisAttemptStore::new(redis.clone())))
        .build()
        .unwrap();
    let login_app = Router::new()
        .route(
            "/login",
            post(|| async {
                (
                    axum::Extension(LoginAttempt::success("a@example.com")),
                    "ok",
                )
                    .into_response()
            }),
        )
        .route_layer(BruteForceLayer::new(limiter));

    let refresh = RefreshTokens::builder(RedisRefreshStore::new(redis.clone()))
        .build()
        .unwrap();

    // Warm up: scripts loaded, the API key's coalesced last_used_at written.
    let get_me = || {
        let mut r = Request::get("/me").body(Body::empty()).unwrap();
        r.headers_mut()
            .insert(header::AUTHORIZATION, bearer.parse().unwrap());
        r
    };
    let get_orders = || {
        let mut r = Request::get("/orders").body(Body::empty()).unwrap();
        r.headers_mut().insert("x-api-key", key.parse().unwrap());
        r
    };
    assert_eq!(status(&me, get_me()).await, StatusCode::OK);
    assert_eq!(status(&orders, get_orders()).await, StatusCode::OK);
    assert_eq!(status(&login_app, login(9999)).await, StatusCode::OK);
    let mut current = refresh.issue("alice").await.unwrap();
    current = refresh.rotate(current.token().as_str()).await.unwrap();
    // Let the spawned usage write land before counting.
    let started = std::time::Instant::now();
    while keys_last_used(&redis).await.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "usage write never landed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let sent = sent_during(&redis, counter, async {
        for _ in 0..N {
            assert_eq!(status(&me, get_me()).await, StatusCode::OK);
        }
    })
    .await;
    assert_eq!(sent, expect(&[("mget", N)]), "BearerLayer + revocation");

    let sent = sent_during(&redis, counter, async {
        for _ in 0..N {
            assert_eq!(status(&orders, get_orders()).await, StatusCode::OK);
        }
    })
    .await;
    assert_eq!(sent, expect(&[("hgetall", N)]), "ApiKeyLayer");

    let sent = sent_during(&redis, counter, async {
        for i in 0..N {
            let i = u32::try_from(i).unwrap();
            assert_eq!(status(&login_app, login(i)).await, StatusCode::OK);
        }
    })
    .await;
    assert_eq!(
        sent,
        expect(&[("evalsha", 2 * N)]),
        "BruteForceLayer, admitted: one before and one after the handler"
    );

    for _ in 0..5 {
        status(&login_app, login(5000)).await;
    }
    let sent = sent_during(&redis, counter, async {
        for _ in 0..N {
            assert_eq!(
                status(&login_app, login(5000)).await,
                StatusCode::TOO_MANY_REQUESTS
            );
        }
    })
    .await;
    assert_eq!(sent, expect(&[("evalsha", N)]), "BruteForceLayer, refused");

    let sent = sent_during(&redis, counter, async {
        for _ in 0..N {
            current = refresh.rotate(current.token().as_str()).await.unwrap();
        }
    })
    .await;
    assert_eq!(sent, expect(&[("evalsha", N)]), "RefreshTokens::rotate");
}

/// The `last_used_at` of alice's only API key, once written.
async fn keys_last_used(redis: &RedisBackend) -> Option<String> {
    let store = RedisApiKeyStore::new(redis.clone());
    use auth_core::api_key::ApiKeyStore as _;
    let listed = store.list_by_owner("alice").await.ok()?;
    let r = listed.first()?;
    r.last_used_at.map(|t| t.as_secs().to_string())
}
