//! The store conformance suite against auth-core's in-memory stores: the reference behaviour
//! the Redis (`auth-redis/tests/conformance_redis.rs`) and PostgreSQL
//! (`auth-postgres/tests/conformance_postgres.rs`) stores are held to.
// The makers are helpers outside #[test] fns, which clippy.toml's allow-*-in-tests miss.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use auth_core::api_key::MemoryApiKeyStore;
use auth_core::brute_force::{BruteForceLimiter, MemoryAttemptStore};
use auth_core::clock::ManualClock;
use auth_core::mfa::{
    MemoryAuthContextStore, MemoryMfaTokenStore, MemoryRecoveryCodeStore, MemoryTotpStore,
    default_mfa_policy,
};
use auth_core::oidc_login::{MemoryIdentityStore, MemoryUsedStateStore};
use auth_core::refresh::MemoryRefreshStore;
use auth_core::revocation::MemoryRevocationStore;
use auth_test::conformance::{IdentityStores, MfaStores, Stores};

async fn make(clock: ManualClock) -> Option<Stores> {
    Some(Stores {
        attempts: Some(Arc::new(MemoryAttemptStore::new())),
        revocations: Arc::new(MemoryRevocationStore::new().with_clock(clock.clone())),
        refresh: Arc::new(MemoryRefreshStore::new()),
        api_keys: Arc::new(MemoryApiKeyStore::new()),
        clock,
        cleanup: None,
    })
}

auth_test::store_conformance!(make; attempts, revocation, refresh, api_keys);

async fn make_mfa(clock: ManualClock) -> Option<MfaStores> {
    let limiter = BruteForceLimiter::builder(default_mfa_policy().unwrap())
        .store(Arc::new(MemoryAttemptStore::new()))
        .clock(clock.clone())
        .build()
        .unwrap();
    Some(MfaStores {
        totp: Arc::new(MemoryTotpStore::new()),
        recovery: Arc::new(MemoryRecoveryCodeStore::new()),
        tokens: Arc::new(MemoryMfaTokenStore::new()),
        contexts: Arc::new(MemoryAuthContextStore::new()),
        limiter,
        clock,
        cleanup: None,
    })
}

auth_test::mfa_conformance!(make_mfa);

async fn make_identities() -> Option<IdentityStores> {
    Some(IdentityStores {
        identities: Arc::new(MemoryIdentityStore::new()),
        used: Arc::new(MemoryUsedStateStore::new()),
        cleanup: None,
    })
}

auth_test::identity_conformance!(make_identities);
