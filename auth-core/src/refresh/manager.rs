//! [`RefreshTokens`]: issuing, rotating and revoking refresh tokens over a store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::memory::MemoryRefreshStore;
use super::store::{NewFamily, NewToken, RefreshTokenStore, RotateOutcome};
use super::token::{FamilyId, RefreshToken};
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::error::{AuthError, ConfigError};
use crate::store::StoreError;

/// The default refresh-token lifetime: 30 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// What to revoke when a used refresh token is presented again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReusePolicy {
    /// Revoke the token's family: the one login session it belongs to (the default).
    #[default]
    RevokeFamily,
    /// Revoke every session of the token's user.
    RevokeAllSessions,
}

/// Issues, rotates and revokes opaque refresh tokens.
///
/// - [`issue`](Self::issue) starts a family (one login session) for a user and returns its first
///   token (256 random bits; only its SHA-256 digest is stored; lifetime 30 days by default).
/// - [`rotate`](Self::rotate) exchanges a token for a new one of the same family, atomically in
///   the store: the presented token is used up.
/// - Presenting a used token again is **reuse**, the sign of a stolen token: the family (or,
///   with [`ReusePolicy::RevokeAllSessions`], every session of the user) is revoked, a `tracing`
///   warning is emitted (target `auth::refresh`), and the answer is `REFRESH_TOKEN_REUSED`.
///   Expired tokens answer `REFRESH_TOKEN_EXPIRED`; unknown, malformed or revoked ones
///   `INVALID_REFRESH_TOKEN`; a failing store `AUTH_BACKEND_UNAVAILABLE`.
///
/// Every time decision reads the injected [`Clock`]. Cheap to clone.
///
/// ```
/// use auth_core::clock::{ManualClock, UnixTime};
/// use auth_core::refresh::RefreshTokens;
/// use auth_core::ErrorCode;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
/// let refresh = RefreshTokens::in_memory().clock(clock.clone()).build()?;
///
/// let login = refresh.issue("alice").await?;
/// let next = refresh.rotate(login.token().as_str()).await?;
/// assert_eq!(next.subject(), "alice");
/// assert_eq!(next.family(), login.family());
///
/// // The first token again: reuse. The whole session is revoked.
/// let err = refresh.rotate(login.token().as_str()).await.unwrap_err();
/// assert_eq!(err.code(), ErrorCode::RefreshTokenReused);
/// let err = refresh.rotate(next.token().as_str()).await.unwrap_err();
/// assert_eq!(err.code(), ErrorCode::InvalidRefreshToken);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RefreshTokens {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn RefreshTokenStore>,
    lifetime: Duration,
    policy: ReusePolicy,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("RefreshTokens")
            .field("store", &i.store)
            .field("lifetime", &i.lifetime)
            .field("policy", &i.policy)
            .field("clock", &i.clock)
            .finish()
    }
}

/// Builds [`RefreshTokens`]; created by [`RefreshTokens::builder`] or
/// [`RefreshTokens::in_memory`].
#[must_use]
pub struct RefreshTokensBuilder {
    store: Arc<dyn RefreshTokenStore>,
    lifetime: Duration,
    policy: ReusePolicy,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RefreshTokensBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokensBuilder")
            .field("store", &self.store)
            .field("lifetime", &self.lifetime)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl RefreshTokensBuilder {
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
        Ok(RefreshTokens {
            inner: Arc::new(Inner {
                store: self.store,
                lifetime: self.lifetime,
                policy: self.policy,
                clock: self.clock,
            }),
        })
    }
}

/// A refresh token just issued or rotated, with its family, user and expiry. The token is
/// returned this once; `Debug` hides it.
#[derive(Clone, Debug)]
pub struct IssuedRefreshToken {
    token: RefreshToken,
    family: FamilyId,
    subject: String,
    expires_at: UnixTime,
    lifetime: Duration,
}

impl IssuedRefreshToken {
    /// The token, to hand to the client (once).
    #[must_use]
    pub fn token(&self) -> &RefreshToken {
        &self.token
    }

    /// The family (session) it belongs to.
    #[must_use]
    pub fn family(&self) -> &FamilyId {
        &self.family
    }

    /// The user.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When it expires.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// How long it lives, e.g. for a cookie's `Max-Age`.
    #[must_use]
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }
}

fn backend(e: StoreError) -> AuthError {
    tracing::error!(target: "auth::refresh", error = %e, "refresh token store failed");
    AuthError::from(e)
}

impl RefreshTokens {
    /// A builder over `store`.
    pub fn builder(store: impl RefreshTokenStore) -> RefreshTokensBuilder {
        Self::builder_shared(Arc::new(store))
    }

    /// A builder over a shared store.
    pub fn builder_shared(store: Arc<dyn RefreshTokenStore>) -> RefreshTokensBuilder {
        RefreshTokensBuilder {
            store,
            lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            policy: ReusePolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// A builder over a fresh [`MemoryRefreshStore`].
    pub fn in_memory() -> RefreshTokensBuilder {
        Self::builder(MemoryRefreshStore::new())
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn RefreshTokenStore> {
        &self.inner.store
    }

    /// The token lifetime.
    #[must_use]
    pub fn lifetime(&self) -> Duration {
        self.inner.lifetime
    }

    fn new_token(&self) -> Result<(RefreshToken, NewToken), AuthError> {
        let token = RefreshToken::generate().map_err(backend)?;
        let now = self.inner.clock.now();
        let record = NewToken::new(token.hash(), now, now.saturating_add(self.inner.lifetime));
        Ok((token, record))
    }

    /// Starts a new family (a login) for `subject` and returns its first token.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store or the random source fails.
    pub async fn issue(&self, subject: &str) -> Result<IssuedRefreshToken, AuthError> {
        let (token, record) = self.new_token()?;
        let family = FamilyId::generate().map_err(backend)?;
        self.inner
            .store
            .insert_family(NewFamily::new(record, family.clone(), subject))
            .await
            .map_err(backend)?;
        tracing::debug!(target: "auth::refresh", subject, family = %family, "refresh family started");
        Ok(IssuedRefreshToken {
            token,
            family,
            subject: subject.to_owned(),
            expires_at: record.expires_at(),
            lifetime: self.inner.lifetime,
        })
    }

    /// Exchanges `presented` for a new token of the same family.
    ///
    /// # Errors
    ///
    /// [`AuthError::RefreshTokenReused`] (and the family or all sessions revoked) for a token
    /// already used, [`AuthError::RefreshTokenExpired`] for an expired one,
    /// [`AuthError::InvalidRefreshToken`] for a malformed, unknown or revoked one,
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn rotate(&self, presented: &str) -> Result<IssuedRefreshToken, AuthError> {
        let Some(hash) = RefreshToken::hash_of(presented) else {
            tracing::debug!(target: "auth::refresh", reason = "malformed", "refresh refused");
            return Err(AuthError::InvalidRefreshToken);
        };
        let (token, record) = self.new_token()?;
        let now = record.issued_at();
        let outcome = self
            .inner
            .store
            .rotate(&hash, record, now)
            .await
            .map_err(backend)?;
        match outcome {
            RotateOutcome::Rotated { family, subject } => {
                tracing::debug!(target: "auth::refresh", subject, family = %family, "refresh token rotated");
                Ok(IssuedRefreshToken {
                    token,
                    family,
                    subject,
                    expires_at: record.expires_at(),
                    lifetime: self.inner.lifetime,
                })
            }
            RotateOutcome::Reused { family, subject } => {
                let all = self.inner.policy == ReusePolicy::RevokeAllSessions;
                let others = if all {
                    self.inner
                        .store
                        .revoke_subject(&subject)
                        .await
                        .map_err(backend)?
                } else {
                    0
                };
                tracing::warn!(
                    target: "auth::refresh",
                    subject,
                    family = %family,
                    revoked = if all { "all_sessions" } else { "family" },
                    other_sessions_revoked = others,
                    "refresh token reuse detected (possible theft); revoked",
                );
                Err(AuthError::RefreshTokenReused)
            }
            RotateOutcome::Expired => {
                tracing::debug!(target: "auth::refresh", reason = "expired", "refresh refused");
                Err(AuthError::RefreshTokenExpired)
            }
            RotateOutcome::Revoked | RotateOutcome::Unknown => {
                tracing::debug!(target: "auth::refresh", reason = "unknown_or_revoked", "refresh refused");
                Err(AuthError::InvalidRefreshToken)
            }
        }
    }

    /// Revokes the session `presented` belongs to (logout). Returns its family when the token
    /// was known; malformed or unknown tokens revoke nothing.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke(&self, presented: &str) -> Result<Option<FamilyId>, AuthError> {
        let Some(hash) = RefreshToken::hash_of(presented) else {
            return Ok(None);
        };
        self.inner
            .store
            .revoke_family_of(&hash)
            .await
            .map_err(backend)
    }

    /// Revokes one family (session).
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_family(&self, family: &FamilyId) -> Result<bool, AuthError> {
        self.inner
            .store
            .revoke_family(family)
            .await
            .map_err(backend)
    }

    /// Revokes every session of `subject` ("log out everywhere"); returns how many.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn revoke_subject(&self, subject: &str) -> Result<usize, AuthError> {
        self.inner
            .store
            .revoke_subject(subject)
            .await
            .map_err(backend)
    }
}
