//! The authentication context (`amr`, `acr`, `auth_time`) of each session, kept by refresh
//! family so that refreshes copy it instead of stamping a new `auth_time`.

use auth_core::AuthError;
use auth_core::clock::Clock as _;
use auth_core::mfa::AuthContext;
use auth_core::refresh::{FamilyId, IssuedRefreshToken};

use crate::tokens::{Tokens, backend};

impl Tokens {
    /// Keeps `context` for `refresh`'s session as long as `refresh` lives.
    pub(crate) async fn keep_context(
        &self,
        refresh: &IssuedRefreshToken,
        context: &AuthContext,
    ) -> Result<(), AuthError> {
        self.auth_contexts
            .save(
                refresh.family().as_str(),
                context,
                refresh.expires_at(),
                self.clock.now(),
            )
            .await
            .map_err(|e| backend("auth context store", &e))
    }

    /// The context of the session `refresh` (just rotated) continues, kept as long as it lives.
    ///
    /// `None` when the session has none (it expired or was lost): its tokens then carry no
    /// `amr`/`auth_time`, which no step-up requirement accepts. The refresh token is already
    /// rotated, so a failing store degrades the same way rather than failing the refresh (the
    /// client would lose the new refresh token, and its next refresh would look like reuse).
    pub(crate) async fn refreshed_context(
        &self,
        refresh: &IssuedRefreshToken,
    ) -> Option<AuthContext> {
        let loaded = self
            .auth_contexts
            .load(refresh.family().as_str(), self.clock.now())
            .await;
        let context = match loaded {
            Ok(Some(context)) => context,
            Ok(None) => {
                tracing::warn!(
                    target: "demo::tokens",
                    subject = refresh.subject(),
                    "no authentication context for the session; refreshed without amr/auth_time"
                );
                return None;
            }
            Err(e) => {
                tracing::error!(
                    target: "demo::tokens",
                    error = %e,
                    "auth context store failed; refreshed without amr/auth_time"
                );
                return None;
            }
        };
        // On failure (logged) it stays kept until the previous refresh token's expiry.
        let _ = self.keep_context(refresh, &context).await;
        Some(context)
    }

    /// Drops the authentication context of an ended session.
    pub(crate) async fn forget_context(&self, session: &FamilyId) -> Result<(), AuthError> {
        self.auth_contexts
            .remove(session.as_str())
            .await
            .map(drop)
            .map_err(|e| backend("auth context store", &e))
    }
}
