//! [`RecoveryCodeStore`]: an account's recovery-code digests, redeemed atomically.

use std::fmt;

use async_trait::async_trait;

use super::recovery::RecoveryCodeDigest;
use crate::store::StoreError;

/// Storage for recovery-code digests ([`RecoveryCodeDigest`]), one set per account. Codes
/// themselves never reach it.
///
/// [`redeem`](Self::redeem) removes a digest and reports whether it was there in **one atomic
/// step**, so a code is used at most once even when submitted concurrently to several
/// instances; [`replace`](Self::replace) swaps the whole set in one step, so no code of the old
/// set survives a regeneration.
#[async_trait]
pub trait RecoveryCodeStore: fmt::Debug + Send + Sync + 'static {
    /// Replaces the account's set with `digests` (an empty slice removes it).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn replace(
        &self,
        account: &str,
        digests: &[RecoveryCodeDigest],
    ) -> Result<(), StoreError>;

    /// Removes `digest` from the account's set; `true` when it was there.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn redeem(&self, account: &str, digest: &RecoveryCodeDigest) -> Result<bool, StoreError>;

    /// How many unused codes the account has.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn remaining(&self, account: &str) -> Result<usize, StoreError>;
}
