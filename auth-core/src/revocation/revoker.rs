//! [`Revoker`]: revoking with the right expiries, read from the injected clock.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::store::RevocationStore;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::error::{AuthError, ConfigError, InvalidToken};
use crate::principal::Principal;
use crate::store::StoreError;

/// How long past a token's `exp` its revocation is kept: the largest clock-skew leeway a
/// verifier accepts (300 s, the JWT verifier's maximum), so a revoked token cannot pass again
/// during a verifier's leeway.
pub const REVOCATION_LEEWAY: Duration = Duration::from_secs(300);

/// Revokes access tokens in a [`RevocationStore`], computing how long each entry must live.
///
/// Every revocation is made within an issuer (the principal's, or the one given): one token by
/// `jti`, every token of a session by `sid`, or every token of a subject issued up to now.
///
/// ```
/// use auth_core::clock::{ManualClock, UnixTime};
/// use auth_core::revocation::{MemoryRevocationStore, Revoker};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let revoker = Revoker::builder(Arc::new(MemoryRevocationStore::new()))
///     .clock(ManualClock::new(UnixTime::from_secs(1_000)))
///     .build()?;
/// let issuer = Some("https://auth.example");
/// assert!(revoker.revoke_jti(issuer, "jti-7", UnixTime::from_secs(1_900)).await?);
/// assert!(revoker.revoke_session(issuer, "family-1").await?);
/// revoker.revoke_subject(issuer, "alice").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn RevocationStore>,
    clock: Arc<dyn Clock>,
    max_token_lifetime: Duration,
}

impl fmt::Debug for Revoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revoker")
            .field("store", &self.store)
            .field("clock", &self.clock)
            .field("max_token_lifetime", &self.max_token_lifetime)
            .finish()
    }
}

/// Builds a [`Revoker`]; created by [`Revoker::builder`].
#[must_use]
pub struct RevokerBuilder {
    store: Arc<dyn RevocationStore>,
    clock: Arc<dyn Clock>,
    max_token_lifetime: Duration,
}

impl fmt::Debug for RevokerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokerBuilder")
            .field("store", &self.store)
            .field("max_token_lifetime", &self.max_token_lifetime)
            .finish_non_exhaustive()
    }
}

impl RevokerBuilder {
    /// The longest lifetime of any access token the verifiers accept (default 15 minutes, the
    /// issuer's default). A subject-wide or session-wide revocation is kept this long (plus
    /// leeway).
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_token_lifetime = lifetime;
        self
    }

    /// The clock "now" is read from (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidDuration`] for a zero maximum lifetime.
    pub fn build(self) -> Result<Revoker, ConfigError> {
        if self.max_token_lifetime.is_zero() {
            return Err(ConfigError::InvalidDuration {
                what: "maximum token lifetime",
            });
        }
        Ok(Revoker {
            store: self.store,
            clock: self.clock,
            max_token_lifetime: self.max_token_lifetime,
        })
    }
}

fn backend(e: StoreError) -> AuthError {
    tracing::error!(target: "auth::revocation", error = %e, "revocation store failed");
    AuthError::from(e)
}

impl Revoker {
    /// A builder over `store` (share the same `Arc` with `BearerLayer`).
    pub fn builder(store: Arc<dyn RevocationStore>) -> RevokerBuilder {
        RevokerBuilder {
            store,
            clock: Arc::new(SystemClock),
            max_token_lifetime: Duration::from_secs(15 * 60),
        }
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn RevocationStore> {
        &self.store
    }

    /// The longest lifetime of an access token, as configured.
    #[must_use]
    pub fn max_token_lifetime(&self) -> Duration {
        self.max_token_lifetime
    }

    /// How long an entry covering every token issued up to now must live: the longest token
    /// lifetime plus [`REVOCATION_LEEWAY`].
    fn covering_until(&self, now: UnixTime) -> UnixTime {
        now.saturating_add(self.max_token_lifetime)
            .saturating_add(REVOCATION_LEEWAY)
    }

    /// Revokes the token a principal authenticated with (logout), within its issuer, until its
    /// `exp` plus [`REVOCATION_LEEWAY`]. Returns whether it was not revoked before.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] when the principal's token has no `jti` (it cannot be
    /// revoked alone; revoke its session or subject instead),
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_token(&self, principal: &Principal) -> Result<bool, AuthError> {
        let jti = principal
            .token_id()
            .ok_or(InvalidToken::MissingClaim("jti"))?;
        let exp = principal
            .expires_at()
            .unwrap_or_else(|| self.clock.now().saturating_add(self.max_token_lifetime));
        self.revoke_jti(principal.issuer(), jti, exp).await
    }

    /// Revokes token `jti` of `issuer` that expires at `expires_at`, until then plus
    /// [`REVOCATION_LEEWAY`].
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_jti(
        &self,
        issuer: Option<&str>,
        jti: &str,
        expires_at: UnixTime,
    ) -> Result<bool, AuthError> {
        let newly = self
            .store
            .revoke_token(issuer, jti, expires_at.saturating_add(REVOCATION_LEEWAY))
            .await
            .map_err(backend)?;
        tracing::info!(target: "auth::revocation", issuer, jti, "access token revoked");
        Ok(newly)
    }

    /// Revokes every token of `subject` of `issuer` issued up to now ("log out everywhere").
    /// Tokens of other issuers with the same `sub` are not affected.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_subject(
        &self,
        issuer: Option<&str>,
        subject: &str,
    ) -> Result<(), AuthError> {
        let now = self.clock.now();
        self.store
            .revoke_subject(issuer, subject, now, self.covering_until(now))
            .await
            .map_err(backend)?;
        tracing::info!(target: "auth::revocation", issuer, subject, "every token of the subject revoked");
        Ok(())
    }

    /// Revokes every token of the principal's subject, within its issuer, issued up to now
    /// ([`revoke_subject`](Self::revoke_subject) with the principal's issuer).
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_subject_of(&self, principal: &Principal) -> Result<(), AuthError> {
        self.revoke_subject(principal.issuer(), principal.subject())
            .await
    }

    /// Revokes every token of `issuer` whose `sid` is `session` (a session ended by logout or
    /// by refresh-token reuse), at once, until every token of it issued up to now has expired
    /// (the maximum token lifetime plus [`REVOCATION_LEEWAY`]). Returns whether the session was
    /// not revoked before.
    ///
    /// Tokens minted for the session later still carry its `sid`, so they are refused too
    /// while the entry lives; stop minting them by revoking the session's refresh-token family
    /// as well ([`RefreshTokens`](crate::refresh::RefreshTokens) does both when configured
    /// with `revoke_sessions_with`).
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_session(
        &self,
        issuer: Option<&str>,
        session: &str,
    ) -> Result<bool, AuthError> {
        let until = self.covering_until(self.clock.now());
        let newly = self
            .store
            .revoke_session(issuer, session, until)
            .await
            .map_err(backend)?;
        tracing::info!(target: "auth::revocation", issuer, session, "every token of the session revoked");
        Ok(newly)
    }

    /// Revokes every token of the principal's session (its `sid`), within its issuer
    /// ([`revoke_session`](Self::revoke_session)).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] when the principal's token names no session,
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_session_of(&self, principal: &Principal) -> Result<bool, AuthError> {
        let session = principal
            .session_id()
            .ok_or(InvalidToken::MissingClaim("sid"))?;
        self.revoke_session(principal.issuer(), session).await
    }
}

#[cfg(all(test, feature = "jwt"))]
mod tests {
    #[test]
    fn revocation_leeway_covers_the_largest_verifier_leeway() {
        assert!(super::REVOCATION_LEEWAY >= crate::jwt::MAX_LEEWAY);
    }
}
