//! [`RefreshTokensBuilder`]: the settings of [`RefreshTokens`], validated once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::manager::{DEFAULT_REFRESH_TOKEN_LIFETIME, Inner, RefreshTokens, ReusePolicy};
#[cfg(feature = "revocation")]
use super::sessions::SessionRevocation;
use super::store::RefreshTokenStore;
use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;

/// Builds [`RefreshTokens`]; created by [`RefreshTokens::builder`] or
/// [`RefreshTokens::in_memory`].
#[must_use]
pub struct RefreshTokensBuilder {
    store: Arc<dyn RefreshTokenStore>,
    lifetime: Duration,
    policy: ReusePolicy,
    clock: Arc<dyn Clock>,
    #[cfg(feature = "revocation")]
    sessions: Option<SessionRevocation>,
}

impl fmt::Debug for RefreshTokensBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RefreshTokensBuilder");
        d.field("store", &self.store)
            .field("lifetime", &self.lifetime)
            .field("policy", &self.policy);
        #[cfg(feature = "revocation")]
        d.field("sessions", &self.sessions);
        d.finish_non_exhaustive()
    }
}

impl RefreshTokensBuilder {
    /// The defaults over `store`: 30-day tokens, [`ReusePolicy::RevokeFamily`], the system
    /// clock, no session revocation.
    pub(super) fn new(store: Arc<dyn RefreshTokenStore>) -> Self {
        Self {
            store,
            lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            policy: ReusePolicy::default(),
            clock: Arc::new(SystemClock),
            #[cfg(feature = "revocation")]
            sessions: None,
        }
    }

    /// How long each refresh token lives (default 30 days). Each rotation starts a new lifetime.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// What reuse revokes (default: the family).
    pub fn reuse_policy(mut self, policy: ReusePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The clock every expiry decision reads (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Revokes the access tokens of every family this manager revokes, through `revoker`:
    /// access tokens of `issuer` name the family in their `sid` claim (the application puts
    /// [`IssuedRefreshToken::family`](super::IssuedRefreshToken::family) there when it issues
    /// them).
    ///
    /// Every family revocation then also revokes the session in the revocation store, so its
    /// access tokens answer 401 `TOKEN_REVOKED` at once on every instance that shares the store:
    /// reuse detection in [`rotate`](RefreshTokens::rotate) (the reused family, and with
    /// [`ReusePolicy::RevokeAllSessions`] each family of the user),
    /// [`revoke`](RefreshTokens::revoke), [`revoke_family`](RefreshTokens::revoke_family), and
    /// each family of [`revoke_subject`](RefreshTokens::revoke_subject) (by family, not by a
    /// subject cutoff: the families' subject is an account key, not necessarily the tokens'
    /// `sub`).
    ///
    /// # Order and failures
    ///
    /// The family is revoked first (in the refresh store), then its session (in the revocation
    /// store). A family is the long-lived credential (30 days by default), so it goes first;
    /// reuse detection has no choice anyway, as the store revokes the family in the same atomic
    /// step that detects the reuse. When the session write fails, the operation fails with
    /// `AUTH_BACKEND_UNAVAILABLE` (503), never reports success with access tokens left alive,
    /// and a retry completes it: every store call that revokes families reports them again when
    /// they are already revoked (a used token is reuse again, `revoke_family_of` still knows
    /// the family, `revoke_subject` lists every family), and session entries only ever extend.
    /// Until the retry, the family is dead and its access tokens live at most their remaining
    /// lifetime, as without this option.
    ///
    /// ```
    /// use auth_core::clock::{Clock, ManualClock, UnixTime};
    /// use auth_core::refresh::RefreshTokens;
    /// use auth_core::revocation::{MemoryRevocationStore, RevocationStore, Revoker, TokenRef};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
    /// let store = Arc::new(MemoryRevocationStore::new().with_clock(clock.clone()));
    /// let revoker = Revoker::builder(store.clone()).clock(clock.clone()).build()?;
    /// let issuer = Some("https://auth.example");
    /// let refresh = RefreshTokens::in_memory()
    ///     .clock(clock.clone())
    ///     .revoke_sessions_with(revoker, issuer)
    ///     .build()?;
    ///
    /// let login = refresh.issue("alice").await?;
    /// // ...an access token with `"sid": login.family().as_str()` is handed out...
    /// let access = TokenRef::new(Some("jti-1"), "alice", Some(clock.now()))
    ///     .with_issuer(issuer)
    ///     .with_session(Some(login.family().as_str()));
    /// assert!(!store.is_revoked(access, clock.now()).await?);
    ///
    /// refresh.revoke(login.token().as_str()).await?; // logout
    /// assert!(store.is_revoked(access, clock.now()).await?);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "revocation")]
    #[cfg_attr(docsrs, doc(cfg(feature = "revocation")))]
    pub fn revoke_sessions_with(
        mut self,
        revoker: crate::revocation::Revoker,
        issuer: Option<&str>,
    ) -> Self {
        self.sessions = Some(SessionRevocation::new(revoker, issuer));
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidDuration`] for a zero lifetime.
    pub fn build(self) -> Result<RefreshTokens, ConfigError> {
        if self.lifetime.is_zero() {
            return Err(ConfigError::InvalidDuration {
                what: "refresh token lifetime",
            });
        }
        Ok(RefreshTokens::from_inner(Inner {
            store: self.store,
            lifetime: self.lifetime,
            policy: self.policy,
            clock: self.clock,
            #[cfg(feature = "revocation")]
            sessions: self.sessions,
        }))
    }
}
