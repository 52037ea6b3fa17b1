//! The stores of `auth_core::mfa` on PostgreSQL: TOTP credentials (sealed secrets and the
//! replay guard), recovery-code digests, pending MFA logins and session authentication
//! contexts.

mod contexts;
mod recovery;
mod tokens;
mod totp;

pub use contexts::PgAuthContextStore;
pub use recovery::PgRecoveryCodeStore;
pub use tokens::PgMfaTokenStore;
pub use totp::PgTotpStore;
