//! The store conformance cases (`auth_test::conformance`) run one after the other against
//! stores on one shared server or cluster, which the test starts once (the
//! `store_conformance!` macro makes one test per case, each with its own server, which is too
//! slow for a six-node cluster or a TLS server per case).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

#[cfg(feature = "tls")]
pub(crate) mod pki;

use auth_core::clock::ManualClock;
use auth_test::conformance::{IdentityStores, Stores, at};

/// Runs each named case against fresh stores from `$make(clock)` (own prefix, own clock).
macro_rules! run_cases {
    ($make:ident; $($module:ident :: $case:ident),+ $(,)?) => {
        $(
            let s = $make(ManualClock::new(at(0)));
            auth_test::conformance::$module::$case(&s).await;
            eprintln!("conformance: {} passed", stringify!($case));
        )+
    };
}

/// Every case of the `attempts`, `revocation`, `refresh` and `api_keys` groups.
pub(crate) async fn run_store_cases(make: impl Fn(ManualClock) -> Stores) {
    run_cases!(make;
        attempts::attempts_five_pass_and_the_sixth_waits_for_the_oldest,
        attempts::attempts_refused_ones_do_not_fill_the_window,
        attempts::attempts_sub_second_times_round_the_strict_way,
        attempts::attempts_client_ladder_goes_15_minutes_1_hour_24_hours,
        attempts::attempts_locked_account_refuses_suspect_clients_and_answers_clean_ones,
        attempts::attempts_every_client_scope_refuses_clean_clients_too,
        attempts::attempts_failures_decay_after_a_quiet_period,
        attempts::attempts_clear_unlocks_an_account_and_a_client,
        attempts::attempts_concurrent_admissions_take_exactly_the_limit,
        attempts::attempts_concurrent_guesses_at_a_locked_account_get_one_answer,
        revocation::revocation_a_jti_is_revoked_until_its_entry_ends,
        revocation::revocation_entries_only_ever_extend,
        revocation::revocation_subject_cutoff_covers_tokens_issued_at_or_before_it,
        revocation::revocation_a_session_is_revoked_until_its_entry_ends,
        revocation::revocation_any_listed_jti_session_or_subject_revokes_a_token,
        revocation::revocation_entries_are_separate_per_issuer,
        revocation::revocation_subject_cutoffs_are_kept_per_issuer,
        refresh::refresh_rotation_uses_up_the_token_and_reuse_revokes_the_family,
        refresh::refresh_expired_tokens_answer_expired,
        refresh::refresh_unknown_tokens_answer_unknown,
        refresh::refresh_revoking_a_family_stops_its_rotation,
        refresh::refresh_revoke_family_of_finds_the_family,
        refresh::refresh_revoke_subject_counts_newly_revoked_families,
        refresh::refresh_duplicate_family_or_digest_is_an_error,
        refresh::refresh_concurrent_rotations_have_exactly_one_winner,
        refresh::refresh_a_hundred_concurrent_rotations_of_one_token_have_one_winner,
        api_keys::api_keys_are_found_by_digest_only,
        api_keys::api_keys_duplicate_id_or_digest_is_refused,
        api_keys::api_keys_are_listed_by_owner_oldest_first,
        api_keys::api_keys_revoke_checks_the_owner_and_keeps_the_first_time,
        api_keys::api_keys_rotation_moves_the_old_expiry_and_stores_the_replacement,
        api_keys::api_keys_rotation_never_extends_an_expiring_key,
        api_keys::api_keys_rotation_with_a_taken_id_or_digest_changes_nothing,
        api_keys::api_keys_expired_and_revoked_keys_cannot_be_rotated,
        api_keys::api_keys_concurrent_rotations_yield_one_replacement,
        api_keys::api_keys_concurrent_rotation_and_revocation_leave_a_consistent_record,
        api_keys::api_keys_last_use_only_moves_forward,
        api_keys::api_keys_imported_records_keep_their_origin,
        api_keys::api_keys_rotating_an_imported_key_stores_a_native_replacement,
        api_keys::api_keys_imported_keys_verify_through_the_store,
    );
}

/// Every case of the `identities` group.
pub(crate) async fn run_identity_cases(make: impl Fn() -> IdentityStores) {
    macro_rules! cases {
        ($($case:ident),+ $(,)?) => {
            $(
                auth_test::conformance::identities::$case(&make()).await;
                eprintln!("conformance: {} passed", stringify!($case));
            )+
        };
    }
    cases!(
        identities_an_identity_links_once_and_the_existing_link_is_reported,
        identities_concurrent_first_links_of_one_identity_have_one_winner,
        identities_are_listed_per_account_oldest_first,
        identities_unlink_removes_only_the_accounts_own_link,
        identities_every_field_round_trips_exactly,
        identities_empty_or_oversized_fields_are_refused,
        used_states_a_state_is_used_once,
        used_states_concurrent_uses_of_one_state_have_one_winner,
    );
}
