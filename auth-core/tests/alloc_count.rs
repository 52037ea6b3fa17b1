//! Heap allocations per verification, counted (issue 21): none on the warm path (a token
//! cache hit) and at most two on the cold HS256 path through `JwtVerifier`.
//!
//! The counting global allocator is `stats_alloc`'s wrapper around the system allocator (a
//! maintained crate: the workspace forbids `unsafe`, which a hand-written `GlobalAlloc`
//! needs). It counts every thread's allocations, so this file holds a single test: nothing
//! else runs in the process while it counts. Counts are exact and repeatable, unlike timings.
//!
//! Without the `metrics` feature: with it, every cache lookup is also recorded through the
//! `metrics` facade, which allocates by design. `.ci/run` runs this file with
//! `--features token-cache` besides the workspace's `--all-features` run.
#![cfg(all(feature = "token-cache", not(feature = "metrics")))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used)]

use std::alloc::System;
use std::num::NonZeroUsize;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, TokenCache, VerificationKey};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const SECRET: &[u8] = b"an allocation-count secret of at least thirty-two bytes";
const NOW: u64 = 1_700_000_000;
const ROUNDS: usize = 64;

/// A realistic access token (the shape of the benchmark's): `kid`, `sub`, `iat`, `exp`,
/// `iss`, `aud`, `jti`, two roles, two scopes.
fn token(n: u64) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    let claims = serde_json::json!({
        "iss": "https://issuer.example",
        "sub": format!("user-7f3c2a9e-41b8-4d0e-9a57-{n:012x}"),
        "aud": "orders-api",
        "iat": NOW,
        "exp": NOW + 3600,
        "jti": format!("b4f1c0de-7a2e-4c39-8e51-{n:012x}"),
        "roles": ["orders-admin", "billing-viewer"],
        "scope": "orders:read orders:write",
    });
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(
            VerificationKey::hmac(Algorithm::HS256, SECRET)
                .unwrap()
                .with_kid("k1"),
        )
        .issuer("https://issuer.example")
        .audience("orders-api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW + 10)))
        .build()
        .unwrap()
}

/// Allocations (and reallocations) per call of `f` over `tokens`, each result dropped before
/// the next call, as a server drops a request's principal.
fn allocations_per_call<T>(tokens: &[String], mut f: impl FnMut(&str) -> T) -> f64 {
    let region = Region::new(GLOBAL);
    for t in tokens {
        drop(std::hint::black_box(f(t)));
    }
    let stats = region.change();
    (stats.allocations + stats.reallocations) as f64 / tokens.len() as f64
}

#[test]
fn warm_verifications_do_not_allocate_and_cold_hs256_allocates_at_most_twice() {
    let v = verifier();
    let same: Vec<String> = (0..ROUNDS).map(|_| token(1)).collect();
    let distinct: Vec<String> = (0..ROUNDS as u64).map(token).collect();
    // First sight of the role and scope lists, lazy statics, the tracing callsites: paid once.
    for t in distinct.iter().take(2) {
        let p = v.verify_sync(t).unwrap();
        assert_eq!(p.roles(), ["orders-admin", "billing-viewer"]);
        assert_eq!(p.scopes(), ["orders:read", "orders:write"]);
    }

    // Cold: every call checks the signature and parses the claims.
    let cold_same = allocations_per_call(&same, |t| v.verify_sync(t).unwrap());
    let cold_distinct = allocations_per_call(&distinct, |t| v.verify_sync(t).unwrap());
    let cold_future =
        allocations_per_call(&distinct, |t| v.verify(t).into_ready().unwrap().unwrap());
    eprintln!(
        "cold HS256 allocations per verification: same token {cold_same}, distinct tokens {cold_distinct}, through verify() {cold_future}"
    );
    assert!(
        cold_same <= 2.0,
        "cold, the same token: {cold_same} allocations per call"
    );
    assert!(
        cold_distinct <= 2.0,
        "cold, distinct tokens: {cold_distinct} allocations per call"
    );
    assert!(
        cold_future <= 2.0,
        "cold, verify(): {cold_future} allocations per call"
    );

    // What comes out is still the whole principal, its strings borrowed from nowhere else.
    let p = v.verify_sync(&distinct[5]).unwrap();
    assert_eq!(p.subject(), "user-7f3c2a9e-41b8-4d0e-9a57-000000000005");
    assert_eq!(p.token_id(), Some("b4f1c0de-7a2e-4c39-8e51-000000000005"));
    assert_eq!(p.issuer(), Some("https://issuer.example"));
    assert!(p.has_role("billing-viewer") && p.has_scope("orders:write"));

    // Warm: a verified-token cache hit.
    let cache = TokenCache::new(NonZeroUsize::new(1024).unwrap(), Duration::from_secs(300));
    for t in &distinct {
        cache.verify(&v, t).into_ready().unwrap().unwrap();
    }
    let warm = allocations_per_call(&distinct, |t| {
        cache.verify(&v, t).into_ready().unwrap().unwrap()
    });
    eprintln!("warm (cache hit) allocations per verification: {warm}");
    assert_eq!(warm, 0.0, "warm: {warm} allocations per call");
    assert_eq!(cache.misses(), ROUNDS as u64);
    assert_eq!(cache.hits(), ROUNDS as u64);
}
