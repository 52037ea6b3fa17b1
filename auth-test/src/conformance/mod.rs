//! One conformance suite for every store backend (feature `conformance`): the behaviour of
//! `auth-core`'s store traits, written once against the traits and run against the in-memory
//! stores (the reference), the Redis stores (`auth-redis`) and the PostgreSQL stores
//! (`auth-postgres`).
//!
//! A backend's test file provides a `make` function per family of stores and invokes the
//! macros, which generate one `#[tokio::test]` per case (the calling crate needs `tokio` with
//! the `macros` and `rt-multi-thread` features as a dev-dependency):
//!
//! - [`store_conformance!`](crate::store_conformance)`(make; groups…)` with
//!   `async fn make(clock: ManualClock) -> Option<Stores>`; groups `attempts`, `revocation`,
//!   `refresh`, `api_keys` (a backend without an attempt store leaves `attempts` out);
//! - [`mfa_conformance!`](crate::mfa_conformance)`(make_mfa)` with
//!   `async fn make_mfa(clock: ManualClock) -> Option<MfaStores>`;
//! - [`identity_conformance!`](crate::identity_conformance)`(make_identities)` with
//!   `async fn make_identities() -> Option<IdentityStores>`.
//!
//! `make` returns `None` to skip (a backend whose service is not configured); backends that
//! need a service must refuse to skip under `CI=true` themselves (panic in `make`). Every time
//! is explicit or read from the shared [`ManualClock`]: nothing sleeps.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use auth_core::api_key::MemoryApiKeyStore;
//! use auth_core::clock::ManualClock;
//! use auth_core::refresh::MemoryRefreshStore;
//! use auth_core::revocation::MemoryRevocationStore;
//! use auth_test::conformance::Stores;
//!
//! async fn make(clock: ManualClock) -> Option<Stores> {
//!     Some(Stores {
//!         attempts: None,
//!         revocations: Arc::new(MemoryRevocationStore::new().with_clock(clock.clone())),
//!         refresh: Arc::new(MemoryRefreshStore::new()),
//!         api_keys: Arc::new(MemoryApiKeyStore::new()),
//!         clock,
//!         cleanup: None,
//!     })
//! }
//!
//! // In a test file: one #[tokio::test] per case of these groups.
//! auth_test::store_conformance!(make; revocation, refresh, api_keys);
//! # fn main() {}
//! ```

// The cases are tests: a broken expectation panics, as `assert!` does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use auth_core::api_key::ApiKeyStore;
use auth_core::brute_force::{AttemptStore, BruteForceLimiter};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::mfa::{AuthContextStore, MfaTokenStore, RecoveryCodeStore, TotpStore};
use auth_core::oidc_login::{IdentityStore, UsedStateStore};
use auth_core::refresh::RefreshTokenStore;
use auth_core::revocation::RevocationStore;

#[doc(hidden)]
pub mod api_keys;
#[doc(hidden)]
pub mod attempts;
#[doc(hidden)]
pub mod identities;
#[doc(hidden)]
pub mod mfa;
#[doc(hidden)]
pub mod refresh;
#[doc(hidden)]
pub mod revocation;

/// A boxed cleanup future (e.g. deleting a case's keys or schema), run after a case passed.
pub type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What makes a [`Cleanup`].
pub type CleanupFn = Box<dyn FnOnce() -> Cleanup + Send>;

/// The start of the timeline of the `attempts`, `revocation`, `refresh` and `api_keys` cases.
pub const T0: u64 = 1_700_000_000;

/// `secs` after [`T0`].
#[must_use]
pub fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(T0 + secs)
}

/// The stores of one backend for [`store_conformance!`](crate::store_conformance), sharing one
/// manual clock.
pub struct Stores {
    /// The brute-force attempt store, if the backend has one (the `attempts` group needs it).
    pub attempts: Option<Arc<dyn AttemptStore>>,
    /// Revoked access tokens.
    pub revocations: Arc<dyn RevocationStore>,
    /// Refresh-token families.
    pub refresh: Arc<dyn RefreshTokenStore>,
    /// API-key records.
    pub api_keys: Arc<dyn ApiKeyStore>,
    /// The clock the stores that read one were built with.
    pub clock: ManualClock,
    /// Runs after a case that passed.
    pub cleanup: Option<CleanupFn>,
}

impl Stores {
    /// The attempt store.
    ///
    /// # Panics
    ///
    /// When the backend has none: leave the `attempts` group out for it.
    #[must_use]
    pub fn attempts(&self) -> &Arc<dyn AttemptStore> {
        self.attempts
            .as_ref()
            .expect("the attempts group runs against a backend without an attempt store")
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("attempts", &self.attempts)
            .field("revocations", &self.revocations)
            .field("refresh", &self.refresh)
            .field("api_keys", &self.api_keys)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// The MFA stores of one backend for [`mfa_conformance!`](crate::mfa_conformance), sharing one
/// manual clock, and a limiter (built with `auth_core::mfa::default_mfa_policy()` and the
/// clock) on an attempt store of the backend's deployment (memory or Redis for a backend
/// without attempt store).
pub struct MfaStores {
    /// TOTP credentials.
    pub totp: Arc<dyn TotpStore>,
    /// Recovery-code digests.
    pub recovery: Arc<dyn RecoveryCodeStore>,
    /// Pending logins by MFA token digest.
    pub tokens: Arc<dyn MfaTokenStore>,
    /// Authentication contexts by session.
    pub contexts: Arc<dyn AuthContextStore>,
    /// The limiter of the code checks.
    pub limiter: BruteForceLimiter,
    /// The clock the stores and the limiter were built with.
    pub clock: ManualClock,
    /// Runs after a case that passed.
    pub cleanup: Option<CleanupFn>,
}

impl std::fmt::Debug for MfaStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaStores")
            .field("totp", &self.totp)
            .field("recovery", &self.recovery)
            .field("tokens", &self.tokens)
            .field("contexts", &self.contexts)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// The OpenID login stores of one backend for
/// [`identity_conformance!`](crate::identity_conformance).
pub struct IdentityStores {
    /// Provider identities linked to local accounts.
    pub identities: Arc<dyn IdentityStore>,
    /// Used login transactions.
    pub used: Arc<dyn UsedStateStore>,
    /// Runs after a case that passed.
    pub cleanup: Option<CleanupFn>,
}

impl std::fmt::Debug for IdentityStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStores")
            .field("identities", &self.identities)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// One `#[tokio::test]` per case of the named groups (`attempts`, `revocation`, `refresh`,
/// `api_keys`) against the [`Stores`](crate::conformance::Stores) that `$make(clock)` returns.
/// See [`conformance`](crate::conformance).
#[macro_export]
macro_rules! store_conformance {
    ($make:path; $($group:ident),+ $(,)?) => {
        $( $crate::store_conformance!(@group $make; $group); )+
    };
    (@group $make:path; attempts) => {
        $crate::store_conformance!(@cases $make; attempts;
            attempts_five_pass_and_the_sixth_waits_for_the_oldest,
            attempts_refused_ones_do_not_fill_the_window,
            attempts_sub_second_times_round_the_strict_way,
            attempts_client_ladder_goes_15_minutes_1_hour_24_hours,
            attempts_locked_account_refuses_suspect_clients_and_answers_clean_ones,
            attempts_every_client_scope_refuses_clean_clients_too,
            attempts_failures_decay_after_a_quiet_period,
            attempts_clear_unlocks_an_account_and_a_client,
            attempts_concurrent_admissions_take_exactly_the_limit,
            attempts_concurrent_guesses_at_a_locked_account_get_one_answer,
        );
    };
    (@group $make:path; revocation) => {
        $crate::store_conformance!(@cases $make; revocation;
            revocation_a_jti_is_revoked_until_its_entry_ends,
            revocation_entries_only_ever_extend,
            revocation_subject_cutoff_covers_tokens_issued_at_or_before_it,
            revocation_a_session_is_revoked_until_its_entry_ends,
            revocation_any_listed_jti_session_or_subject_revokes_a_token,
            revocation_entries_are_separate_per_issuer,
            revocation_subject_cutoffs_are_kept_per_issuer,
        );
    };
    (@group $make:path; refresh) => {
        $crate::store_conformance!(@cases $make; refresh;
            refresh_rotation_uses_up_the_token_and_reuse_revokes_the_family,
            refresh_expired_tokens_answer_expired,
            refresh_unknown_tokens_answer_unknown,
            refresh_revoking_a_family_stops_its_rotation,
            refresh_revoke_family_of_finds_the_family,
            refresh_revoke_subject_counts_newly_revoked_families,
            refresh_duplicate_family_or_digest_is_an_error,
            refresh_concurrent_rotations_have_exactly_one_winner,
            refresh_a_hundred_concurrent_rotations_of_one_token_have_one_winner,
        );
    };
    (@group $make:path; api_keys) => {
        $crate::store_conformance!(@cases $make; api_keys;
            api_keys_are_found_by_digest_only,
            api_keys_duplicate_id_or_digest_is_refused,
            api_keys_are_listed_by_owner_oldest_first,
            api_keys_revoke_checks_the_owner_and_keeps_the_first_time,
            api_keys_rotation_moves_the_old_expiry_and_stores_the_replacement,
            api_keys_rotation_never_extends_an_expiring_key,
            api_keys_rotation_with_a_taken_id_or_digest_changes_nothing,
            api_keys_expired_and_revoked_keys_cannot_be_rotated,
            api_keys_concurrent_rotations_yield_one_replacement,
            api_keys_concurrent_rotation_and_revocation_leave_a_consistent_record,
            api_keys_last_use_only_moves_forward,
            api_keys_imported_records_keep_their_origin,
            api_keys_rotating_an_imported_key_stores_a_native_replacement,
            api_keys_imported_keys_verify_through_the_store,
        );
    };
    (@cases $make:path; $module:ident; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let clock = $crate::clock::ManualClock::new($crate::conformance::at(0));
                let Some(mut stores) = $make(clock).await else { return };
                $crate::conformance::$module::$case(&stores).await;
                if let Some(cleanup) = stores.cleanup.take() {
                    cleanup().await;
                }
            }
        )*
    };
}

/// One `#[tokio::test]` per MFA case against the [`MfaStores`](crate::conformance::MfaStores)
/// that `$make(clock)` returns. See [`conformance`](crate::conformance).
#[macro_export]
macro_rules! mfa_conformance {
    ($make:path) => {
        $crate::mfa_conformance!(@cases $make;
            mfa_totp_pending_never_replaces_an_active_credential,
            mfa_totp_a_pending_credential_lapses,
            mfa_totp_only_the_checked_pending_credential_is_activated,
            mfa_totp_consume_accepts_only_a_later_step_of_the_same_credential,
            mfa_totp_concurrent_consumes_of_one_step_have_one_winner,
            mfa_totp_remove_reports_an_active_credential,
            mfa_totp_every_field_round_trips,
            mfa_recovery_a_code_is_redeemed_once,
            mfa_recovery_replace_swaps_the_whole_set,
            mfa_recovery_concurrent_redemptions_of_one_code_have_one_winner,
            mfa_tokens_get_leaves_and_take_uses_up,
            mfa_tokens_expire_and_duplicates_are_refused,
            mfa_tokens_concurrent_takes_have_one_winner,
            mfa_contexts_are_kept_until_the_session_ends,
            mfa_sixty_four_concurrent_submissions_of_one_code_have_one_success,
            mfa_a_full_flow_over_the_backend,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let clock = $crate::clock::ManualClock::new($crate::conformance::mfa::at(0));
                let Some(mut stores) = $make(clock).await else { return };
                $crate::conformance::mfa::$case(&stores).await;
                if let Some(cleanup) = stores.cleanup.take() {
                    cleanup().await;
                }
            }
        )*
    };
}

/// One `#[tokio::test]` per OpenID-login store case against the
/// [`IdentityStores`](crate::conformance::IdentityStores) that `$make()` returns. See
/// [`conformance`](crate::conformance).
#[macro_export]
macro_rules! identity_conformance {
    ($make:path) => {
        $crate::identity_conformance!(@cases $make;
            identities_an_identity_links_once_and_the_existing_link_is_reported,
            identities_concurrent_first_links_of_one_identity_have_one_winner,
            identities_are_listed_per_account_oldest_first,
            identities_unlink_removes_only_the_accounts_own_link,
            identities_every_field_round_trips_exactly,
            identities_empty_or_oversized_fields_are_refused,
            used_states_a_state_is_used_once,
            used_states_concurrent_uses_of_one_state_have_one_winner,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(mut stores) = $make().await else { return };
                $crate::conformance::identities::$case(&stores).await;
                if let Some(cleanup) = stores.cleanup.take() {
                    cleanup().await;
                }
            }
        )*
    };
}
