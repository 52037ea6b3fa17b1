//! Does API-key verification cost depend on how many keys are stored? It must not: a key is
//! hashed and looked up by digest (one dashmap lookup), never compared against a list.
//!
//! One criterion group, `api_key`, with a memory store holding 1 key and one holding 1,000,000:
//!
//! - `verify/1`: `ApiKeys::verify` of the only key (format + checksum, SHA-256, lookup, status,
//!   usage coalescer, `Principal`).
//! - `verify/1000000-same`: the same work with a million keys stored, one key over and over
//!   (its entry stays in cache: the best case).
//! - `verify/1000000-spread`: a million keys stored, cycling through 4,096 of them spread over
//!   the whole store (entries mostly out of cache; `auth-bench` sets this against a store of
//!   4,096 keys used in turn, to tell the store's size from the access pattern).
//! - `layer/1`, `layer/1000000-spread`: the same through an axum router behind
//!   `ApiKeyLayer` (`oneshot` on a clone, as the bearer bench does); `bare` is the router
//!   alone, for the layer's overhead.
//! - `reject/typo`: a mistyped key, refused by its checksum without a lookup.
//! - `lookup/1`, `lookup/1000000-spread`: `MemoryApiKeyStore::find_by_hash_now` alone (the
//!   lookup verification makes; digests computed beforehand), to show where the cold-cache
//!   cost of the spread rows sits.
//!
//! `last_used_at` coalescing runs as in production, in its steady state: every sampled key is
//! used (and its usage written) before measuring, with a one-hour interval so no write falls
//! due during the run. A key in use then carries a fresh `last_used_at` and the coalescer
//! answers "no write" from the record alone; the rows measure the request path only.
//!
//! After the group, a plain interleaved timing loop prints the 1M/1 ratios directly.
//!
//! ```text
//! cargo bench -p auth-tower --features api-key --bench api_key            # measure
//! cargo bench -p auth-tower --features api-key --bench api_key -- --test  # smoke run
//! ```
//!
//! The smoke run (`--test`) stores 10,000 keys instead of a million to stay quick.

// Fixture setup in a benchmark should stop the run loudly when it fails, so unwrap/expect are
// fine here (the workspace lints only warn about them for library code).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use auth_core::api_key::{ApiKeyHash, ApiKeys, MemoryApiKeyStore, NewApiKey};
use auth_tower::api_key::ApiKeyLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, StatusCode, Uri};
use tower::{Service, ServiceExt};

const PREFIX: &str = "bench_live";
/// How many keys the spread rows cycle through.
const SAMPLE: usize = 4096;

fn smoke() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// A store with `n` keys, and the plaintexts of up to `SAMPLE` of them spread evenly.
fn store_with(rt: &tokio::runtime::Runtime, n: usize) -> (ApiKeys, Vec<HeaderValue>) {
    let keys = ApiKeys::builder(MemoryApiKeyStore::new())
        .prefix(PREFIX)
        .usage_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let every = (n / SAMPLE).max(1);
    let started = Instant::now();
    let sample = rt.block_on(async {
        let mut sample = Vec::with_capacity(SAMPLE.min(n));
        for i in 0..n {
            let new =
                NewApiKey::new(format!("user-{}", i % 10_000), "bench").scopes(["read:orders"]);
            let created = keys.create(new).await.unwrap();
            if i % every == 0 && sample.len() < SAMPLE {
                sample.push(HeaderValue::from_str(created.key.expose_secret()).unwrap());
            }
        }
        sample
    });
    eprintln!(
        "stored {n} keys in {:.1?}; sampled {}",
        started.elapsed(),
        sample.len()
    );
    (keys, sample)
}

fn router() -> Router {
    Router::new().route("/orders", get(|| async { "ok" }))
}

fn layered(keys: &ApiKeys) -> Router {
    let layer = ApiKeyLayer::builder(keys.clone())
        .spawner(drop)
        .build()
        .unwrap();
    router().layer(layer)
}

fn request(key: &HeaderValue) -> Request<Body> {
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = Uri::from_static("/orders");
    req.headers_mut().insert("x-api-key", key.clone());
    req
}

async fn send<S>(svc: &S, key: &HeaderValue) -> StatusCode
where
    S: Service<Request<Body>, Response = http::Response<Body>> + Clone,
    S::Error: std::fmt::Debug,
{
    svc.clone().oneshot(request(key)).await.unwrap().status()
}

/// Verifies; runs the (rare, coalesced) usage write inline, where a server would spawn it.
async fn verify(keys: &ApiKeys, key: &HeaderValue) -> bool {
    match keys.verify(key.to_str().unwrap()).await {
        Ok(v) => {
            if let (_, Some(write)) = v.into_parts() {
                write.await;
            }
            true
        }
        Err(_) => false,
    }
}

async fn lookup(keys: &ApiKeys, hash: &ApiKeyHash) -> bool {
    matches!(keys.store().find_by_hash_now(hash), Some(Ok(Some(_))))
}

/// Nanoseconds per call of `op` over `PER_ROUND` calls cycling through `inputs`.
fn ns_per_call<'a, T, F, Fut>(rt: &tokio::runtime::Runtime, inputs: &'a [T], op: F) -> f64
where
    F: Fn(&'a T) -> Fut,
    Fut: Future<Output = bool>,
{
    const PER_ROUND: usize = 20_000;
    let started = Instant::now();
    rt.block_on(async {
        for i in 0..PER_ROUND {
            assert!(op(black_box(&inputs[i % inputs.len()])).await);
        }
    });
    #[allow(clippy::cast_precision_loss)]
    let ns = started.elapsed().as_nanos() as f64 / PER_ROUND as f64;
    ns
}

/// The median of 15 interleaved rounds of each measurement, so drift (frequency scaling,
/// other load on the machine) hits every side alike.
fn interleaved_medians(mut rounds: Vec<Box<dyn FnMut() -> f64 + '_>>) -> Vec<f64> {
    let mut samples = vec![Vec::new(); rounds.len()];
    for _ in 0..15 {
        for (round, out) in rounds.iter_mut().zip(&mut samples) {
            out.push(round());
        }
    }
    samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let big_n = if smoke() { 10_000 } else { 1_000_000 };
    let (one, one_sample) = store_with(&rt, 1);
    let (big, big_sample) = store_with(&rt, big_n);
    let big_name = big_n.to_string();
    let one_key = &one_sample[0];
    let big_key = &big_sample[big_sample.len() / 2];
    let typo = {
        let mut k = one_key.to_str().unwrap().to_owned();
        let last = k.pop().unwrap();
        k.push(if last == '0' { '1' } else { '0' });
        HeaderValue::from_str(&k).unwrap()
    };

    let bare = router();
    let one_layered = layered(&one);
    let big_layered = layered(&big);

    // Every row must do the work it claims to; this also records each sampled key's first use.
    rt.block_on(async {
        assert!(verify(&one, one_key).await);
        assert!(verify(&big, big_key).await);
        for k in &big_sample {
            assert!(verify(&big, k).await);
        }
        assert!(!verify(&one, &typo).await);
        assert_eq!(send(&bare, one_key).await, StatusCode::OK);
        assert_eq!(send(&one_layered, one_key).await, StatusCode::OK);
        assert_eq!(send(&big_layered, big_key).await, StatusCode::OK);
        assert_eq!(send(&one_layered, &typo).await, StatusCode::UNAUTHORIZED);
        let anonymous = Request::get("/orders").body(Body::empty()).unwrap();
        let res = one_layered.clone().oneshot(anonymous).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    });

    let mut group = c.benchmark_group("api_key");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.bench_function(BenchmarkId::new("verify", "1"), |b| {
        b.to_async(&rt).iter(|| verify(&one, black_box(one_key)));
    });
    group.bench_function(
        BenchmarkId::new("verify", format!("{big_name}-same")),
        |b| {
            b.to_async(&rt).iter(|| verify(&big, black_box(big_key)));
        },
    );
    let mut i = 0usize;
    group.bench_function(
        BenchmarkId::new("verify", format!("{big_name}-spread")),
        |b| {
            b.to_async(&rt).iter(|| {
                i = i.wrapping_add(1);
                verify(&big, black_box(&big_sample[i % big_sample.len()]))
            });
        },
    );
    group.bench_function(BenchmarkId::new("reject", "typo"), |b| {
        b.to_async(&rt).iter(|| verify(&one, black_box(&typo)));
    });
    group.bench_function(BenchmarkId::new("bare", "1"), |b| {
        b.to_async(&rt).iter(|| send(&bare, black_box(one_key)));
    });
    group.bench_function(BenchmarkId::new("layer", "1"), |b| {
        b.to_async(&rt)
            .iter(|| send(&one_layered, black_box(one_key)));
    });
    let mut j = 0usize;
    group.bench_function(
        BenchmarkId::new("layer", format!("{big_name}-spread")),
        |b| {
            b.to_async(&rt).iter(|| {
                j = j.wrapping_add(1);
                send(&big_layered, black_box(&big_sample[j % big_sample.len()]))
            });
        },
    );
    let one_hashes: Vec<ApiKeyHash> = one_sample
        .iter()
        .map(|k| one.hash(k.to_str().unwrap()))
        .collect();
    let big_hashes: Vec<ApiKeyHash> = big_sample
        .iter()
        .map(|k| big.hash(k.to_str().unwrap()))
        .collect();
    group.bench_function(BenchmarkId::new("lookup", "1"), |b| {
        b.to_async(&rt)
            .iter(|| lookup(&one, black_box(&one_hashes[0])));
    });
    let mut h = 0usize;
    group.bench_function(
        BenchmarkId::new("lookup", format!("{big_name}-spread")),
        |b| {
            b.to_async(&rt).iter(|| {
                h = h.wrapping_add(1);
                lookup(&big, black_box(&big_hashes[h % big_hashes.len()]))
            });
        },
    );
    group.finish();

    if !smoke() {
        let big_same = std::slice::from_ref(big_key);
        let m = interleaved_medians(vec![
            Box::new(|| ns_per_call(&rt, &one_sample, |k| verify(&one, k))),
            Box::new(|| ns_per_call(&rt, big_same, |k| verify(&big, k))),
            Box::new(|| ns_per_call(&rt, &big_sample, |k| verify(&big, k))),
            Box::new(|| ns_per_call(&rt, &one_hashes, |d| lookup(&one, d))),
            Box::new(|| ns_per_call(&rt, &big_hashes, |d| lookup(&big, d))),
        ]);
        eprintln!("interleaved medians (ns per call; ratio to the 1-key store):");
        eprintln!("  verify, 1 key               {:>6.0}", m[0]);
        eprintln!(
            "  verify, {big_name} keys, same key  {:>6.0}  ({:.3})",
            m[1],
            m[1] / m[0]
        );
        eprintln!(
            "  verify, {big_name} keys, spread    {:>6.0}  ({:.3})",
            m[2],
            m[2] / m[0]
        );
        eprintln!("  lookup, 1 key               {:>6.0}", m[3]);
        eprintln!(
            "  lookup, {big_name} keys, spread    {:>6.0}  ({:.3})",
            m[4],
            m[4] / m[3]
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
