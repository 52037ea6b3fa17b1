//! [`RefreshTokenStore`]: the storage contract, shaped around one atomic `rotate`.

use std::fmt;

use async_trait::async_trait;

use super::token::{FamilyId, TokenHash};
use crate::clock::UnixTime;
use crate::store::StoreError;

/// The first token of a new family (a login), as a store keeps it: digest, family, subject and
/// validity. The token itself is never part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFamily {
    token: NewToken,
    family: FamilyId,
    subject: String,
}

impl NewFamily {
    /// A new family `family` for `subject`, starting with `token`.
    #[must_use]
    pub fn new(token: NewToken, family: FamilyId, subject: impl Into<String>) -> Self {
        Self {
            token,
            family,
            subject: subject.into(),
        }
    }

    /// The family's first token.
    #[must_use]
    pub fn token(&self) -> &NewToken {
        &self.token
    }

    /// The family id.
    #[must_use]
    pub fn family(&self) -> &FamilyId {
        &self.family
    }

    /// The user the family belongs to.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// A token to store: its digest and validity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewToken {
    hash: TokenHash,
    issued_at: UnixTime,
    expires_at: UnixTime,
}

impl NewToken {
    /// A token with digest `hash`, valid from `issued_at` until `expires_at` (exclusive).
    ///
    /// ```
    /// use auth_core::clock::UnixTime;
    /// use auth_core::refresh::{NewToken, TokenHash};
    ///
    /// let t = NewToken::new(TokenHash::from_bytes([1; 32]), UnixTime::from_secs(10), UnixTime::from_secs(70));
    /// assert_eq!(t.expires_at(), UnixTime::from_secs(70));
    /// ```
    #[must_use]
    pub fn new(hash: TokenHash, issued_at: UnixTime, expires_at: UnixTime) -> Self {
        Self {
            hash,
            issued_at,
            expires_at,
        }
    }

    /// The digest.
    #[must_use]
    pub fn hash(&self) -> TokenHash {
        self.hash
    }

    /// When it was issued.
    #[must_use]
    pub fn issued_at(&self) -> UnixTime {
        self.issued_at
    }

    /// When it expires (it is invalid from this instant on).
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }
}

/// What [`RefreshTokenStore::rotate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// The presented token was valid: it is now used, and the replacement was stored in its
    /// family.
    Rotated {
        /// The family (session).
        family: FamilyId,
        /// The user.
        subject: String,
    },
    /// The presented token had already been used: its family is now revoked (whatever else
    /// happens, no token of that family rotates again).
    Reused {
        /// The revoked family.
        family: FamilyId,
        /// The user.
        subject: String,
    },
    /// The presented token is past its expiry.
    Expired,
    /// The presented token is unused but its family was revoked (logout, or reuse detected
    /// earlier).
    Revoked,
    /// No such token (never issued, or purged after it expired).
    Unknown,
}

/// What [`RefreshTokenStore::revoke_subject`] did: every family of the subject the store still
/// holds (all of them revoked now, by this call or before) and how many this call revoked.
///
/// The families are reported whether or not they were already revoked, so a caller that must do
/// more per family (revoke its access tokens by `sid`) and failed halfway can simply call again.
///
/// ```
/// use auth_core::refresh::{FamilyId, RevokedFamilies};
///
/// let r = RevokedFamilies::new(vec![FamilyId::new("f1"), FamilyId::new("f2")], 1);
/// assert_eq!(r.families().len(), 2);
/// assert_eq!(r.newly_revoked(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevokedFamilies {
    families: Vec<FamilyId>,
    newly_revoked: usize,
}

impl RevokedFamilies {
    /// `families` of the subject, `newly_revoked` of which were revoked by this call.
    #[must_use]
    pub fn new(families: Vec<FamilyId>, newly_revoked: usize) -> Self {
        Self {
            families,
            newly_revoked,
        }
    }

    /// Every family of the subject the store still holds, now revoked.
    #[must_use]
    pub fn families(&self) -> &[FamilyId] {
        &self.families
    }

    /// How many of them this call revoked (the others were revoked before).
    #[must_use]
    pub fn newly_revoked(&self) -> usize {
        self.newly_revoked
    }
}

/// Storage for refresh tokens, shaped around atomic operations.
///
/// The central operation is [`rotate`](Self::rotate): *check the presented token, mark it used
/// and store its replacement* happens as one step, so when many callers present the same token
/// at once exactly one gets [`RotateOutcome::Rotated`] and every other one sees a used token.
/// An in-memory map does this under the family's entry lock; a Redis implementation does it in
/// one Lua script (a later release adds one).
///
/// Stores keep digests only ([`TokenHash`]); tokens themselves never reach them.
///
/// ```
/// use auth_core::clock::UnixTime;
/// use auth_core::refresh::{
///     FamilyId, MemoryRefreshStore, NewFamily, NewToken, RefreshToken, RefreshTokenStore,
///     RotateOutcome,
/// };
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryRefreshStore::new();
/// let (t0, exp) = (UnixTime::from_secs(100), UnixTime::from_secs(1_000));
/// let first = RefreshToken::generate()?;
/// let family = FamilyId::generate()?;
/// store.insert_family(NewFamily::new(NewToken::new(first.hash(), t0, exp), family.clone(), "alice")).await?;
///
/// let second = NewToken::new(RefreshToken::generate()?.hash(), t0, exp);
/// let out = store.rotate(&first.hash(), second, t0).await?;
/// assert!(matches!(out, RotateOutcome::Rotated { .. }));
///
/// // The same token again: reuse, and the family is revoked.
/// let third = NewToken::new(RefreshToken::generate()?.hash(), t0, exp);
/// assert!(matches!(store.rotate(&first.hash(), third, t0).await?, RotateOutcome::Reused { .. }));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait RefreshTokenStore: fmt::Debug + Send + Sync + 'static {
    /// Stores the first token of a new family.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or the family or digest already exists.
    async fn insert_family(&self, family: NewFamily) -> Result<(), StoreError>;

    /// Atomically, for the token with digest `presented`, at `now`:
    ///
    /// 1. unknown: [`RotateOutcome::Unknown`];
    /// 2. already used: revoke its family, [`RotateOutcome::Reused`];
    /// 3. family revoked: [`RotateOutcome::Revoked`];
    /// 4. expired (`now >= expires_at`): [`RotateOutcome::Expired`];
    /// 5. otherwise mark it used, store `replacement` in the same family and subject,
    ///    [`RotateOutcome::Rotated`].
    ///
    /// A used token must be remembered at least until its own expiry, so reuse is detected for
    /// as long as the token could have been valid.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn rotate(
        &self,
        presented: &TokenHash,
        replacement: NewToken,
        now: UnixTime,
    ) -> Result<RotateOutcome, StoreError>;

    /// Revokes one family (a logout). Returns whether it existed and was not yet revoked.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_family(&self, family: &FamilyId) -> Result<bool, StoreError>;

    /// Revokes the family the token with digest `token` belongs to (a logout that presents the
    /// refresh token). Returns the family, if the token was known (also when the family was
    /// already revoked).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_family_of(&self, token: &TokenHash) -> Result<Option<FamilyId>, StoreError>;

    /// Revokes every family of `subject` ("log out everywhere"). Returns every family of the
    /// subject the store still holds (revoked now, whether by this call or before) and how many
    /// were newly revoked.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn revoke_subject(&self, subject: &str) -> Result<RevokedFamilies, StoreError>;
}
