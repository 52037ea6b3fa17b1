//! Revocation by session across instances: two instances share one Redis; reuse of a refresh
//! token detected at one makes every access token of that session answer 401 `TOKEN_REVOKED`
//! at both, at once, while another issuer's token with the same `sid` keeps working (skipped
//! without `REDIS_URL` or a `redis-server`, except under `CI=true`).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{
    AccessGrant, Algorithm, JwtVerifier, KeyRing, SigningKey, TokenIssuer, TrustedIssuer,
};
use auth_core::refresh::RefreshTokens;
use auth_core::revocation::{RevocationStore, Revoker};
use auth_core::{ErrorCode, Principal};
use auth_redis::test_util::{delete_prefix, redis_for_tests, unique_prefix};
use auth_redis::{RedisBackend, RedisRefreshStore, RedisRevocationStore};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use tower::ServiceExt;

const LOCAL: &str = "https://auth.example.test";
const PROVIDER: &str = "https://idp.example.test";

/// One instance of a service: its own connection, refresh manager and bearer-protected route.
struct Instance {
    refresh: RefreshTokens,
    app: Router,
}

fn instance(redis: &RedisBackend, clock: &ManualClock, verifier: &JwtVerifier) -> Instance {
    let store: Arc<dyn RevocationStore> =
        Arc::new(RedisRevocationStore::new(redis.clone()).with_clock(clock.clone()));
    let revoker = Revoker::builder(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let refresh = RefreshTokens::builder(RedisRefreshStore::new(redis.clone()))
        .clock(clock.clone())
        .revoke_sessions_with(revoker, Some(LOCAL))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .route_layer(
            BearerLayer::builder(verifier.clone())
                .revocation(store)
                .build()
                .unwrap(),
        );
    Instance { refresh, app }
}

impl Instance {
    async fn me(&self, token: &str) -> (StatusCode, Option<ErrorCode>) {
        let req = Request::get("/me")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let code = res.extensions().get::<Rejection>().map(Rejection::code);
        (res.status(), code)
    }
}

fn issuer(iss: &str, clock: &ManualClock) -> (TokenIssuer, TrustedIssuer) {
    let ring = KeyRing::new(SigningKey::generate(Algorithm::ES256, iss).unwrap());
    let issuer = TokenIssuer::builder(ring.clone())
        .issuer(iss)
        .audience("api")
        .clock(clock.clone())
        .build()
        .unwrap();
    (issuer, TrustedIssuer::new(iss, ring).audience("api"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_detected_at_one_instance_revokes_the_sessions_access_tokens_at_every_instance() {
    // Issue 12, item 6, on Redis: the access tokens of a family revoked for reuse die at once,
    // on every instance.
    let server = redis_for_tests().expect("a Redis for the session tests");
    let Some(server) = server else { return };
    let prefix = unique_prefix("sessions");
    let connect = || {
        RedisBackend::builder(server.url())
            .prefix(prefix.clone())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
    };
    let (redis_a, redis_b) = (connect(), connect());
    let clock = ManualClock::new(UnixTime::from_secs(1_750_000_000));
    let (local, local_trust) = issuer(LOCAL, &clock);
    let (provider, provider_trust) = issuer(PROVIDER, &clock);
    let verifier = JwtVerifier::builder()
        .trusted_issuer(local_trust)
        .trusted_issuer(provider_trust)
        .clock(clock.clone())
        .build()
        .unwrap();
    let a = instance(&redis_a, &clock, &verifier);
    let b = instance(&redis_b, &clock, &verifier);

    // Login at A: a family, and an access token naming it in `sid`.
    let account = Principal::account_key_for(Some(LOCAL), "demo-user");
    let login = a.refresh.issue(&account).await.unwrap();
    let sid = login.family().as_str();
    let access = local
        .issue(&AccessGrant::new("demo-user").claim("sid", sid))
        .unwrap()
        .into_string();
    let foreign = provider
        .issue(&AccessGrant::new("demo-user").claim("sid", sid))
        .unwrap()
        .into_string();
    assert_eq!(b.me(&access).await, (StatusCode::OK, None));

    // The client refreshes at A; a thief replays the old refresh token at B.
    clock.advance(Duration::from_secs(60));
    a.refresh.rotate(login.token().as_str()).await.unwrap();
    let replay = b.refresh.rotate(login.token().as_str()).await.unwrap_err();
    assert_eq!(replay.code(), ErrorCode::RefreshTokenReused);

    let revoked = (StatusCode::UNAUTHORIZED, Some(ErrorCode::TokenRevoked));
    assert_eq!(a.me(&access).await, revoked);
    assert_eq!(b.me(&access).await, revoked);
    // Issue 12, item 7: the provider's token with the same `sid` is another session.
    assert_eq!(a.me(&foreign).await, (StatusCode::OK, None));

    delete_prefix(&redis_a).await.unwrap();
    drop(server);
}
