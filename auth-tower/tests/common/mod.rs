//! Helpers shared by several integration tests of this crate.

/// A revocation store that must be awaited, as a network store must: every call goes to a
/// [`MemoryRevocationStore`] after one yield, and it never answers synchronously, so
/// `BearerLayer` takes its pending path.
#[cfg(feature = "revocation")]
#[derive(Debug, Default)]
pub(crate) struct AwaitedRevocations(pub(crate) auth_core::revocation::MemoryRevocationStore);

#[cfg(feature = "revocation")]
mod awaited {
    use auth_core::clock::UnixTime;
    use auth_core::revocation::{RevocationStore, TokenRef};
    use auth_core::store::StoreError;

    use super::AwaitedRevocations;

    #[async_trait::async_trait]
    impl RevocationStore for AwaitedRevocations {
        async fn revoke_token(
            &self,
            issuer: Option<&str>,
            jti: &str,
            until: UnixTime,
        ) -> Result<bool, StoreError> {
            tokio::task::yield_now().await;
            self.0.revoke_token(issuer, jti, until).await
        }

        async fn revoke_subject(
            &self,
            issuer: Option<&str>,
            subject: &str,
            issued_before: UnixTime,
            until: UnixTime,
        ) -> Result<(), StoreError> {
            tokio::task::yield_now().await;
            self.0
                .revoke_subject(issuer, subject, issued_before, until)
                .await
        }

        async fn revoke_session(
            &self,
            issuer: Option<&str>,
            session: &str,
            until: UnixTime,
        ) -> Result<bool, StoreError> {
            tokio::task::yield_now().await;
            self.0.revoke_session(issuer, session, until).await
        }

        async fn is_revoked(&self, token: TokenRef<'_>, now: UnixTime) -> Result<bool, StoreError> {
            tokio::task::yield_now().await;
            self.0.is_revoked(token, now).await
        }
    }
}
