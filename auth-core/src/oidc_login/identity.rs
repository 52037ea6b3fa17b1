//! External identities: which local account a provider's `(issuer, subject)` belongs to.

use std::fmt;

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::store::StoreError;

/// The most bytes of an issuer, subject, provider name or account id a store accepts (OpenID
/// Connect limits `sub` to 255 ASCII characters; issuers are URLs).
pub const MAX_IDENTITY_FIELD_LEN: usize = 1024;

/// A provider's user: the ID token's `iss` and `sub`, which together are stable and unique
/// (OpenID Connect Core section 5.7). Never an email address, which the provider may let users
/// change and which another provider may assert for someone else.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalIdentity {
    issuer: String,
    subject: String,
}

impl ExternalIdentity {
    /// The identity `(issuer, subject)`.
    #[must_use]
    pub fn new(issuer: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            subject: subject.into(),
        }
    }

    /// The issuer (`iss`).
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject (`sub`).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Display for ExternalIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.subject, self.issuer)
    }
}

/// An identity linked to a local account: which provider (its configured name) and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedIdentity {
    identity: ExternalIdentity,
    provider: String,
    account: String,
    linked_at: UnixTime,
}

impl LinkedIdentity {
    /// `identity`, seen through the provider configured as `provider`, belongs to `account`
    /// since `linked_at`.
    #[must_use]
    pub fn new(
        identity: ExternalIdentity,
        provider: impl Into<String>,
        account: impl Into<String>,
        linked_at: UnixTime,
    ) -> Self {
        Self {
            identity,
            provider: provider.into(),
            account: account.into(),
            linked_at,
        }
    }

    /// The `(issuer, subject)`.
    #[must_use]
    pub fn identity(&self) -> &ExternalIdentity {
        &self.identity
    }

    /// The provider's configured name (e.g. `acme`).
    #[must_use]
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The local account.
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// When the link was made.
    #[must_use]
    pub fn linked_at(&self) -> UnixTime {
        self.linked_at
    }

    /// Checks the field lengths a store accepts.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when a field is empty or longer than [`MAX_IDENTITY_FIELD_LEN`].
    pub fn check(&self) -> Result<(), StoreError> {
        for (what, v) in [
            ("issuer", self.identity.issuer()),
            ("subject", self.identity.subject()),
            ("provider", self.provider.as_str()),
            ("account", self.account.as_str()),
        ] {
            if v.is_empty() || v.len() > MAX_IDENTITY_FIELD_LEN {
                return Err(StoreError::new(format!(
                    "identity {what} is empty or longer than {MAX_IDENTITY_FIELD_LEN} bytes"
                )));
            }
        }
        Ok(())
    }
}

/// What [`IdentityStore::link_if_absent`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkOutcome {
    /// The identity was not linked; now it is, to the account asked for.
    Linked,
    /// The identity was already linked (to this account or another); nothing changed. The
    /// existing link is returned.
    Existing(LinkedIdentity),
}

/// Where external identities are linked to local accounts, keyed by `(issuer, subject)`.
///
/// [`link_if_absent`](Self::link_if_absent) is one atomic step (a dashmap entry, one Redis
/// script): two concurrent first sign-ins of the same identity, even on two instances, link it
/// to one account, and the loser learns which. An identity is linked to at most one account;
/// an account may have many identities (several providers, or several accounts at one
/// provider).
///
/// `auth_core::oidc_login::MemoryIdentityStore` (feature `memory-store`) and `auth-redis`'s
/// `RedisIdentityStore` implement it.
#[async_trait]
pub trait IdentityStore: fmt::Debug + Send + Sync + 'static {
    /// Links `link.identity()` to `link.account()` unless the identity is already linked.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or a field is out of bounds
    /// ([`LinkedIdentity::check`]).
    async fn link_if_absent(&self, link: &LinkedIdentity) -> Result<LinkOutcome, StoreError>;

    /// The link of `identity`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn find(&self, identity: &ExternalIdentity)
    -> Result<Option<LinkedIdentity>, StoreError>;

    /// Every identity linked to `account`, oldest link first.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn list_for_account(&self, account: &str) -> Result<Vec<LinkedIdentity>, StoreError>;

    /// Removes the link of `identity` if it is linked to `account`; whether it was.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn unlink(&self, identity: &ExternalIdentity, account: &str) -> Result<bool, StoreError>;
}

/// Remembers which login transactions (by a digest of their `state`) already completed, until
/// they would have expired anyway, so a replayed callback is refused before the code is sent
/// to the provider, even by a client that kept the transaction cookie.
///
/// With several instances, use a shared store (`auth-redis`'s `RedisUsedStateStore`).
#[async_trait]
pub trait UsedStateStore: fmt::Debug + Send + Sync + 'static {
    /// Records `state_id` as used until `expires_at`; `true` if it was not used before (this
    /// caller may complete the login), `false` if it was. One atomic step.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails (the login is then refused: 503).
    async fn mark_used(
        &self,
        state_id: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
}
