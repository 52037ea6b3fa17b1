//! The in-memory stores (dashmap), for single-process deployments, tests and demos. Each
//! check-and-change runs under the account's (or token's) entry lock, so it is atomic among
//! the tasks of one process; use the Redis stores (`auth-redis`) when several instances
//! serve the same users.

mod contexts;
mod recovery;
mod tokens;
mod totp;

pub use contexts::MemoryAuthContextStore;
pub use recovery::MemoryRecoveryCodeStore;
pub use tokens::MemoryMfaTokenStore;
pub use totp::MemoryTotpStore;
