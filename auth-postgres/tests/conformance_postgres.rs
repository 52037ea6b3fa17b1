//! The store conformance suite (`auth_test::conformance`, which the memory and Redis stores run
//! too) against the PostgreSQL stores, each case in a fresh schema of its own, against
//! `DATABASE_URL` (skipped without it, except under `CI=true`, where that fails).
//!
//! Brute-force counters are not kept in PostgreSQL: the `attempts` group is left out, and the
//! MFA limiter runs on the in-memory attempt store (as the demo does without Redis).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::brute_force::{BruteForceLimiter, MemoryAttemptStore};
use auth_core::clock::ManualClock;
use auth_core::mfa::default_mfa_policy;
use auth_postgres::test_util::{database_url_for_tests, drop_schema, unique_schema};
use auth_postgres::{
    PgApiKeyStore, PgAuthContextStore, PgBackend, PgIdentityStore, PgMfaTokenStore,
    PgRecoveryCodeStore, PgRefreshStore, PgRevocationStore, PgTotpStore, PgUsedStateStore,
};
use auth_test::conformance::{CleanupFn, IdentityStores, MfaStores, Stores};

/// A migrated backend in a fresh schema, and the cleanup that drops it.
async fn backend(label: &str) -> Option<(PgBackend, CleanupFn)> {
    let url = database_url_for_tests()?;
    let pg = PgBackend::builder(url)
        .schema(unique_schema(label))
        // Generous: the concurrency cases queue 100 transactions on the pool, and CI machines
        // are small. The failure tests check tight bounds.
        .timeout(Duration::from_secs(10))
        .max_connections(8)
        .build()
        .expect("a valid backend");
    pg.migrate().await.expect("PostgreSQL answers and migrates");
    let cleanup = pg.clone();
    Some((
        pg,
        Box::new(move || {
            Box::pin(async move {
                drop_schema(&cleanup).await.expect("cleanup");
            })
        }),
    ))
}

async fn make(clock: ManualClock) -> Option<Stores> {
    let (pg, cleanup) = backend("conf").await?;
    Some(Stores {
        attempts: None,
        revocations: Arc::new(PgRevocationStore::new(pg.clone()).with_clock(clock.clone())),
        refresh: Arc::new(PgRefreshStore::new(pg.clone())),
        api_keys: Arc::new(PgApiKeyStore::new(pg).with_clock(clock.clone())),
        clock,
        cleanup: Some(cleanup),
    })
}

auth_test::store_conformance!(make; revocation, refresh, api_keys);

async fn make_mfa(clock: ManualClock) -> Option<MfaStores> {
    let (pg, cleanup) = backend("mfa").await?;
    let limiter = BruteForceLimiter::builder(default_mfa_policy().unwrap())
        .store(Arc::new(MemoryAttemptStore::new()))
        .clock(clock.clone())
        .build()
        .unwrap();
    Some(MfaStores {
        totp: Arc::new(PgTotpStore::new(pg.clone())),
        recovery: Arc::new(PgRecoveryCodeStore::new(pg.clone())),
        tokens: Arc::new(PgMfaTokenStore::new(pg.clone())),
        contexts: Arc::new(PgAuthContextStore::new(pg).with_clock(clock.clone())),
        limiter,
        clock,
        cleanup: Some(cleanup),
    })
}

auth_test::mfa_conformance!(make_mfa);

async fn make_identities() -> Option<IdentityStores> {
    let (pg, cleanup) = backend("ids").await?;
    Some(IdentityStores {
        identities: Arc::new(PgIdentityStore::new(pg.clone())),
        used: Arc::new(PgUsedStateStore::new(pg)),
        cleanup: Some(cleanup),
    })
}

auth_test::identity_conformance!(make_identities);
