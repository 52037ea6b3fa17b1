//! The account rules on top of an [`IdentityStore`]: find-or-create on sign-in, link on
//! request, never by email unless the application opted in.

use std::fmt;

use super::completed::CompletedLogin;
use super::identity::{IdentityStore, LinkOutcome, LinkedIdentity};
use crate::ErrorCode;
use crate::store::StoreError;

/// Which local account a sign-in belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignIn {
    /// The identity was already linked: sign in to this account.
    Existing(LinkedIdentity),
    /// First sign-in with this identity: it is now linked to the new account id the
    /// application proposed, which the application must now create.
    Created(LinkedIdentity),
}

impl SignIn {
    /// The link, whichever case.
    #[must_use]
    pub fn link(&self) -> &LinkedIdentity {
        match self {
            Self::Existing(l) | Self::Created(l) => l,
        }
    }

    /// The local account to sign in to.
    #[must_use]
    pub fn account(&self) -> &str {
        self.link().account()
    }
}

/// Finds the account linked to the login's `(iss, sub)`, or links the identity to
/// `new_account` (an id the application generated for the account it will create). Atomic:
/// two concurrent first sign-ins of one identity get the same account, and only one of them
/// [`SignIn::Created`].
///
/// The login's email is never used to find an account; see
/// [`CompletedLogin::email_for_linking`] for the opt-in.
///
/// # Errors
///
/// [`StoreError`] when the store fails.
pub async fn sign_in(
    store: &dyn IdentityStore,
    login: &CompletedLogin,
    new_account: &str,
) -> Result<SignIn, StoreError> {
    if let Some(existing) = store.find(login.identity()).await? {
        return Ok(SignIn::Existing(existing));
    }
    let link = LinkedIdentity::new(
        login.identity().clone(),
        login.provider(),
        new_account,
        login.completed_at(),
    );
    match store.link_if_absent(&link).await? {
        LinkOutcome::Linked => Ok(SignIn::Created(link)),
        LinkOutcome::Existing(existing) => Ok(SignIn::Existing(existing)),
    }
}

/// Why [`link_identity`] did not link.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum LinkError {
    /// The identity is linked to another account (`IDENTITY_ALREADY_LINKED`, 409).
    AlreadyLinked(LinkedIdentity),
    /// The store failed (503).
    Store(StoreError),
}

impl LinkError {
    /// The client-facing code.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::AlreadyLinked(_) => ErrorCode::IdentityAlreadyLinked,
            Self::Store(_) => ErrorCode::AuthBackendUnavailable,
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyLinked(l) => {
                write!(f, "identity {} is linked to another account", l.identity())
            }
            Self::Store(e) => write!(f, "identity store: {e}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// Links the login's identity to `account` (the signed-in user that started the link). Linking
/// an identity already linked to `account` again succeeds (idempotent); one linked to another
/// account is refused.
///
/// # Errors
///
/// [`LinkError::AlreadyLinked`] or [`LinkError::Store`].
pub async fn link_identity(
    store: &dyn IdentityStore,
    login: &CompletedLogin,
    account: &str,
) -> Result<LinkedIdentity, LinkError> {
    let link = LinkedIdentity::new(
        login.identity().clone(),
        login.provider(),
        account,
        login.completed_at(),
    );
    match store
        .link_if_absent(&link)
        .await
        .map_err(LinkError::Store)?
    {
        LinkOutcome::Linked => Ok(link),
        LinkOutcome::Existing(existing) if existing.account() == account => Ok(existing),
        LinkOutcome::Existing(existing) => Err(LinkError::AlreadyLinked(existing)),
    }
}
