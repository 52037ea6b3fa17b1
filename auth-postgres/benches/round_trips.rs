//! Round trips and latency per request with the PostgreSQL stores and a warm pool, next to the
//! in-memory and the Redis stores measured in the same run: `ApiKeys::verify` (a valid key)
//! and `RefreshTokens::rotate` (a chain of rotations).
//!
//! Round trips are counted where they happen:
//!
//! - **PostgreSQL:** the stores reach `DATABASE_URL`'s server through a loopback proxy that
//!   counts the server's `ReadyForQuery` messages: each one ends one client round trip (a
//!   statement sent as Bind/Execute/Sync, a `BEGIN`, a `COMMIT`, or the check sqlx runs when a
//!   connection goes back to the pool, which happens after the answer, off the request's
//!   latency). The pool is warmed first (connections open, statements prepared), so the counts
//!   are the steady state.
//! - **Redis:** the commands the stores send, from `INFO commandstats` before and after (each
//!   store operation is one command, a script or a read; the commands scripts run inside the
//!   server are not round trips and are not counted). A private `redis-server` when one can be
//!   started, otherwise `REDIS_URL`; without either the Redis rows are left out.
//! - **memory:** none.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p auth-postgres --bench round_trips --features test-util            # N = 2000
//! ... -- --test                                                                         # N = 20
//! ```

// Fixture setup in a benchmark should stop the run loudly when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_core::api_key::{ApiKeyStore, ApiKeys, MemoryApiKeyStore, NewApiKey};
use auth_core::refresh::{MemoryRefreshStore, RefreshTokenStore, RefreshTokens};
use auth_postgres::test_util::{database_url_for_tests, drop_schema, unique_schema};
use auth_postgres::{PgApiKeyStore, PgBackend, PgRefreshStore};
use auth_redis::test_util::{
    TestRedis, command_calls, delete_prefix, private_redis_server, redis_for_tests, unique_prefix,
};
use auth_redis::{RedisApiKeyStore, RedisBackend, RedisRefreshStore};
use sqlx::postgres::PgConnectOptions;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What the Redis stores send; everything else in `INFO commandstats` runs inside a script.
const REDIS_CLIENT_COMMANDS: [&str; 5] = ["evalsha", "eval", "script|load", "hgetall", "mget"];

/// Starts a proxy to `target` that counts `ReadyForQuery` ('Z') messages from the server.
async fn counting_proxy(target: (String, u16), ready: Arc<AtomicU64>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect((target.0.as_str(), target.1))
                .await
                .unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            });
            let ready = Arc::clone(&ready);
            tokio::spawn(async move {
                // Server messages: 1 type byte, 4 length bytes (including themselves), body.
                let mut pending: Vec<u8> = Vec::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    let mut at = 0;
                    while pending.len() >= at + 5 {
                        let len = u32::from_be_bytes(pending[at + 1..at + 5].try_into().unwrap())
                            as usize;
                        if pending.len() < at + 1 + len {
                            break;
                        }
                        if pending[at] == b'Z' {
                            ready.fetch_add(1, Ordering::Relaxed);
                        }
                        at += 1 + len;
                    }
                    pending.drain(..at);
                    if cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

struct Row {
    name: String,
    round_trips: f64,
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
}

/// Where a row's round trips are counted.
enum Counter<'a> {
    /// In-process stores: no round trips.
    Memory,
    /// `ReadyForQuery` messages seen by the counting proxy.
    Postgres(&'a AtomicU64),
    /// Commands the stores sent to this Redis.
    Redis(&'a RedisBackend),
}

impl Counter<'_> {
    async fn read(&self) -> u64 {
        match self {
            Self::Memory => 0,
            Self::Postgres(ready) => ready.load(Ordering::Relaxed),
            Self::Redis(redis) => {
                let calls = command_calls(redis).await.unwrap();
                REDIS_CLIENT_COMMANDS
                    .iter()
                    .filter_map(|c| calls.get(*c))
                    .sum()
            }
        }
    }
}

async fn measure<F, Fut>(name: String, n: usize, counter: &Counter<'_>, mut op: F) -> Row
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    // Warm: connections open, statements prepared, scripts loaded.
    for _ in 0..20 {
        op().await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = counter.read().await;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        op().await;
        times.push(t.elapsed());
    }
    // Let the pool's release checks of the last requests land before counting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = counter.read().await;
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    Row {
        name,
        round_trips: (after - before) as f64 / n as f64,
        mean_us: times.iter().map(|d| us(*d)).sum::<f64>() / n as f64,
        p50_us: us(times[n / 2]),
        p99_us: us(times[(n * 99 / 100).min(n - 1)]),
    }
}

/// The two rows of one backend: verifying a valid API key, and rotating a refresh token.
async fn rows(
    backend: &str,
    n: usize,
    counter: &Counter<'_>,
    keys: impl ApiKeyStore + 'static,
    refresh: impl RefreshTokenStore + 'static,
) -> [Row; 2] {
    let keys = ApiKeys::builder(keys).prefix("bench").build().unwrap();
    let created = keys.create(NewApiKey::new("alice", "bench")).await.unwrap();
    let key = created.key.expose_secret().to_owned();
    let verify = measure(
        format!("`ApiKeys::verify` (valid key), {backend}"),
        n,
        counter,
        || {
            let (keys, key) = (&keys, &key);
            async move {
                keys.verify(key).await.unwrap();
            }
        },
    )
    .await;

    let refresh = RefreshTokens::builder(refresh).build().unwrap();
    let first = refresh.issue("alice").await.unwrap();
    let current = std::cell::RefCell::new(first.token().as_str().to_owned());
    let rotate = measure(
        format!("`RefreshTokens::rotate`, {backend}"),
        n,
        counter,
        || {
            let (refresh, current) = (&refresh, &current);
            async move {
                let presented = current.borrow().clone();
                let next = refresh.rotate(&presented).await.unwrap();
                *current.borrow_mut() = next.token().as_str().to_owned();
            }
        },
    )
    .await;
    [verify, rotate]
}

/// A Redis that only this run talks to when one can be started, else `REDIS_URL`.
enum BenchRedis {
    Private(auth_redis::test_util::RedisServer),
    Shared(TestRedis),
}

impl BenchRedis {
    fn find() -> Option<Self> {
        if let Ok(Some(server)) = private_redis_server() {
            return Some(Self::Private(server));
        }
        match redis_for_tests() {
            Ok(Some(shared)) => Some(Self::Shared(shared)),
            Ok(None) | Err(_) => {
                eprintln!("no Redis: the Redis rows are left out");
                None
            }
        }
    }

    fn url(&self) -> String {
        match self {
            Self::Private(s) => s.url(),
            Self::Shared(s) => s.url(),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = if std::env::args().any(|a| a == "--test") {
        20
    } else {
        2000
    };
    let Some(url) = database_url_for_tests() else {
        return;
    };
    let o: PgConnectOptions = url.parse().unwrap();
    let ready = Arc::new(AtomicU64::new(0));
    let port = counting_proxy((o.get_host().to_owned(), o.get_port()), Arc::clone(&ready)).await;
    let proxied = format!(
        "postgres://{}@127.0.0.1:{port}/{}",
        o.get_username(),
        o.get_database().unwrap_or("postgres")
    );
    let pg = PgBackend::builder(proxied)
        .schema(unique_schema("bench"))
        .build()
        .unwrap();
    pg.migrate().await.unwrap();

    let mut table = Vec::new();
    table.extend(
        rows(
            "memory",
            n,
            &Counter::Memory,
            MemoryApiKeyStore::new(),
            MemoryRefreshStore::new(),
        )
        .await,
    );
    let redis_server = BenchRedis::find();
    if let Some(server) = &redis_server {
        let redis = RedisBackend::builder(server.url())
            .prefix(unique_prefix("bench"))
            .build()
            .unwrap();
        table.extend(
            rows(
                "Redis",
                n,
                &Counter::Redis(&redis),
                RedisApiKeyStore::new(redis.clone()),
                RedisRefreshStore::new(redis.clone()),
            )
            .await,
        );
        delete_prefix(&redis).await.unwrap();
    }
    table.extend(
        rows(
            "PostgreSQL",
            n,
            &Counter::Postgres(&ready),
            PgApiKeyStore::new(pg.clone()),
            PgRefreshStore::new(pg.clone()),
        )
        .await,
    );

    println!("Warm stores, N = {n} sequential requests, current-thread runtime");
    println!("| operation, store | round trips / request | mean µs | p50 µs | p99 µs |");
    println!("| --- | --- | --- | --- | --- |");
    for r in table {
        println!(
            "| {} | {:.2} | {:.1} | {:.1} | {:.1} |",
            r.name, r.round_trips, r.mean_us, r.p50_us, r.p99_us
        );
    }
    drop_schema(&pg).await.unwrap();
}
