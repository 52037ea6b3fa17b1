//! [`RevocationStore`]: the storage contract for revoked access tokens.

use std::fmt;

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::principal::Principal;
use crate::store::StoreError;

/// What a revocation check looks at: the token's `jti`, subject and `iat`.
///
/// ```
/// use auth_core::clock::UnixTime;
/// use auth_core::revocation::TokenRef;
///
/// let t = TokenRef::new(Some("jti-1"), "alice", Some(UnixTime::from_secs(100)));
/// assert_eq!(t.subject(), "alice");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRef<'a> {
    jti: Option<&'a str>,
    subject: &'a str,
    issued_at: Option<UnixTime>,
}

impl<'a> TokenRef<'a> {
    /// A token with this `jti`, subject and `iat`.
    #[must_use]
    pub const fn new(jti: Option<&'a str>, subject: &'a str, issued_at: Option<UnixTime>) -> Self {
        Self {
            jti,
            subject,
            issued_at,
        }
    }

    /// The token behind a verified principal.
    #[must_use]
    pub fn of(principal: &'a Principal) -> Self {
        Self::new(
            principal.token_id(),
            principal.subject(),
            principal.issued_at(),
        )
    }

    /// The `jti`, if the token has one.
    #[must_use]
    pub const fn jti(&self) -> Option<&'a str> {
        self.jti
    }

    /// The subject.
    #[must_use]
    pub const fn subject(&self) -> &'a str {
        self.subject
    }

    /// The `iat`, if the token has one.
    #[must_use]
    pub const fn issued_at(&self) -> Option<UnixTime> {
        self.issued_at
    }
}

/// Storage for revoked access tokens.
///
/// Two kinds of entry, each with an expiry after which it disappears by itself (an access
/// token cannot outlive its `exp`, so neither need its revocation):
///
/// - one token, by `jti`, until the token's `exp` (plus leeway);
/// - every token of a subject issued **at or before** an instant ("log out everywhere"), until
///   the longest-lived of those tokens has expired.
///
/// Writes are single atomic upserts (an existing entry is only ever extended, never shortened),
/// so concurrent revocations cannot undo each other. The check must cost O(1) whatever the
/// number of entries: it runs on every request.
///
/// [`is_revoked_now`](Self::is_revoked_now) lets a store that can answer without waiting (the
/// in-memory default) do so; `BearerLayer` then takes a synchronous path, with no boxed future.
///
/// ```
/// use auth_core::clock::UnixTime;
/// use auth_core::revocation::{MemoryRevocationStore, RevocationStore, TokenRef};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), auth_core::store::StoreError> {
/// let store = MemoryRevocationStore::new();
/// let now = UnixTime::from_secs(1_000);
/// assert!(store.revoke_token("jti-1", UnixTime::from_secs(2_000)).await?);
/// let token = TokenRef::new(Some("jti-1"), "alice", Some(UnixTime::from_secs(900)));
/// assert!(store.is_revoked(token, now).await?);
/// // Past the entry's expiry the token is no longer listed (it has expired anyway).
/// assert!(!store.is_revoked(token, UnixTime::from_secs(2_000)).await?);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait RevocationStore: fmt::Debug + Send + Sync + 'static {
    /// Revokes the token `jti` until `until`. Returns whether it was not revoked before.
    ///
    /// `until` must cover the token's `exp` **plus the verifier's leeway**, or the token would
    /// pass again during the leeway; [`Revoker`](super::Revoker) adds the maximum leeway.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_token(&self, jti: &str, until: UnixTime) -> Result<bool, StoreError>;

    /// Revokes every token of `subject` issued at or before `issued_before`, remembering that
    /// until `until`. A later call can only move both instants forward.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_subject(
        &self,
        subject: &str,
        issued_before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError>;

    /// Whether `token` is revoked at `now`: its `jti` is listed, or its subject has a cutoff
    /// and the token was issued at or before it (or has no `iat`, so cannot prove otherwise).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn is_revoked(&self, token: TokenRef<'_>, now: UnixTime) -> Result<bool, StoreError>;

    /// The answer of [`is_revoked`](Self::is_revoked) when it is available without waiting;
    /// `None` (the default) means "await `is_revoked`". In-memory stores return `Some`.
    fn is_revoked_now(
        &self,
        token: TokenRef<'_>,
        now: UnixTime,
    ) -> Option<Result<bool, StoreError>> {
        let _ = (token, now);
        None
    }
}
