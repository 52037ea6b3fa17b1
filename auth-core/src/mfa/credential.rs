//! [`TotpCredential`] (what is stored per account) and [`TotpStore`], shaped around the
//! atomic operations enrolment and verification need.

use std::fmt;

use async_trait::async_trait;

use super::seal::SealedSecret;
use super::secret::CredentialId;
use super::totp::TotpParams;
use crate::clock::UnixTime;
use crate::store::StoreError;

/// Where a credential is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialState {
    /// Enrolled but not confirmed yet: it cannot be used to log in, and it is forgotten at
    /// `expires_at` (or when the account enrols again).
    Pending {
        /// When the enrolment lapses.
        expires_at: UnixTime,
    },
    /// Confirmed: the account's second factor.
    Active {
        /// The last time step a code was accepted for (the confirmation's, at first). Only a
        /// later step is accepted next.
        last_step: u64,
    },
}

/// One account's TOTP credential as a store keeps it: id, sealed secret, parameters, state.
/// Never the secret itself.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCredential {
    id: CredentialId,
    sealed: SealedSecret,
    params: TotpParams,
    state: CredentialState,
    created_at: UnixTime,
}

impl TotpCredential {
    /// A credential from its parts (for stores reading one back, and for enrolment).
    #[must_use]
    pub fn new(
        id: CredentialId,
        sealed: SealedSecret,
        params: TotpParams,
        state: CredentialState,
        created_at: UnixTime,
    ) -> Self {
        Self {
            id,
            sealed,
            params,
            state,
            created_at,
        }
    }

    /// The credential id (the sealed secret is bound to it).
    #[must_use]
    pub fn id(&self) -> &CredentialId {
        &self.id
    }

    /// The sealed secret.
    #[must_use]
    pub fn sealed_secret(&self) -> &SealedSecret {
        &self.sealed
    }

    /// Algorithm, digits and period it was enrolled with.
    #[must_use]
    pub fn params(&self) -> &TotpParams {
        &self.params
    }

    /// Pending or active.
    #[must_use]
    pub fn state(&self) -> CredentialState {
        self.state
    }

    /// Whether it is active.
    #[must_use]
    pub fn is_active(&self) -> bool {
        matches!(self.state, CredentialState::Active { .. })
    }

    /// When it was enrolled.
    #[must_use]
    pub fn created_at(&self) -> UnixTime {
        self.created_at
    }

    /// The same credential in state `state` (for store implementations).
    #[must_use]
    pub fn with_state(mut self, state: CredentialState) -> Self {
        self.state = state;
        self
    }
}

impl fmt::Debug for TotpCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpCredential")
            .field("id", &self.id)
            .field("sealed", &self.sealed)
            .field("params", &self.params)
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// Storage for TOTP credentials, at most one per account (pending or active).
///
/// Every method that checks and changes state is **one atomic operation** on the backend (an
/// entry lock in memory, one script in Redis), never a read the caller follows with a write:
///
/// - [`consume_step`](Self::consume_step) is the replay guard: a compare-and-set that accepts
///   only a step later than the last accepted one. Of any number of concurrent submissions of
///   one code, through any number of instances, exactly one succeeds.
/// - [`activate`](Self::activate) turns exactly the pending credential that was checked into
///   the active one (not a newer enrolment that replaced it meanwhile), recording the
///   confirmation code's step as consumed.
/// - [`put_pending`](Self::put_pending) never replaces an active credential.
///
/// Accounts are the application's stable user ids (the token's `sub`).
#[async_trait]
pub trait TotpStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `credential` (pending) for `account`, replacing a pending one; refuses (returns
    /// `false`, changing nothing) when the account has an active credential.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn put_pending(
        &self,
        account: &str,
        credential: &TotpCredential,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// The account's credential; `None` when it has none or only a pending one that expired
    /// at `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn get(&self, account: &str, now: UnixTime)
    -> Result<Option<TotpCredential>, StoreError>;

    /// Atomically: if the account's credential is the pending one with id `id` and has not
    /// expired at `now`, make it active with `step` as its last accepted step, and return
    /// `true`; otherwise change nothing and return `false`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn activate(
        &self,
        account: &str,
        id: &CredentialId,
        step: u64,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Atomically: if the account's credential is the active one with id `id` and its last
    /// accepted step is earlier than `step`, record `step` and return `true`; otherwise change
    /// nothing and return `false` (a replay, or a code older than one already used).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn consume_step(
        &self,
        account: &str,
        id: &CredentialId,
        step: u64,
    ) -> Result<bool, StoreError>;

    /// Removes the account's credential (pending or active); returns whether an active one
    /// was removed.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn remove(&self, account: &str) -> Result<bool, StoreError>;
}
