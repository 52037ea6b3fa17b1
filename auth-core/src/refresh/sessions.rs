//! Ending the access tokens of revoked refresh families: each family is a session, named in
//! access tokens by `sid`, and revoked in the revocation store through a [`Revoker`].

use std::fmt;

use super::token::FamilyId;
use crate::error::AuthError;
use crate::revocation::Revoker;

/// Where [`RefreshTokens`](super::RefreshTokens) revokes the sessions of the families it
/// revokes: a revoker, and the issuer whose access tokens name the family in `sid`.
#[derive(Clone)]
pub(super) struct SessionRevocation {
    revoker: Revoker,
    issuer: Option<String>,
}

impl fmt::Debug for SessionRevocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRevocation")
            .field("revoker", &self.revoker)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl SessionRevocation {
    pub(super) fn new(revoker: Revoker, issuer: Option<&str>) -> Self {
        Self {
            revoker,
            issuer: issuer.map(str::to_owned),
        }
    }

    /// Revokes every access token of each of `families`, one store write each, stopping at
    /// the first failure (the caller reports it; a retry repeats the writes, which only ever
    /// extend entries).
    pub(super) async fn revoke(&self, families: &[FamilyId]) -> Result<(), AuthError> {
        for family in families {
            self.revoker
                .revoke_session(self.issuer.as_deref(), family.as_str())
                .await?;
        }
        Ok(())
    }
}
