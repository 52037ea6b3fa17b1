//! Round trips and latency per request with the PostgreSQL stores and a warm pool:
//! `ApiKeys::verify` (a valid key) and `RefreshTokens::rotate` (a chain of rotations).
//!
//! The stores reach `DATABASE_URL`'s server through a loopback proxy that counts the server's
//! `ReadyForQuery` messages: each one ends one client round trip (a statement sent as
//! Bind/Execute/Sync, a `BEGIN`, a `COMMIT`, or the check sqlx runs when a connection goes
//! back to the pool, which happens after the answer, off the request's latency). The pool is
//! warmed first (connections open, statements prepared), so the counts are the steady state.
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

use auth_core::api_key::{ApiKeys, NewApiKey};
use auth_core::refresh::RefreshTokens;
use auth_postgres::test_util::{database_url_for_tests, drop_schema, unique_schema};
use auth_postgres::{PgApiKeyStore, PgBackend, PgRefreshStore};
use sqlx::postgres::PgConnectOptions;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

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
    name: &'static str,
    round_trips: f64,
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
}

async fn measure<F, Fut>(name: &'static str, n: usize, ready: &AtomicU64, mut op: F) -> Row
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    // Warm: connections open and statements prepared.
    for _ in 0..20 {
        op().await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = ready.load(Ordering::Relaxed);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        op().await;
        times.push(t.elapsed());
    }
    // Let the pool's release checks of the last requests land before counting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = ready.load(Ordering::Relaxed);
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

    let keys = ApiKeys::builder(PgApiKeyStore::new(pg.clone()))
        .prefix("bench")
        .build()
        .unwrap();
    let created = keys.create(NewApiKey::new("alice", "bench")).await.unwrap();
    let key = created.key.expose_secret().to_owned();
    let verify = measure("ApiKeys::verify (valid key)", n, &ready, || {
        let (keys, key) = (&keys, &key);
        async move {
            keys.verify(key).await.unwrap();
        }
    })
    .await;

    let refresh = RefreshTokens::builder(PgRefreshStore::new(pg.clone()))
        .build()
        .unwrap();
    let current = std::cell::RefCell::new(
        refresh
            .issue("alice")
            .await
            .unwrap()
            .token()
            .as_str()
            .to_owned(),
    );
    let rotate = measure("RefreshTokens::rotate", n, &ready, || {
        let (refresh, current) = (&refresh, &current);
        async move {
            let presented = current.borrow().clone();
            let next = refresh.rotate(&presented).await.unwrap();
            *current.borrow_mut() = next.token().as_str().to_owned();
        }
    })
    .await;

    println!("PostgreSQL stores, warm pool, N = {n} sequential requests, current-thread runtime");
    println!("| operation | round trips / request | mean µs | p50 µs | p99 µs |");
    println!("| --- | --- | --- | --- | --- |");
    for r in [verify, rotate] {
        println!(
            "| {} | {:.2} | {:.0} | {:.0} | {:.0} |",
            r.name, r.round_trips, r.mean_us, r.p50_us, r.p99_us
        );
    }
    drop_schema(&pg).await.unwrap();
}
