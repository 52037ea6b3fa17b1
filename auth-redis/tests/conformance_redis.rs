//! The store conformance suite (`auth_test::conformance`, which the memory and PostgreSQL stores
//! run too) against the Redis stores, each case under its own key prefix, against `REDIS_URL` or a private `redis-server` (skipped
//! without either, except under `CI=true`, where that fails).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use auth_core::clock::ManualClock;
use auth_redis::test_util::{delete_prefix, redis_for_tests, unique_prefix};
use auth_redis::{
    RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore, RedisRevocationStore,
};
use auth_test::conformance::Stores;
use std::time::Duration;

async fn make(clock: ManualClock) -> Option<Stores> {
    let server = redis_for_tests().expect("a Redis for the conformance tests")?;
    let redis = RedisBackend::builder(server.url())
        .prefix(unique_prefix("conformance"))
        // Generous: the concurrency cases queue dozens of scripts on one connection, and CI
        // machines are small. The failure tests check the default.
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a valid backend");
    redis.ping().await.expect("redis answers");
    let cleanup_redis = redis.clone();
    Some(Stores {
        attempts: Some(Arc::new(RedisAttemptStore::new(redis.clone()))),
        revocations: Arc::new(RedisRevocationStore::new(redis.clone()).with_clock(clock.clone())),
        refresh: Arc::new(RedisRefreshStore::new(redis.clone())),
        api_keys: Arc::new(RedisApiKeyStore::new(redis)),
        clock,
        cleanup: Some(Box::new(move || {
            Box::pin(async move {
                delete_prefix(&cleanup_redis).await.expect("cleanup");
                // The private server (if any) lives until the case is over.
                drop(server);
            })
        })),
    })
}

auth_test::store_conformance!(make; attempts, revocation, refresh, api_keys);

#[cfg(feature = "mfa")]
async fn make_mfa(clock: ManualClock) -> Option<auth_test::conformance::MfaStores> {
    use auth_core::brute_force::BruteForceLimiter;
    use auth_core::mfa::default_mfa_policy;
    use auth_redis::{
        RedisAuthContextStore, RedisMfaTokenStore, RedisRecoveryCodeStore, RedisTotpStore,
    };
    let server = redis_for_tests().expect("a Redis for the conformance tests")?;
    let redis = RedisBackend::builder(server.url())
        .prefix(unique_prefix("conformance-mfa"))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a valid backend");
    redis.ping().await.expect("redis answers");
    let limiter = BruteForceLimiter::builder(default_mfa_policy().unwrap())
        .store(Arc::new(RedisAttemptStore::new(redis.clone())))
        .clock(clock.clone())
        .build()
        .unwrap();
    let cleanup_redis = redis.clone();
    Some(auth_test::conformance::MfaStores {
        totp: Arc::new(RedisTotpStore::new(redis.clone())),
        recovery: Arc::new(RedisRecoveryCodeStore::new(redis.clone())),
        tokens: Arc::new(RedisMfaTokenStore::new(redis.clone())),
        contexts: Arc::new(RedisAuthContextStore::new(redis)),
        limiter,
        clock,
        cleanup: Some(Box::new(move || {
            Box::pin(async move {
                delete_prefix(&cleanup_redis).await.expect("cleanup");
                drop(server);
            })
        })),
    })
}

#[cfg(feature = "mfa")]
auth_test::mfa_conformance!(make_mfa);

#[cfg(feature = "identities")]
async fn make_identities() -> Option<auth_test::conformance::IdentityStores> {
    use auth_redis::{RedisIdentityStore, RedisUsedStateStore};
    let server = redis_for_tests().expect("a Redis for the conformance tests")?;
    let redis = RedisBackend::builder(server.url())
        .prefix(unique_prefix("conformance-identities"))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a valid backend");
    redis.ping().await.expect("redis answers");
    let cleanup_redis = redis.clone();
    Some(auth_test::conformance::IdentityStores {
        identities: Arc::new(RedisIdentityStore::new(redis.clone())),
        used: Arc::new(RedisUsedStateStore::new(redis)),
        cleanup: Some(Box::new(move || {
            Box::pin(async move {
                delete_prefix(&cleanup_redis).await.expect("cleanup");
                drop(server);
            })
        })),
    })
}

#[cfg(feature = "identities")]
auth_test::identity_conformance!(make_identities);
