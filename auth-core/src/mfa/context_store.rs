//! [`AuthContextStore`]: the [`AuthContext`] of each session, kept so that refreshes copy it.

use std::fmt;

use async_trait::async_trait;

use super::context::AuthContext;
use crate::clock::UnixTime;
use crate::store::StoreError;

/// The authentication context (`amr`, `acr`, `auth_time`) of each login session, by session
/// id (e.g. the refresh-token family id, `auth_core::refresh::FamilyId::as_str`).
///
/// A login [`save`](Self::save)s the context it stamped into the first access token; every
/// refresh [`load`](Self::load)s it and stamps the same values into the new token (and may
/// save it again to extend its lifetime with the session's), so a refreshed token never
/// claims a more recent authentication than the user performed.
#[async_trait]
pub trait AuthContextStore: fmt::Debug + Send + Sync + 'static {
    /// Keeps `context` for `session` until `expires_at` (replacing what was kept).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn save(
        &self,
        session: &str,
        context: &AuthContext,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    /// The context kept for `session`; `None` when none is, or it expired at `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn load(&self, session: &str, now: UnixTime) -> Result<Option<AuthContext>, StoreError>;

    /// Forgets `session`'s context (a logout); `true` when one was kept.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn remove(&self, session: &str) -> Result<bool, StoreError>;
}
