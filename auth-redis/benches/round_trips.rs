//! Round trips and latency per request per layer, with the Redis stores and with the in-memory
//! ones next to them.
//!
//! Each row sends `N` requests one after the other through a tower stack (an axum route behind
//! the layer), once on a current-thread Tokio runtime and once on a multi-thread one, and
//! reports:
//!
//! - **round trips / request**: the commands the stores sent per request (`INFO commandstats`
//!   before and after; each store operation is one command, so this is the number of round
//!   trips), which ones, and the commands the scripts ran inside the server (not round trips);
//! - **latency**: mean, p50 and p99 of the whole request through the stack, in microseconds.
//!
//! Rows: `BearerLayer` with a revocation store (token not revoked); `ApiKeyLayer` (valid key;
//! `last_used_at` is written at most once per key per minute, off the request path, so the
//! first request's write shows as a fraction); `BruteForceLayer` on a login that succeeds (one
//! script before the handler, one after) and on a client over its rate limit (refused before
//! the handler); `RefreshTokens::rotate` (a chain of rotations).
//!
//! Redis: a private `redis-server` when one can be started (so nothing else touches the
//! counters), otherwise `REDIS_URL`.
//!
//! ```text
//! cargo bench -p auth-redis --bench round_trips --all-features            # N = 2000
//! cargo bench -p auth-redis --bench round_trips --all-features -- --test  # smoke run, N = 20
//! ```

// Fixture setup in a benchmark should stop the run loudly when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::api_key::{ApiKeyStore, ApiKeys, MemoryApiKeyStore, NewApiKey};
use auth_core::brute_force::{
    AttemptStore, BruteForceLimiter, BruteForcePolicy, LoginAttempt, MemoryAttemptStore,
};
use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey, TokenIssuer};
use auth_core::refresh::{MemoryRefreshStore, RefreshTokenStore, RefreshTokens};
use auth_core::revocation::{MemoryRevocationStore, RevocationStore};
use auth_redis::test_util::{
    TestRedis, command_calls, delete_prefix, private_redis_server, redis_for_tests, unique_prefix,
};
use auth_redis::{
    RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore, RedisRevocationStore,
};
use auth_tower::api_key::ApiKeyLayer;
use auth_tower::bearer::BearerLayer;
use auth_tower::brute_force::{BruteForceLayer, ClientAddr};
use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::get;
use http::{HeaderValue, Request, StatusCode, header};
use tower::ServiceExt;

/// What the stores send: everything else in `INFO commandstats` runs inside a script.
const CLIENT_COMMANDS: [&str; 6] = ["evalsha", "eval", "script|load", "mget", "hgetall", "ping"];

fn is_test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

struct Row {
    name: String,
    round_trips: f64,
    commands: String,
    latencies: Vec<Duration>,
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

impl Row {
    fn print(&self) {
        let mut l = self.latencies.clone();
        l.sort();
        let pick = |q: f64| {
            let i = ((l.len() as f64 - 1.0) * q).round() as usize;
            micros(l[i])
        };
        let mean = micros(l.iter().sum::<Duration>()) / l.len() as f64;
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.0} |",
            self.name,
            if self.round_trips.is_nan() {
                "-".to_owned()
            } else {
                format!("{:.2}", self.round_trips)
            },
            self.commands,
            mean,
            pick(0.5),
            pick(0.99),
        );
    }
}

/// Sends `n` requests made by `make(i)` through `send`, timing each, and counts the Redis
/// commands they caused (when `redis` is given).
async fn measure<F, Fut>(name: &str, redis: Option<&RedisBackend>, n: usize, mut request: F) -> Row
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    // Warm up (connection, script cache, allocator) outside the counted window.
    for i in 0..n.min(50) {
        request(usize::MAX - i).await;
    }
    let before = match redis {
        Some(r) => Some(command_calls(r).await.unwrap()),
        None => None,
    };
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        request(i).await;
        latencies.push(t.elapsed());
    }
    let (round_trips, commands) = match (redis, before) {
        (Some(r), Some(before)) => {
            let after = command_calls(r).await.unwrap();
            // `INFO commandstats` also counts the commands scripts run inside the server; only
            // what a client sends is a round trip.
            let mut sent: BTreeMap<String, f64> = BTreeMap::new();
            let mut inside: BTreeMap<String, f64> = BTreeMap::new();
            let mut total = 0u64;
            for (cmd, calls) in &after {
                if cmd == "info" {
                    continue;
                }
                let d = calls - before.get(cmd).copied().unwrap_or(0);
                if d == 0 {
                    continue;
                }
                let per_request = d as f64 / n as f64;
                if CLIENT_COMMANDS.contains(&cmd.as_str()) {
                    total += d;
                    sent.insert(cmd.clone(), per_request);
                } else {
                    inside.insert(cmd.clone(), per_request);
                }
            }
            let show = |m: &BTreeMap<String, f64>| {
                m.iter()
                    .map(|(c, v)| format!("{c} {v:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let inside = if inside.is_empty() {
                "none".to_owned()
            } else {
                show(&inside)
            };
            (
                total as f64 / n as f64,
                format!("{} (inside scripts: {inside})", show(&sent)),
            )
        }
        _ => (f64::NAN, "in memory".to_owned()),
    };
    Row {
        name: name.to_owned(),
        round_trips,
        commands,
        latencies,
    }
}

async fn status(svc: &Router, req: Request<Body>) -> StatusCode {
    svc.clone().oneshot(req).await.unwrap().status()
}

fn login_request(client: usize) -> Request<Body> {
    let mut req = Request::post("/login").body(Body::empty()).unwrap();
    let ip = Ipv4Addr::from(0x0a00_0000u32.wrapping_add(client as u32));
    req.extensions_mut()
        .insert(ClientAddr(SocketAddr::new(IpAddr::V4(ip), 40_000)));
    req
}

struct Stacks {
    bearer: Router,
    api_key: Router,
    login: Router,
    refresh: RefreshTokens,
}

fn stacks(
    revocations: Arc<dyn RevocationStore>,
    keys: ApiKeys,
    limiter: BruteForceLimiter,
    refresh: Arc<dyn RefreshTokenStore>,
    verifier: &auth_core::jwt::JwtVerifier,
) -> Stacks {
    let bearer = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(
            BearerLayer::builder(verifier.clone())
                .revocation(revocations)
                .build()
                .unwrap(),
        );
    let api_key = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .route_layer(ApiKeyLayer::new(keys));
    let login = Router::new()
        .route(
            "/login",
            axum::routing::post(|| async {
                (
                    axum::Extension(LoginAttempt::success("bench@example.com")),
                    "ok",
                )
                    .into_response()
            }),
        )
        .route_layer(BruteForceLayer::new(limiter));
    Stacks {
        bearer,
        api_key,
        login,
        refresh: RefreshTokens::builder_shared(refresh).build().unwrap(),
    }
}

async fn rows(
    label: &str,
    redis: Option<&RedisBackend>,
    s: &Stacks,
    keys: &ApiKeys,
    bearer: &HeaderValue,
    n: usize,
) -> Vec<Row> {
    let created = keys
        .create(NewApiKey::new("bench", "bench").scopes(["read:orders"]))
        .await
        .unwrap();
    let api_key = HeaderValue::try_from(created.key.expose_secret()).unwrap();
    let mut out = Vec::new();

    out.push(
        measure(
            &format!("BearerLayer + revocation ({label})"),
            redis,
            n,
            |_| {
                let mut req = Request::get("/me").body(Body::empty()).unwrap();
                req.headers_mut()
                    .insert(header::AUTHORIZATION, bearer.clone());
                async { assert_eq!(status(&s.bearer, req).await, StatusCode::OK) }
            },
        )
        .await,
    );
    out.push(
        measure(&format!("ApiKeyLayer ({label})"), redis, n, |_| {
            let mut req = Request::get("/orders").body(Body::empty()).unwrap();
            req.headers_mut().insert("x-api-key", api_key.clone());
            async { assert_eq!(status(&s.api_key, req).await, StatusCode::OK) }
        })
        .await,
    );
    // Successful logins, each from its own address (so none is rate limited).
    out.push(
        measure(
            &format!("BruteForceLayer, login admitted ({label})"),
            redis,
            n,
            |i| {
                let req = login_request(i % 1_000_000);
                async { assert_eq!(status(&s.login, req).await, StatusCode::OK) }
            },
        )
        .await,
    );
    // One address over its limit: refused before the handler.
    for _ in 0..5 {
        status(&s.login, login_request(2_000_000)).await;
    }
    out.push(
        measure(
            &format!("BruteForceLayer, refused ({label})"),
            redis,
            n,
            |_| {
                let req = login_request(2_000_000);
                async { assert_eq!(status(&s.login, req).await, StatusCode::TOO_MANY_REQUESTS) }
            },
        )
        .await,
    );
    let first = s.refresh.issue("bench").await.unwrap();
    let current = Arc::new(std::sync::Mutex::new(first.token().as_str().to_owned()));
    out.push(
        measure(
            &format!("RefreshTokens::rotate ({label})"),
            redis,
            n,
            |_| {
                let (refresh, current) = (s.refresh.clone(), Arc::clone(&current));
                async move {
                    let presented = current.lock().unwrap().clone();
                    let rotated = refresh.rotate(&presented).await.unwrap();
                    *current.lock().unwrap() = rotated.token().as_str().to_owned();
                }
            },
        )
        .await,
    );
    out
}

fn limiter(store: impl AttemptStore) -> BruteForceLimiter {
    BruteForceLimiter::builder(BruteForcePolicy::default())
        .store(Arc::new(store))
        .build()
        .unwrap()
}

fn main() {
    let n = if is_test_mode() {
        20
    } else {
        std::env::var("BENCH_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000)
    };
    // The requests run on the thread that drives the runtime: with a current-thread runtime
    // the connection's task runs there too (the path's own cost); with a multi-thread one
    // (2 workers, as a server would run) each answer crosses threads, which on a small machine
    // shared with redis-server adds scheduling delays to the tail.
    for flavor in ["current-thread", "multi-thread (2 workers)"] {
        let rt = if flavor.starts_with("current") {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        };
        rt.block_on(run(flavor, n));
    }
}

async fn run(flavor: &str, n: usize) {
    {
        let server: TestRedis = match private_redis_server().unwrap() {
            Some(s) => TestRedis::Private(s),
            None => match redis_for_tests().unwrap() {
                Some(r) => r,
                None => {
                    eprintln!("round_trips: no Redis, nothing measured");
                    return;
                }
            },
        };
        let redis = RedisBackend::builder(server.url())
            .prefix(unique_prefix("bench"))
            .build()
            .unwrap();
        redis.ping().await.unwrap();

        let ring = KeyRing::new(SigningKey::generate(Algorithm::HS256, "bench").unwrap());
        let issuer = TokenIssuer::builder(ring)
            .issuer("https://auth.example.test/")
            .audience("orders-api")
            .lifetime(Duration::from_secs(3600))
            .build()
            .unwrap();
        let token = issuer.issue(&AccessGrant::new("user-1")).unwrap();
        let bearer = HeaderValue::try_from(format!("Bearer {}", token.as_str())).unwrap();
        let verifier = issuer.verifier_builder().build().unwrap();

        let redis_keys = ApiKeys::builder_shared(Arc::new(RedisApiKeyStore::new(redis.clone())))
            .prefix("bench_live")
            .build()
            .unwrap();
        let on_redis = stacks(
            Arc::new(RedisRevocationStore::new(redis.clone())),
            redis_keys.clone(),
            limiter(RedisAttemptStore::new(redis.clone())),
            Arc::new(RedisRefreshStore::new(redis.clone())),
            &verifier,
        );
        let memory_keys =
            ApiKeys::builder_shared(Arc::new(MemoryApiKeyStore::new()) as Arc<dyn ApiKeyStore>)
                .prefix("bench_live")
                .build()
                .unwrap();
        let in_memory = stacks(
            Arc::new(MemoryRevocationStore::new()),
            memory_keys.clone(),
            limiter(MemoryAttemptStore::new()),
            Arc::new(MemoryRefreshStore::new()),
            &verifier,
        );

        let mut all = rows("redis", Some(&redis), &on_redis, &redis_keys, &bearer, n).await;
        all.extend(rows("memory", None, &in_memory, &memory_keys, &bearer, n).await);

        println!();
        println!(
            "{n} sequential requests per row, Tokio {flavor} runtime; Redis at {} (timeout {:?})",
            match &server {
                TestRedis::Private(_) => "a private redis-server on 127.0.0.1",
                TestRedis::External(_) => "REDIS_URL",
            },
            redis.timeout()
        );
        println!();
        println!(
            "| row | round trips / request | commands sent / request | mean µs | p50 µs | p99 µs |"
        );
        println!("|---|---|---|---|---|---|");
        for row in &all {
            row.print();
        }
        delete_prefix(&redis).await.unwrap();
    }
}
