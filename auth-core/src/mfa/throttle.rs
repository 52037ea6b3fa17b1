//! Throttling second-factor attempts per account through the brute-force limiter.

use std::num::NonZeroU32;

use crate::AuthError;
use crate::ConfigError;
use crate::brute_force::{AttemptOutcome, BruteForceLimiter, BruteForcePolicy, ClientKey, Verdict};

/// The default policy of second-factor attempts: 5 wrong codes lock an account's second factor
/// for 15 minutes, then 1 hour, then 24 hours (the default ladder), for **every** client.
///
/// Unlike a password lockout, this one cannot be used to lock a user out by anyone who knows
/// their email: only someone who has just given the right password gets to submit codes. So
/// the lockout applies to every client ([`LockoutScope::EveryClient`](crate::brute_force::LockoutScope)),
/// which closes the "one answered guess per fresh address" gap of the password policy.
///
/// # Errors
///
/// None in practice: the settings are constants within range.
pub fn default_mfa_policy() -> Result<BruteForcePolicy, ConfigError> {
    BruteForcePolicy::builder()
        .account_failures_before_lockout(NonZeroU32::MIN.saturating_add(4))
        .dangerous_lock_out_every_client()
        .build()
}

/// Counts second-factor attempts of each account.
///
/// Pessimistic: an attempt is counted as a failure **before** its code is checked (the
/// refusal of a locked account costs no HMAC and no store read), and a verified code clears
/// the account. So concurrent guesses cannot overtake the count: of any burst, at most the
/// policy's limit is ever checked before the lockout answers the rest.
#[derive(Clone, Debug)]
pub(crate) struct Throttle {
    limiter: BruteForceLimiter,
}

impl Throttle {
    pub(crate) fn new(limiter: BruteForceLimiter) -> Self {
        Self { limiter }
    }

    pub(crate) fn limiter(&self) -> &BruteForceLimiter {
        &self.limiter
    }

    /// Counts an attempt for `account`; `TooManyAttempts` while its second factor is locked.
    pub(crate) async fn begin(&self, account: &str) -> Result<(), AuthError> {
        let (client, name) = keys(account);
        let verdict = self
            .limiter
            .record_outcome(&client, Some(&name), AttemptOutcome::Failure)
            .await
            .map_err(backend)?;
        match verdict {
            Verdict::Blocked(b) => {
                tracing::debug!(
                    target: "auth::mfa",
                    account,
                    outcome = "blocked",
                    retry_after_secs = b.retry_after().as_secs(),
                    "second factor locked; code not checked"
                );
                Err(AuthError::TooManyAttempts {
                    retry_after: b.retry_after(),
                })
            }
            Verdict::Recorded(_) => Ok(()),
        }
    }

    /// A verified code: forget the account's failures.
    pub(crate) async fn succeeded(&self, account: &str) -> Result<(), AuthError> {
        let (client, name) = keys(account);
        self.limiter.unlock_account(&name).await.map_err(backend)?;
        self.limiter.unlock_client(&client).await.map_err(backend)
    }
}

/// The limiter keys of `account`: a client and an account name of their own (`mfa:` prefix),
/// so second-factor counts never mix with password-login counts in a shared store.
fn keys(account: &str) -> (ClientKey, String) {
    let name = format!("mfa:{account}");
    (ClientKey::named(name.as_str()), name)
}

fn backend(e: crate::brute_force::AttemptStoreError) -> AuthError {
    tracing::error!(target: "auth::mfa", error = %e, "mfa attempt store failed");
    AuthError::BackendUnavailable(e.to_string())
}
