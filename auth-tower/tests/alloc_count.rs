//! Heap allocations `BearerLayer` adds to a request, counted (issue 21): on a verified-token
//! cache hit none beyond putting the principal and the credential's source into the request's
//! extensions (which `http::Extensions` boxes: its map, its table and each value), and on a
//! cold HS256 verification at most two more (the verifier's own two).
//!
//! Without the `metrics` feature: with it, the layer also records counters and timings through
//! the `metrics` facade (and keeps the start time in the extensions), which allocate by design.
//!
//! The counting global allocator is `stats_alloc`'s wrapper around the system allocator (a
//! maintained crate: the workspace forbids `unsafe`, which a hand-written `GlobalAlloc`
//! needs). It counts every thread's allocations, so this file holds a single test and polls
//! the services on the test's own thread (with a no-op waker: their futures are ready).
#![cfg(all(feature = "bearer", feature = "token-cache", not(feature = "metrics")))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::System;
use std::convert::Infallible;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use auth_core::Principal;
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey, TokenCache, TokenIssuer};
use auth_tower::CredentialSource;
use auth_tower::bearer::BearerLayer;
use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::Full;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tower::{Layer, Service, service_fn};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const T0: u64 = 1_750_000_000;
const ROUNDS: usize = 64;

type Req = Request<Full<Bytes>>;

async fn handler(req: Req) -> Result<Response<Full<Bytes>>, Infallible> {
    // Reads the principal as a handler would; answers a static body.
    let seen = req.extensions().get::<Principal>().is_some();
    Ok(Response::new(Full::new(Bytes::from_static(if seen {
        b"me"
    } else {
        b"anonymous"
    }))))
}

fn requests(token: &str) -> Vec<Req> {
    let value = http::HeaderValue::try_from(format!("Bearer {token}")).unwrap();
    (0..ROUNDS)
        .map(|_| {
            let mut req = Request::get("/me").body(Full::default()).unwrap();
            req.headers_mut()
                .insert(header::AUTHORIZATION, value.clone());
            req
        })
        .collect()
}

/// Allocations (and reallocations) per request through `svc`, each response dropped before
/// the next request.
fn allocations_per_request<S>(svc: &mut S, reqs: Vec<Req>) -> f64
where
    S: Service<Req, Response = Response<Full<Bytes>>, Error = Infallible>,
{
    let n = reqs.len();
    let mut cx = Context::from_waker(Waker::noop());
    let region = Region::new(GLOBAL);
    for req in reqs {
        let fut = pin!(svc.call(req));
        match fut.poll(&mut cx) {
            Poll::Ready(Ok(res)) => assert_eq!(res.status(), http::StatusCode::OK),
            Poll::Ready(Err(e)) => match e {},
            Poll::Pending => panic!("a synchronous verification was pending"),
        }
    }
    let stats = region.change();
    (stats.allocations + stats.reallocations) as f64 / n as f64
}

#[test]
fn bearer_layer_allocates_only_the_extension_entries_warm_and_two_more_cold() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::HS256, "k1").unwrap());
    let issuer = TokenIssuer::builder(ring)
        .issuer("https://auth.example.test")
        .audience("api")
        .lifetime(Duration::from_secs(600))
        .clock(clock.clone())
        .build()
        .unwrap();
    let token = issuer
        .issue(
            &AccessGrant::new("user-7f3c2a9e")
                .scope("orders:read")
                .scope("orders:write")
                .role("orders-admin"),
        )
        .unwrap()
        .into_string();
    let verifier = || issuer.verifier_builder().build().unwrap();
    let mut bare = service_fn(handler);
    let mut cold = BearerLayer::builder(verifier())
        .build()
        .unwrap()
        .layer(service_fn(handler));
    let cache = TokenCache::new(NonZeroUsize::new(64).unwrap(), Duration::from_secs(300));
    let mut warm = BearerLayer::builder(verifier())
        .token_cache(cache.clone())
        .build()
        .unwrap()
        .layer(service_fn(handler));
    // First sight of the role and scope lists, lazy statics, the cache entry: paid once.
    allocations_per_request(&mut cold, requests(&token));
    allocations_per_request(&mut warm, requests(&token));

    // What putting the principal and the credential's source (read by `CsrfLayer`) into a
    // fresh request's extensions costs (`http::Extensions` boxes its map and each value):
    // what the layer must do on success, whatever its own code costs.
    let principal = cache
        .verify(&verifier(), &token)
        .into_ready()
        .unwrap()
        .unwrap();
    let mut reqs = requests(&token);
    let region = Region::new(GLOBAL);
    for req in &mut reqs {
        req.extensions_mut().insert(principal.clone());
        req.extensions_mut().insert(CredentialSource::Header);
    }
    let stats = region.change();
    let extension = (stats.allocations + stats.reallocations) as f64 / ROUNDS as f64;
    drop(reqs);

    let bare_n = allocations_per_request(&mut bare, requests(&token));
    let cold_n = allocations_per_request(&mut cold, requests(&token)) - bare_n;
    let warm_n = allocations_per_request(&mut warm, requests(&token)) - bare_n;
    eprintln!(
        "allocations per request: bare service {bare_n}; added by BearerLayer: cold HS256 \
         {cold_n}, warm (cache hit) {warm_n}; of which the extension entries {extension}"
    );
    assert!(
        warm_n <= extension,
        "warm: {warm_n} allocations added, the extension entries alone are {extension}"
    );
    assert!(
        cold_n <= extension + 2.0,
        "cold: {cold_n} allocations added, the extension entries alone are {extension}"
    );
    assert!(cache.hits() >= ROUNDS as u64);
}
