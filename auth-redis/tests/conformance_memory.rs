//! The conformance cases against auth-core's in-memory stores: the reference behaviour the
//! Redis stores are held to (`conformance_redis.rs` runs the same cases).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod conformance;
#[cfg(feature = "mfa")]
#[macro_use]
#[path = "conformance/mfa.rs"]
mod mfa_conformance;
#[cfg(feature = "identities")]
#[macro_use]
#[path = "conformance/identities.rs"]
mod identity_conformance;

use std::sync::Arc;

use auth_core::api_key::MemoryApiKeyStore;
use auth_core::brute_force::MemoryAttemptStore;
use auth_core::clock::ManualClock;
use auth_core::refresh::MemoryRefreshStore;
use auth_core::revocation::MemoryRevocationStore;
use conformance::Stores;

async fn make(clock: ManualClock) -> Option<Stores> {
    Some(Stores {
        attempts: Arc::new(MemoryAttemptStore::new()),
        revocations: Arc::new(MemoryRevocationStore::new().with_clock(clock.clone())),
        refresh: Arc::new(MemoryRefreshStore::new()),
        api_keys: Arc::new(MemoryApiKeyStore::new()),
        clock,
        cleanup: None,
    })
}

conformance_tests!(make);

#[cfg(feature = "mfa")]
async fn make_mfa(clock: ManualClock) -> Option<mfa_conformance::MfaStores> {
    use auth_core::brute_force::BruteForceLimiter;
    use auth_core::mfa::{
        MemoryAuthContextStore, MemoryMfaTokenStore, MemoryRecoveryCodeStore, MemoryTotpStore,
        default_mfa_policy,
    };
    let limiter = BruteForceLimiter::builder(default_mfa_policy().unwrap())
        .store(Arc::new(MemoryAttemptStore::new()))
        .clock(clock.clone())
        .build()
        .unwrap();
    Some(mfa_conformance::MfaStores {
        totp: Arc::new(MemoryTotpStore::new()),
        recovery: Arc::new(MemoryRecoveryCodeStore::new()),
        tokens: Arc::new(MemoryMfaTokenStore::new()),
        contexts: Arc::new(MemoryAuthContextStore::new()),
        limiter,
        clock,
        cleanup: None,
    })
}

#[cfg(feature = "mfa")]
mfa_conformance_tests!(make_mfa);

#[cfg(feature = "identities")]
async fn make_identities() -> Option<identity_conformance::IdentityStores> {
    use auth_core::oidc_login::{MemoryIdentityStore, MemoryUsedStateStore};
    Some(identity_conformance::IdentityStores {
        identities: Arc::new(MemoryIdentityStore::new()),
        used: Arc::new(MemoryUsedStateStore::new()),
        cleanup: None,
    })
}

#[cfg(feature = "identities")]
identity_conformance_tests!(make_identities);
