//! What a revocation check costs `BearerLayer`, and that it does not grow with the number of
//! revocations: the same request through the same layer with an in-memory revocation store
//! holding **no** entry and **1,000,000** revoked `jti`s (the request's own token is not
//! revoked, the common case), next to the layer with no store configured.
//!
//! Rows of the criterion group `revocation` (an axum router with one route, HS256, so the
//! signature check is as cheap as it gets and the lookup weighs as much as it can):
//!
//! - `no_store`: `BearerLayer` without revocation (the path that must stay as fast as before);
//! - `empty`: with a `MemoryRevocationStore` holding nothing;
//! - `revoked_1m`: with one holding 1,000,000 revoked ids.
//!
//! After the criterion rows, the bench measures `empty` and `revoked_1m` again in alternating
//! batches (so drift affects both alike) and prints the cost ratio; the goal is at most 1.2.
//!
//! ```text
//! cargo bench -p auth-tower --bench revocation            # measure
//! cargo bench -p auth-tower --bench revocation -- --test  # smoke run (quick)
//! ```

// Fixture setup in a benchmark should stop the run loudly when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::clock::UnixTime;
use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey, TokenIssuer};
use auth_core::revocation::{MemoryRevocationStore, RevocationStore};
use auth_core::store::Housekeeping;
use auth_tower::bearer::BearerLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, StatusCode, Uri, header};
use tower::{Layer, Service, ServiceExt};

const REVOKED: usize = 1_000_000;

/// The tokens' issuer: revocations are kept per issuer, so the revoked ids go where the
/// request's lookup goes.
const ISSUER: &str = "https://auth.example.test/";

fn router() -> Router {
    Router::new().route("/me", get(|| async { "me" }))
}

fn request(authorization: &HeaderValue) -> Request<Body> {
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = Uri::from_static("/me");
    req.headers_mut()
        .insert(header::AUTHORIZATION, authorization.clone());
    req
}

async fn send<S>(svc: &S, authorization: &HeaderValue) -> StatusCode
where
    S: Service<Request<Body>, Response = http::Response<Body>> + Clone,
    S::Error: std::fmt::Debug,
{
    svc.clone()
        .oneshot(request(authorization))
        .await
        .unwrap()
        .status()
}

fn is_test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ring = KeyRing::new(SigningKey::generate(Algorithm::HS256, "bench").unwrap());
    let issuer = TokenIssuer::builder(ring)
        .issuer(ISSUER)
        .audience("orders-api")
        .lifetime(Duration::from_secs(10 * 365 * 24 * 3600))
        .build()
        .unwrap();
    let token = issuer
        .issue(
            &AccessGrant::new("user-7f3c2a9e")
                .role("orders-admin")
                .scope("orders:read"),
        )
        .unwrap();
    let authorization = HeaderValue::try_from(format!("Bearer {}", token.as_str())).unwrap();
    let verifier = issuer.verifier_builder().build().unwrap();

    let empty = Arc::new(MemoryRevocationStore::new());
    let full = Arc::new(MemoryRevocationStore::new());
    let until = UnixTime::from_secs(u64::from(u32::MAX));
    let started = Instant::now();
    rt.block_on(async {
        for i in 0..REVOKED {
            // jti-shaped ids (22 characters), spread over the key space.
            let id = format!(
                "{:022x}",
                (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c)
            );
            full.revoke_token(Some(ISSUER), &id, until).await.unwrap();
        }
        // One revoked id that looks like ours but is not, so the lookup is a real probe.
        full.revoke_token(Some(ISSUER), &format!("{}x", token.jti()), until)
            .await
            .unwrap();
    });
    eprintln!(
        "filled the store with {} revoked ids in {:.2?}",
        full.len(),
        started.elapsed()
    );

    let layered = |store: Option<Arc<MemoryRevocationStore>>| {
        let mut b = BearerLayer::builder(verifier.clone());
        if let Some(s) = store {
            b = b.revocation(s);
        }
        b.build().unwrap().layer(router())
    };
    let none = layered(None);
    let with_empty = layered(Some(empty.clone()));
    let with_full = layered(Some(full.clone()));

    // Every row does the work it claims: the token is admitted everywhere, and the full store
    // really refuses a revoked id.
    rt.block_on(async {
        for svc in [&none, &with_empty, &with_full] {
            assert_eq!(send(svc, &authorization).await, StatusCode::OK);
        }
        full.revoke_token(Some(ISSUER), token.jti(), until)
            .await
            .unwrap();
        assert_eq!(
            send(&with_full, &authorization).await,
            StatusCode::UNAUTHORIZED
        );
    });
    // Measure with a fresh token, not revoked.
    let token = issuer
        .issue(
            &AccessGrant::new("user-7f3c2a9e")
                .role("orders-admin")
                .scope("orders:read"),
        )
        .unwrap();
    let authorization = HeaderValue::try_from(format!("Bearer {}", token.as_str())).unwrap();
    rt.block_on(async {
        assert_eq!(send(&with_full, &authorization).await, StatusCode::OK);
    });

    let mut group = c.benchmark_group("revocation");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("no_store", |b| {
        b.to_async(&rt)
            .iter(|| send(&none, black_box(&authorization)));
    });
    group.bench_function("empty", |b| {
        b.to_async(&rt)
            .iter(|| send(&with_empty, black_box(&authorization)));
    });
    group.bench_function("revoked_1m", |b| {
        b.to_async(&rt)
            .iter(|| send(&with_full, black_box(&authorization)));
    });
    group.finish();

    // The ratio, measured in alternating batches so both rows see the same machine state.
    let (rounds, batch) = if is_test_mode() { (3, 50) } else { (40, 2_000) };
    let mut per_round = Vec::with_capacity(rounds);
    let mut totals = [Duration::ZERO; 3];
    rt.block_on(async {
        for _ in 0..rounds {
            let mut times = [Duration::ZERO; 3];
            for (i, svc) in [&none, &with_empty, &with_full].into_iter().enumerate() {
                let t = Instant::now();
                for _ in 0..batch {
                    black_box(send(svc, black_box(&authorization)).await);
                }
                times[i] = t.elapsed();
                totals[i] += times[i];
            }
            per_round.push(times[2].as_secs_f64() / times[1].as_secs_f64());
        }
    });
    per_round.sort_by(f64::total_cmp);
    let median = per_round[per_round.len() / 2];
    let n = (rounds * batch) as f64;
    let ns = |d: Duration| d.as_secs_f64() * 1e9 / n;
    eprintln!();
    eprintln!("| row | ns/request (alternating batches) |");
    eprintln!("|---|---|");
    eprintln!("| no_store | {:.0} |", ns(totals[0]));
    eprintln!("| empty | {:.0} |", ns(totals[1]));
    eprintln!("| revoked_1m | {:.0} |", ns(totals[2]));
    eprintln!(
        "ratio revoked_1m / empty: {:.3} (median of {rounds} rounds; goal <= 1.2); \
         empty / no_store: {:.3}",
        median,
        totals[1].as_secs_f64() / totals[0].as_secs_f64()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
