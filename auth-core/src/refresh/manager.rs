//! [`RefreshTokens`]: issuing, rotating and revoking refresh tokens over a store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::builder::RefreshTokensBuilder;
use super::memory::MemoryRefreshStore;
#[cfg(feature = "revocation")]
use super::sessions::SessionRevocation;
use super::store::{NewFamily, NewToken, RefreshTokenStore, RotateOutcome};
use super::token::{FamilyId, RefreshToken};
use crate::clock::{Clock, UnixTime};
use crate::error::AuthError;
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

/// The settings, shared by clones; built by [`RefreshTokensBuilder`].
pub(super) struct Inner {
    pub(super) store: Arc<dyn RefreshTokenStore>,
    pub(super) lifetime: Duration,
    pub(super) policy: ReusePolicy,
    pub(super) clock: Arc<dyn Clock>,
    #[cfg(feature = "revocation")]
    pub(super) sessions: Option<SessionRevocation>,
}

impl fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        let mut d = f.debug_struct("RefreshTokens");
        d.field("store", &i.store)
            .field("lifetime", &i.lifetime)
            .field("policy", &i.policy)
            .field("clock", &i.clock);
        #[cfg(feature = "revocation")]
        d.field("sessions", &i.sessions);
        d.finish()
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
    pub(super) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A builder over `store`.
    pub fn builder(store: impl RefreshTokenStore) -> RefreshTokensBuilder {
        Self::builder_shared(Arc::new(store))
    }

    /// A builder over a shared store.
    pub fn builder_shared(store: Arc<dyn RefreshTokenStore>) -> RefreshTokensBuilder {
        RefreshTokensBuilder::new(store)
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
    /// `subject` is the account the session belongs to, as the application names it; every
    /// per-user operation ([`revoke_subject`](Self::revoke_subject), [`ReusePolicy::RevokeAllSessions`])
    /// finds the families by it. When tokens of **more than one issuer** are accepted, pass an
    /// issuer-qualified key ([`Principal::account_key`](crate::Principal::account_key) or
    /// [`Principal::account_key_for`](crate::Principal::account_key_for)), not the bare `sub`:
    /// two issuers may name different people `alice`, and one must not log the other out.
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
                let revoked = if all { "all_sessions" } else { "family" };
                match self.revoke_after_reuse(&family, &subject, all).await {
                    Ok(others) => {
                        tracing::warn!(
                            target: "auth::refresh",
                            subject,
                            family = %family,
                            revoked,
                            other_sessions_revoked = others,
                            "refresh token reuse detected (possible theft); revoked",
                        );
                        Err(AuthError::RefreshTokenReused)
                    }
                    Err(e) => {
                        tracing::warn!(
                            target: "auth::refresh",
                            subject,
                            family = %family,
                            revoked,
                            "refresh token reuse detected (possible theft); revoking failed, \
                             presenting the token again retries",
                        );
                        Err(e)
                    }
                }
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

    /// After reuse of a token of `family`: the store has revoked the family; revokes its
    /// session, then with `all` every other family of `subject` and theirs. Returns how many
    /// other families were newly revoked.
    async fn revoke_after_reuse(
        &self,
        family: &FamilyId,
        subject: &str,
        all: bool,
    ) -> Result<usize, AuthError> {
        self.end_sessions(std::slice::from_ref(family)).await?;
        if !all {
            return Ok(0);
        }
        let others = self
            .inner
            .store
            .revoke_subject(subject)
            .await
            .map_err(backend)?;
        for other in others.families() {
            if other != family {
                self.end_sessions(std::slice::from_ref(other)).await?;
            }
        }
        Ok(others.newly_revoked())
    }

    /// Revokes the access tokens of `families` by session, when configured
    /// ([`RefreshTokensBuilder::revoke_sessions_with`]).
    #[cfg(feature = "revocation")]
    async fn end_sessions(&self, families: &[FamilyId]) -> Result<(), AuthError> {
        match &self.inner.sessions {
            Some(sessions) => sessions.revoke(families).await,
            None => Ok(()),
        }
    }

    /// Without the `revocation` feature there is no session to revoke.
    #[cfg(not(feature = "revocation"))]
    #[allow(clippy::unused_async)]
    async fn end_sessions(&self, families: &[FamilyId]) -> Result<(), AuthError> {
        let _ = families;
        Ok(())
    }

    /// Revokes the session `presented` belongs to (logout), and with
    /// [`revoke_sessions_with`](RefreshTokensBuilder::revoke_sessions_with) its access tokens.
    /// Returns its family when the token was known; malformed or unknown tokens revoke nothing.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when a store fails (calling again completes it).
    pub async fn revoke(&self, presented: &str) -> Result<Option<FamilyId>, AuthError> {
        let Some(hash) = RefreshToken::hash_of(presented) else {
            return Ok(None);
        };
        let family = self
            .inner
            .store
            .revoke_family_of(&hash)
            .await
            .map_err(backend)?;
        if let Some(family) = &family {
            self.end_sessions(std::slice::from_ref(family)).await?;
        }
        Ok(family)
    }

    /// Revokes one family (session), and with
    /// [`revoke_sessions_with`](RefreshTokensBuilder::revoke_sessions_with) its access tokens.
    /// Returns whether the family existed and was not revoked before.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when a store fails (calling again completes it).
    pub async fn revoke_family(&self, family: &FamilyId) -> Result<bool, AuthError> {
        let newly = self
            .inner
            .store
            .revoke_family(family)
            .await
            .map_err(backend)?;
        self.end_sessions(std::slice::from_ref(family)).await?;
        Ok(newly)
    }

    /// Revokes every session of `subject` ("log out everywhere"), and with
    /// [`revoke_sessions_with`](RefreshTokensBuilder::revoke_sessions_with) the access tokens
    /// of each; returns how many sessions were newly revoked.
    ///
    /// `subject` is the account key the families were issued for
    /// ([`issue`](Self::issue)): issuer-qualified when several issuers are accepted.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when a store fails (calling again completes it).
    pub async fn revoke_subject(&self, subject: &str) -> Result<usize, AuthError> {
        let revoked = self
            .inner
            .store
            .revoke_subject(subject)
            .await
            .map_err(backend)?;
        self.end_sessions(revoked.families()).await?;
        Ok(revoked.newly_revoked())
    }
}
