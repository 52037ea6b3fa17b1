//! What a brute-force check costs as the store fills up, and what each tracked key costs in
//! memory.
//!
//! - `brute_force/check/<n>`: `BruteForceLimiter::check` on one client while the in-memory store
//!   tracks `n` keys (1 and 1,000,000): the O(1) claim. The checked client's window is full, so
//!   every call does the whole check (lookup, prune, compare, compute `Retry-After`) under the
//!   key's lock, plus the expiry-wheel probe every operation makes.
//! - `brute_force/check_spread/1000000`: each call checks a different one of the 1,000,000
//!   keys, so it also pays the cache misses of a 140 MB table (the 1-key baseline is the same
//!   as `check/1`).
//! - After the criterion rows, a summary: bytes per tracked key (net bytes the global
//!   allocator handed out while the store was filled, counted by `stats_alloc`, divided by the
//!   number of keys) and the ns/check of each row with the ratios, timed directly, next to the
//!   floor: a bare `DashMap` with entries of the same size, one random `get_mut` per call.
//!
//! ```text
//! cargo bench -p auth-tower --bench brute_force            # measure
//! cargo bench -p auth-tower --bench brute_force -- --test  # smoke run (20,000 keys)
//! ```

// Fixture setup in a benchmark should stop the run loudly when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;
use std::hint::black_box;
use std::net::Ipv6Addr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Instant;

use auth_core::brute_force::{
    AttemptStoreHousekeeping, BruteForceLimiter, BruteForcePolicy, ClientKey, MemoryAttemptStore,
};
use auth_core::clock::{ManualClock, UnixTime};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MILLION: usize = 1_000_000;

fn smoke() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// The number of background keys for the "large" rows.
fn large() -> usize {
    if smoke() { 20_000 } else { MILLION }
}

/// A distinct client per index: one IPv6 /64 each.
fn client(i: usize) -> ClientKey {
    ClientKey::from_ip(Ipv6Addr::from((i as u128 + 1) << 64).into())
}

fn hot() -> ClientKey {
    ClientKey::from_ip("203.0.113.7".parse().unwrap())
}

struct Filled {
    limiter: BruteForceLimiter,
    store: Arc<MemoryAttemptStore>,
    bytes_per_key: Option<f64>,
}

/// A limiter whose store tracks `n` keys: the hot client (window full) and `n - 1` others with
/// one attempt each. The clock never moves, so nothing expires during the run.
fn filled(rt: &tokio::runtime::Runtime, n: usize) -> Filled {
    let clock = ManualClock::new(UnixTime::from_secs(1_800_000_000));
    let region = Region::new(GLOBAL);
    let store = Arc::new(MemoryAttemptStore::with_max_keys(
        NonZeroUsize::new(n + 16).unwrap(),
    ));
    let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
        .store(Arc::clone(&store))
        .clock(clock)
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..n.saturating_sub(1) {
            limiter.check(&client(i)).await.unwrap();
        }
        for _ in 0..5 {
            limiter.check(&hot()).await.unwrap();
        }
    });
    assert_eq!(store.len(), n);
    let stats = region.change();
    let net = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64;
    Filled {
        limiter,
        store,
        bytes_per_key: (n >= 1000).then(|| net / n as f64),
    }
}

/// Direct timing for the summary (criterion's estimates are in its own report).
fn ns_per_check(
    rt: &tokio::runtime::Runtime,
    limiter: &BruteForceLimiter,
    spread: Option<usize>,
) -> f64 {
    let iters: usize = if smoke() { 20_000 } else { 2_000_000 };
    let hot = hot();
    rt.block_on(async {
        // Warm up.
        for _ in 0..iters / 10 {
            black_box(limiter.check(&hot).await.unwrap());
        }
        let mut x: usize = 0x9e37_79b9;
        let start = Instant::now();
        for _ in 0..iters {
            let key = match spread {
                Some(n) => {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    client((x >> 17) % (n - 1))
                }
                None => hot.clone(),
            };
            black_box(limiter.check(&key).await.unwrap());
        }
        start.elapsed().as_nanos() as f64 / iters as f64
    })
}

/// The floor: a bare dashmap with entries of the same size, one random `get_mut` per call, to
/// tell the cost of memory latency in a large table from the cost of the check itself.
fn floor(n: usize) -> f64 {
    let map: dashmap::DashMap<[u8; 16], [u8; 52]> = dashmap::DashMap::new();
    let key = |i: usize| ((i as u128 + 1) << 64).to_be_bytes();
    for i in 0..n {
        map.insert(key(i), [0; 52]);
    }
    let iters: usize = if smoke() { 20_000 } else { 2_000_000 };
    let mut x: usize = 0x9e37_79b9;
    let start = Instant::now();
    for _ in 0..iters {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        if let Some(mut v) = map.get_mut(&key((x >> 17) % n))
            && let Some(b) = v.first_mut()
        {
            *b = b.wrapping_add(1);
        }
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let n = large();
    let small = filled(&rt, 1);
    let big = filled(&rt, n);

    let mut g = c.benchmark_group("brute_force");
    for (size, f) in [(1, &small), (n, &big)] {
        let hot = hot();
        g.bench_with_input(BenchmarkId::new("check", size), &size, |b, _| {
            b.to_async(&rt)
                .iter(|| async { black_box(f.limiter.check(&hot).await.unwrap()) });
        });
    }
    g.bench_with_input(BenchmarkId::new("check_spread", n), &n, |b, &n| {
        let mut x: usize = 0x9e37_79b9;
        b.to_async(&rt).iter(|| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let key = client((x >> 17) % (n - 1));
            let limiter = &big.limiter;
            async move { black_box(limiter.check(&key).await.unwrap()) }
        });
    });
    g.finish();

    let t1 = ns_per_check(&rt, &small.limiter, None);
    let tn = ns_per_check(&rt, &big.limiter, None);
    let ts = ns_per_check(&rt, &big.limiter, Some(n));
    let (f1, fnn) = (floor(1), floor(n));
    let bytes = big.bytes_per_key.unwrap_or(f64::NAN);
    println!();
    println!(
        "brute_force summary ({n} tracked keys, store len {})",
        big.store.len()
    );
    println!("| row | ns/check | ratio to 1 key |");
    println!("|---|---|---|");
    println!("| check, 1 key | {t1:.0} | 1.00 |");
    println!(
        "| check, {n} keys (same client) | {tn:.0} | {:.2} |",
        tn / t1
    );
    println!(
        "| check, {n} keys (a different client each call) | {ts:.0} | {:.2} |",
        ts / t1
    );
    println!(
        "| floor: bare DashMap<[u8; 16], [u8; 52]> get_mut, 1 key / {n} keys (a different key each call) | {f1:.0} / {fnn:.0} | {:.2} |",
        fnn / f1
    );
    println!("bytes per tracked key (net allocated while filling / keys): {bytes:.1}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
