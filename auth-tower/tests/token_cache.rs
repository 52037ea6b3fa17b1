//! `BearerLayer` with a verified-token cache: hits are counted, and on every hit the time
//! claims and the revocation store are still consulted (issue 8).
#![cfg(all(feature = "token-cache", feature = "revocation"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey, TokenCache, TokenIssuer};
use auth_core::revocation::{MemoryRevocationStore, Revoker};
use auth_core::{ErrorCode, Principal};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use tower::{Layer, ServiceExt, service_fn};

const T0: u64 = 1_750_000_000;

struct Fixture {
    clock: ManualClock,
    issuer: TokenIssuer,
    revoker: Revoker,
    cache: TokenCache,
    layer: BearerLayer,
}

fn fixture(max_ttl: Duration) -> Fixture {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::HS256, "k1").unwrap());
    let issuer = TokenIssuer::builder(ring)
        .issuer("https://auth.example.test")
        .audience("api")
        .lifetime(Duration::from_secs(600))
        .clock(clock.clone())
        .build()
        .unwrap();
    let store = Arc::new(MemoryRevocationStore::new().with_clock(clock.clone()));
    let revoker = Revoker::builder(store.clone())
        .clock(clock.clone())
        .max_token_lifetime(issuer.lifetime())
        .build()
        .unwrap();
    let cache = TokenCache::new(NonZeroUsize::new(64).unwrap(), max_ttl);
    let layer = BearerLayer::builder(issuer.verifier_builder().build().unwrap())
        .revocation(store)
        .token_cache(cache.clone())
        .build()
        .unwrap();
    Fixture {
        clock,
        issuer,
        revoker,
        cache,
        layer,
    }
}

impl Fixture {
    fn token(&self, sub: &str) -> String {
        self.issuer
            .issue(&AccessGrant::new(sub).scope("orders:read"))
            .unwrap()
            .into_string()
    }

    async fn send(&self, token: &str) -> Response<Full<Bytes>> {
        let req = Request::get("/me")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Full::default())
            .unwrap();
        self.layer
            .layer(service_fn(echo))
            .oneshot(req)
            .await
            .unwrap()
    }
}

async fn echo(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let p = req.extensions().get::<Principal>().unwrap();
    Ok(Response::new(Full::from(format!(
        "{} {}",
        p.subject(),
        p.scopes().join(" ")
    ))))
}

fn code(res: &Response<Full<Bytes>>) -> ErrorCode {
    res.extensions().get::<Rejection>().unwrap().code()
}

#[tokio::test]
async fn a_token_seen_before_is_served_from_the_cache_with_the_same_principal() {
    let f = fixture(Duration::from_secs(300));
    let token = f.token("alice");
    for _ in 0..5 {
        let res = f.send(&token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(&body[..], b"alice orders:read");
    }
    assert_eq!((f.cache.misses(), f.cache.hits(), f.cache.len()), (1, 4, 1));
}

#[tokio::test]
async fn a_revoked_cached_token_is_refused() {
    let f = fixture(Duration::from_secs(300));
    let token = f.token("alice");
    assert_eq!(f.send(&token).await.status(), StatusCode::OK);
    assert_eq!(f.send(&token).await.status(), StatusCode::OK);
    assert_eq!(f.cache.hits(), 1);

    let principal = f
        .issuer
        .verifier_builder()
        .build()
        .unwrap()
        .verify_sync(&token)
        .unwrap();
    f.revoker.revoke_token(&principal).await.unwrap();

    let res = f.send(&token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), ErrorCode::TokenRevoked);
    assert_eq!(f.cache.hits(), 2, "refused on a cache hit");
}

#[tokio::test]
async fn a_subject_revoked_after_caching_is_refused() {
    let f = fixture(Duration::from_secs(300));
    let token = f.token("alice");
    assert_eq!(f.send(&token).await.status(), StatusCode::OK);
    f.clock.advance(Duration::from_secs(1));
    f.revoker
        .revoke_subject(Some("https://auth.example.test"), "alice")
        .await
        .unwrap();
    let res = f.send(&token).await;
    assert_eq!(code(&res), ErrorCode::TokenRevoked);
    assert_eq!(f.cache.hits(), 1);
}

#[tokio::test]
async fn an_expired_cached_token_is_refused() {
    let f = fixture(Duration::from_secs(3600));
    let token = f.token("alice");
    assert_eq!(f.send(&token).await.status(), StatusCode::OK);
    f.clock.advance(Duration::from_secs(599));
    assert_eq!(f.send(&token).await.status(), StatusCode::OK);
    assert_eq!(f.cache.hits(), 1);
    // Past exp and the verifier's leeway.
    f.clock.advance(Duration::from_secs(60));
    let res = f.send(&token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), ErrorCode::TokenExpired);
}

#[tokio::test]
async fn rejected_tokens_are_not_cached() {
    let f = fixture(Duration::from_secs(300));
    for _ in 0..3 {
        let res = f.send("not.a.token").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!((f.cache.misses(), f.cache.len()), (3, 0));
}
