//! Refresh families and the access tokens of their sessions: with `revoke_sessions_with`,
//! every family the manager revokes (reuse, logout, log out everywhere) also revokes its
//! session (`sid`) in the revocation store, within the configured issuer; a failing revocation
//! store fails the operation closed, and a retry completes it. Manual clock, no sleeping.
#![cfg(all(feature = "refresh", feature = "revocation"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::refresh::{FamilyId, RefreshTokens, ReusePolicy};
use auth_core::revocation::{MemoryRevocationStore, RevocationStore, Revoker, TokenRef};
use auth_core::store::{StoreError, async_trait};
use auth_core::{AuthError, ErrorCode};

const T0: u64 = 1_750_000_000;
const LOCAL: Option<&str> = Some("https://auth.example");
const PROVIDER: Option<&str> = Some("https://idp.example");

/// The in-memory store, failing every write while `fail` is set.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryRevocationStore,
    fail: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::new("connection refused"));
        }
        Ok(())
    }
}

#[async_trait]
impl RevocationStore for Flaky {
    async fn revoke_token(
        &self,
        iss: Option<&str>,
        jti: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.revoke_token(iss, jti, until).await
    }

    async fn revoke_subject(
        &self,
        iss: Option<&str>,
        sub: &str,
        before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.revoke_subject(iss, sub, before, until).await
    }

    async fn revoke_session(
        &self,
        iss: Option<&str>,
        sid: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.revoke_session(iss, sid, until).await
    }

    async fn is_revoked(&self, token: TokenRef<'_>, now: UnixTime) -> Result<bool, StoreError> {
        self.inner.is_revoked(token, now).await
    }
}

struct Fixture {
    clock: ManualClock,
    store: Arc<Flaky>,
    refresh: RefreshTokens,
}

fn fixture(policy: ReusePolicy) -> Fixture {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let store = Arc::new(Flaky::default());
    let revoker = Revoker::builder(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let refresh = RefreshTokens::in_memory()
        .clock(clock.clone())
        .reuse_policy(policy)
        .revoke_sessions_with(revoker, LOCAL)
        .build()
        .unwrap();
    Fixture {
        clock,
        store,
        refresh,
    }
}

impl Fixture {
    /// Whether an access token of `iss` naming `family` in `sid` is refused now.
    async fn access_revoked(&self, iss: Option<&str>, family: &FamilyId) -> bool {
        let token = TokenRef::new(Some("jti"), "alice", Some(self.clock.now()))
            .with_issuer(iss)
            .with_session(Some(family.as_str()));
        self.store
            .is_revoked(token, self.clock.now())
            .await
            .unwrap()
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, AuthError>) -> ErrorCode {
    r.unwrap_err().code()
}

#[tokio::test]
async fn reuse_revokes_the_access_tokens_of_the_reused_family() {
    // Issue 12, item 6: after REFRESH_TOKEN_REUSED, the session's access tokens stop working
    // at once, not when they expire.
    let f = fixture(ReusePolicy::RevokeFamily);
    let stolen = f.refresh.issue("alice").await.unwrap();
    let other = f.refresh.issue("alice").await.unwrap();
    f.refresh.rotate(stolen.token().as_str()).await.unwrap();
    assert!(!f.access_revoked(LOCAL, stolen.family()).await);

    assert_eq!(
        code(f.refresh.rotate(stolen.token().as_str()).await),
        ErrorCode::RefreshTokenReused
    );
    assert!(f.access_revoked(LOCAL, stolen.family()).await);
    assert!(!f.access_revoked(LOCAL, other.family()).await);
}

#[tokio::test]
async fn reuse_under_revoke_all_sessions_revokes_every_session_of_the_user() {
    let f = fixture(ReusePolicy::RevokeAllSessions);
    let stolen = f.refresh.issue("alice").await.unwrap();
    let laptop = f.refresh.issue("alice").await.unwrap();
    let bobs = f.refresh.issue("bob").await.unwrap();
    f.refresh.rotate(stolen.token().as_str()).await.unwrap();
    assert_eq!(
        code(f.refresh.rotate(stolen.token().as_str()).await),
        ErrorCode::RefreshTokenReused
    );
    assert!(f.access_revoked(LOCAL, stolen.family()).await);
    assert!(f.access_revoked(LOCAL, laptop.family()).await);
    assert!(!f.access_revoked(LOCAL, bobs.family()).await);
}

#[tokio::test]
async fn logout_and_log_out_everywhere_revoke_the_sessions_access_tokens() {
    // Issue 12, item 6: `/auth/logout` (by refresh token or by family) and "log out
    // everywhere" end the access tokens as well.
    let f = fixture(ReusePolicy::RevokeFamily);
    let a = f.refresh.issue("alice").await.unwrap();
    let b = f.refresh.issue("alice").await.unwrap();
    let c = f.refresh.issue("alice").await.unwrap();

    f.refresh.revoke(a.token().as_str()).await.unwrap();
    assert!(f.access_revoked(LOCAL, a.family()).await);
    assert!(!f.access_revoked(LOCAL, b.family()).await);

    assert!(f.refresh.revoke_family(b.family()).await.unwrap());
    assert!(f.access_revoked(LOCAL, b.family()).await);
    assert!(!f.access_revoked(LOCAL, c.family()).await);

    assert_eq!(f.refresh.revoke_subject("alice").await.unwrap(), 1);
    assert!(f.access_revoked(LOCAL, c.family()).await);
}

#[tokio::test]
async fn sessions_are_revoked_under_the_configured_issuer_only() {
    // Issue 12, item 7: another issuer's tokens with the same `sid` are someone else's.
    let f = fixture(ReusePolicy::RevokeFamily);
    let a = f.refresh.issue("alice").await.unwrap();
    f.refresh.revoke(a.token().as_str()).await.unwrap();
    assert!(f.access_revoked(LOCAL, a.family()).await);
    assert!(!f.access_revoked(PROVIDER, a.family()).await);
    assert!(!f.access_revoked(None, a.family()).await);
}

#[tokio::test]
async fn a_failing_revocation_store_fails_reuse_closed_and_presenting_again_completes_it() {
    let f = fixture(ReusePolicy::RevokeFamily);
    let stolen = f.refresh.issue("alice").await.unwrap();
    f.refresh.rotate(stolen.token().as_str()).await.unwrap();

    f.store.fail.store(true, Ordering::SeqCst);
    assert_eq!(
        code(f.refresh.rotate(stolen.token().as_str()).await),
        ErrorCode::AuthBackendUnavailable
    );
    assert!(!f.access_revoked(LOCAL, stolen.family()).await);

    f.store.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        code(f.refresh.rotate(stolen.token().as_str()).await),
        ErrorCode::RefreshTokenReused
    );
    assert!(f.access_revoked(LOCAL, stolen.family()).await);
}

#[tokio::test]
async fn a_failing_revocation_store_fails_logouts_closed_and_a_retry_completes_them() {
    let f = fixture(ReusePolicy::RevokeFamily);
    let a = f.refresh.issue("alice").await.unwrap();
    let b = f.refresh.issue("alice").await.unwrap();
    let c = f.refresh.issue("carol").await.unwrap();

    f.store.fail.store(true, Ordering::SeqCst);
    assert_eq!(
        code(f.refresh.revoke(a.token().as_str()).await),
        ErrorCode::AuthBackendUnavailable
    );
    assert_eq!(
        code(f.refresh.revoke_subject("alice").await),
        ErrorCode::AuthBackendUnavailable
    );
    assert_eq!(
        code(f.refresh.revoke_family(c.family()).await),
        ErrorCode::AuthBackendUnavailable
    );
    for family in [a.family(), b.family(), c.family()] {
        assert!(!f.access_revoked(LOCAL, family).await);
    }

    // The families are revoked already; calling again still ends their sessions.
    f.store.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        f.refresh.revoke(a.token().as_str()).await.unwrap(),
        Some(a.family().clone())
    );
    assert_eq!(f.refresh.revoke_subject("alice").await.unwrap(), 0);
    assert!(!f.refresh.revoke_family(c.family()).await.unwrap());
    for family in [a.family(), b.family(), c.family()] {
        assert!(f.access_revoked(LOCAL, family).await);
    }
}
