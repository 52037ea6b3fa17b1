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
/// assert!(revoker.revoke_jti("jti-7", UnixTime::from_secs(1_900)).await?);
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
    /// issuer's default). A subject-wide revocation is kept this long (plus leeway).
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

    /// Revokes the token a principal authenticated with (logout), until its `exp` plus
    /// [`REVOCATION_LEEWAY`]. Returns whether it was not revoked before.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] when the principal's token has no `jti` (it cannot be
    /// revoked alone; revoke the subject instead), [`AuthError::BackendUnavailable`] when the
    /// store fails.
    pub async fn revoke_token(&self, principal: &Principal) -> Result<bool, AuthError> {
        let jti = principal
            .token_id()
            .ok_or(InvalidToken::MissingClaim("jti"))?;
        let exp = principal
            .expires_at()
            .unwrap_or_else(|| self.clock.now().saturating_add(self.max_token_lifetime));
        self.revoke_jti(jti, exp).await
    }

    /// Revokes token `jti` that expires at `expires_at`, until then plus
    /// [`REVOCATION_LEEWAY`].
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_jti(&self, jti: &str, expires_at: UnixTime) -> Result<bool, AuthError> {
        let newly = self
            .store
            .revoke_token(jti, expires_at.saturating_add(REVOCATION_LEEWAY))
            .await
            .map_err(backend)?;
        tracing::info!(target: "auth::revocation", jti, "access token revoked");
        Ok(newly)
    }

    /// Revokes every token of `subject` issued up to now ("log out everywhere").
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_subject(&self, subject: &str) -> Result<(), AuthError> {
        let now = self.clock.now();
        let until = now
            .saturating_add(self.max_token_lifetime)
            .saturating_add(REVOCATION_LEEWAY);
        self.store
            .revoke_subject(subject, now, until)
            .await
            .map_err(backend)?;
        tracing::info!(target: "auth::revocation", subject, "every token of the subject revoked");
        Ok(())
    }
}

#[cfg(all(test, feature = "jwt"))]
mod tests {
    #[test]
    fn revocation_leeway_covers_the_largest_verifier_leeway() {
        assert!(super::REVOCATION_LEEWAY >= crate::jwt::MAX_LEEWAY);
    }
}
