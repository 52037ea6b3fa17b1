//! [`RevocationStore`]: the storage contract for revoked access tokens.

use std::fmt;

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::principal::Principal;
use crate::store::StoreError;

/// What a revocation check looks at: the token's issuer, `jti`, subject, session (`sid`) and
/// `iat`.
///
/// Every identifier is read **within its issuer**: a `jti`, subject or session of one issuer
/// says nothing about another issuer's, and a token without `iss` (`None`) lives in a namespace
/// of its own, distinct from every issuer (including an empty one).
///
/// ```
/// use auth_core::clock::UnixTime;
/// use auth_core::revocation::TokenRef;
///
/// let t = TokenRef::new(Some("jti-1"), "alice", Some(UnixTime::from_secs(100)))
///     .with_issuer(Some("https://auth.example"))
///     .with_session(Some("family-1"));
/// assert_eq!(t.subject(), "alice");
/// assert_eq!(t.issuer(), Some("https://auth.example"));
/// assert_eq!(t.session(), Some("family-1"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRef<'a> {
    issuer: Option<&'a str>,
    jti: Option<&'a str>,
    subject: &'a str,
    session: Option<&'a str>,
    issued_at: Option<UnixTime>,
}

impl<'a> TokenRef<'a> {
    /// A token with this `jti`, subject and `iat`, without issuer or session (add them with
    /// [`with_issuer`](Self::with_issuer) and [`with_session`](Self::with_session)).
    #[must_use]
    pub const fn new(jti: Option<&'a str>, subject: &'a str, issued_at: Option<UnixTime>) -> Self {
        Self {
            issuer: None,
            jti,
            subject,
            session: None,
            issued_at,
        }
    }

    /// The same token, issued by `issuer` (`None`: no `iss`).
    #[must_use]
    pub const fn with_issuer(mut self, issuer: Option<&'a str>) -> Self {
        self.issuer = issuer;
        self
    }

    /// The same token, belonging to session `session` (its `sid`).
    #[must_use]
    pub const fn with_session(mut self, session: Option<&'a str>) -> Self {
        self.session = session;
        self
    }

    /// The token behind a verified principal: its issuer, `jti`, subject, `sid` and `iat`.
    #[must_use]
    pub fn of(principal: &'a Principal) -> Self {
        Self::new(
            principal.token_id(),
            principal.subject(),
            principal.issued_at(),
        )
        .with_issuer(principal.issuer())
        .with_session(principal.session_id())
    }

    /// The issuer (`iss`), if the token names one.
    #[must_use]
    pub const fn issuer(&self) -> Option<&'a str> {
        self.issuer
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

    /// The session (`sid`), if the token names one.
    #[must_use]
    pub const fn session(&self) -> Option<&'a str> {
        self.session
    }

    /// The `iat`, if the token has one.
    #[must_use]
    pub const fn issued_at(&self) -> Option<UnixTime> {
        self.issued_at
    }
}

/// Storage for revoked access tokens.
///
/// Three kinds of entry, each **qualified by the issuer** (`None`, tokens without `iss`, is a
/// namespace of its own) and each with an expiry after which it disappears by itself (an
/// access token cannot outlive its `exp`, so neither need its revocation):
///
/// - one token, by `(issuer, jti)`, until the token's `exp` (plus leeway);
/// - every token of a subject, by `(issuer, subject)`, issued **at or before** an instant
///   ("log out everywhere"), until the longest-lived of those tokens has expired;
/// - every token of a session, by `(issuer, sid)` (a refresh-token family ended by a logout or
///   by reuse detection), until the longest-lived of those tokens has expired.
///
/// Two trusted issuers may well use the same `sub` (or `jti`, or `sid`) for different people:
/// an entry for one never touches the other's tokens.
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
/// let iss = Some("https://auth.example");
/// assert!(store.revoke_token(iss, "jti-1", UnixTime::from_secs(2_000)).await?);
/// let token = TokenRef::new(Some("jti-1"), "alice", Some(UnixTime::from_secs(900)))
///     .with_issuer(iss);
/// assert!(store.is_revoked(token, now).await?);
/// // The same jti from another issuer is another token.
/// let other = token.with_issuer(Some("https://idp.example"));
/// assert!(!store.is_revoked(other, now).await?);
/// // Past the entry's expiry the token is no longer listed (it has expired anyway).
/// assert!(!store.is_revoked(token, UnixTime::from_secs(2_000)).await?);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait RevocationStore: fmt::Debug + Send + Sync + 'static {
    /// Revokes the token `jti` of `issuer` until `until`. Returns whether it was not revoked
    /// before.
    ///
    /// `until` must cover the token's `exp` **plus the verifier's leeway**, or the token would
    /// pass again during the leeway; [`Revoker`](super::Revoker) adds the maximum leeway.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_token(
        &self,
        issuer: Option<&str>,
        jti: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Revokes every token of `subject` of `issuer` issued at or before `issued_before`,
    /// remembering that until `until`. A later call can only move both instants forward.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_subject(
        &self,
        issuer: Option<&str>,
        subject: &str,
        issued_before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError>;

    /// Revokes every token of `issuer` whose `sid` is `session`, until `until` (which must
    /// cover the `exp` plus leeway of every token of the session, issued before or, in a race,
    /// just after this call; [`Revoker`](super::Revoker) keeps it the maximum token lifetime
    /// plus the maximum leeway). Returns whether it was not revoked before.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_session(
        &self,
        issuer: Option<&str>,
        session: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Whether `token` is revoked at `now`, within its issuer: its `jti` is listed, or its
    /// session is listed, or its subject has a cutoff and the token was issued at or before it
    /// (or has no `iat`, so cannot prove otherwise).
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
