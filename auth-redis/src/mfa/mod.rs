//! The Redis implementations of `auth_core::mfa`'s store traits: TOTP credentials, recovery
//! codes, MFA login tokens and session authentication contexts.

mod contexts;
mod recovery;
mod tokens;
pub(crate) mod totp;

pub use contexts::RedisAuthContextStore;
pub use recovery::RedisRecoveryCodeStore;
pub use tokens::RedisMfaTokenStore;
pub use totp::RedisTotpStore;

use auth_core::store::StoreError;

use crate::backend::Error;

fn store_error(e: Error) -> StoreError {
    StoreError::with_source(e.operation(), e)
}

/// A step as 20 decimal digits: string order equals number order in the scripts.
fn step20(step: u64) -> String {
    format!("{step:020}")
}
