//! Bytes per stored item of each in-memory store, counted by a counting global allocator
//! (`stats_alloc`, no `unsafe` here): the net bytes handed out while a store was filled with
//! `n` items, divided by `n`. Run by `auth-bench` at the end of its table; alone:
//!
//! ```text
//! cargo build --release -p auth-bench && target/release/auth-bench-memory [--quick]
//! ```
//!
//! Hash tables grow by doubling, so the figure depends on where `n` falls between two sizes;
//! `n` is 1,000,000 (the size of the timing rows), 10,000 in quick mode.

// A benchmark stops loudly when its fixtures fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;
use std::net::Ipv6Addr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use auth_core::api_key::{ApiKeys, MemoryApiKeyStore, NewApiKey};
use auth_core::brute_force::{
    AttemptOutcome, AttemptStoreHousekeeping as _, BruteForceLimiter, BruteForcePolicy, ClientKey,
    MemoryAttemptStore,
};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{JwtVerifier, TokenCache};
use auth_core::revocation::{MemoryRevocationStore, RevocationStore as _};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Net bytes allocated while `fill` ran.
fn net_bytes(fill: impl FnOnce()) -> f64 {
    let region = Region::new(GLOBAL);
    fill();
    let c = region.change();
    c.bytes_allocated as f64 - c.bytes_deallocated as f64
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: usize = if quick { 10_000 } else { 1_000_000 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rows: Vec<(String, f64, String)> = Vec::new();

    // Brute force: n clients, each with one admitted attempt and one failure recorded.
    let clock = ManualClock::new(UnixTime::from_secs(1_800_000_000));
    let store = Arc::new(MemoryAttemptStore::with_max_keys(
        NonZeroUsize::new(n + 16).unwrap(),
    ));
    let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
        .store(Arc::clone(&store))
        .clock(clock)
        .build()
        .unwrap();
    let clients: Vec<ClientKey> = (1..=n)
        .map(|i| ClientKey::from_ip(Ipv6Addr::from((i as u128) << 64).into()))
        .collect();
    let bytes = net_bytes(|| {
        rt.block_on(async {
            for c in &clients {
                limiter.check(c).await.unwrap();
                limiter
                    .record_outcome(c, None, AttemptOutcome::Failure)
                    .await
                    .unwrap();
            }
        });
    });
    assert_eq!(store.len(), n);
    rows.push((
        "tracked client (MemoryAttemptStore)".into(),
        bytes / n as f64,
        "at most 200".into(),
    ));
    drop((limiter, store, clients));

    // API keys: n keys created (record + digest index); plaintexts dropped right away.
    let keys = ApiKeys::builder(MemoryApiKeyStore::new())
        .prefix("bench_live")
        .usage_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let bytes = net_bytes(|| {
        rt.block_on(async {
            for i in 0..n {
                let new =
                    NewApiKey::new(format!("user-{}", i % 10_000), "bench").scopes(["orders:read"]);
                drop(keys.create(new).await.unwrap());
            }
        });
    });
    rows.push((
        "stored API key (MemoryApiKeyStore, one scope)".into(),
        bytes / n as f64,
        "-".into(),
    ));
    drop(keys);

    // Revocation: n revoked jtis (36-character UUID-shaped ids).
    let revoked = MemoryRevocationStore::new();
    let ids: Vec<String> = (0..n)
        .map(|i| format!("b4f1c0de-7a2e-4c39-8e51-{i:012x}"))
        .collect();
    let until = UnixTime::from_secs(u64::from(u32::MAX));
    let bytes = net_bytes(|| {
        rt.block_on(async {
            for id in &ids {
                revoked
                    .revoke_token(Some(auth_bench::ISSUER), id, until)
                    .await
                    .unwrap();
            }
        });
    });
    rows.push((
        "revoked id (MemoryRevocationStore, 36-char jti)".into(),
        bytes / n as f64,
        "-".into(),
    ));
    drop((revoked, ids));

    // Token cache: n distinct HS256 tokens of the benchmark shape, verified and cached (the
    // token bytes as key plus the principal with its claims).
    let f = auth_bench::hs256();
    let tokens: Vec<String> = (0..n as u64).map(|i| f.token_for(i)).collect();
    let verifier = JwtVerifier::builder()
        .key(f.verification.clone())
        .issuer(auth_bench::ISSUER)
        .audience(auth_bench::AUDIENCE)
        .build()
        .unwrap();
    let cache = TokenCache::new(NonZeroUsize::new(n).unwrap(), Duration::from_secs(300));
    let bytes = net_bytes(|| {
        for t in &tokens {
            drop(cache.verify(&verifier, t).into_ready().unwrap().unwrap());
        }
    });
    let len = cache.len();
    rows.push((
        format!(
            "cached token (TokenCache, {}-byte token; {len} cached)",
            f.token.len()
        ),
        bytes / len as f64,
        "-".into(),
    ));

    println!();
    println!(
        "Memory ({n} items per store; net bytes allocated while filling / items, counted by stats_alloc):"
    );
    println!();
    println!("| per | bytes | target |");
    println!("|---|---:|---|");
    for (what, bytes, target) in rows {
        println!("| {what} | {bytes:.0} | {target} |");
    }
}
