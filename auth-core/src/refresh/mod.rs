//! Opaque refresh tokens with rotation on every use and reuse detection.
//!
//! A refresh token is 256 random bits (base64url, not a JWT), handed to the client once; the
//! server stores only its SHA-256 digest. Each token belongs to a **family**: every token that
//! descends from one login, i.e. one session of one user. [`RefreshTokens`] issues the first
//! token of a family at login and exchanges a token for the next one on every refresh:
//!
//! | presented token | answer | effect |
//! |---|---|---|
//! | valid, unused | a new token | the presented one is used up, atomically |
//! | already used | 401 `REFRESH_TOKEN_REUSED` | the family (or every session of the user) is revoked, and with [`revoke_sessions_with`](RefreshTokensBuilder::revoke_sessions_with) its access tokens too; `tracing` warning |
//! | expired (30 days by default) | 401 `REFRESH_TOKEN_EXPIRED` | none |
//! | unknown, malformed, or of a revoked family | 401 `INVALID_REFRESH_TOKEN` | none |
//!
//! # Example
//!
//! ```
//! use auth_core::clock::{ManualClock, UnixTime};
//! use auth_core::refresh::{RefreshTokens, ReusePolicy};
//! use auth_core::ErrorCode;
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
//! let refresh = RefreshTokens::in_memory()
//!     .reuse_policy(ReusePolicy::RevokeAllSessions)
//!     .clock(clock.clone())
//!     .build()?;
//!
//! let session = refresh.issue("alice").await?;        // at login
//! let rotated = refresh.rotate(session.token().as_str()).await?; // on refresh
//! assert_eq!(rotated.subject(), "alice");
//!
//! clock.advance(Duration::from_secs(30 * 24 * 3600)); // 30 days later
//! let err = refresh.rotate(rotated.token().as_str()).await.unwrap_err();
//! assert_eq!(err.code(), ErrorCode::RefreshTokenExpired);
//! # Ok(()) }
//! ```
//!
//! # Security considerations
//!
//! - **Strict rotation.** Two requests presenting the same token (two tabs refreshing at once)
//!   are indistinguishable from a replay: exactly one wins and the other is treated as reuse,
//!   revoking the session. Clients should serialize refreshes.
//! - **Reuse is detected for the token's whole lifetime** and a retention period after it: used
//!   tokens are remembered (as digests) until then, then purged (the in-memory store keeps them
//!   7 days past expiry by default, so expired tokens answer `REFRESH_TOKEN_EXPIRED`).
//! - **Stores never see tokens**, only SHA-256 digests; a leaked store cannot be replayed.
//!   Lookups by digest need not be constant-time (see [`crate::constant_time`]).
//! - **Access tokens of a revoked session.** Revoking a family stops its refresh tokens; access
//!   tokens already issued for it live on until they expire, unless the manager is built with
//!   [`revoke_sessions_with`](RefreshTokensBuilder::revoke_sessions_with) (feature
//!   `revocation`) and access tokens name the family in `sid`: then every family revocation
//!   (reuse, logout, "log out everywhere") also revokes the session in the revocation store,
//!   and `BearerLayer` refuses its access tokens at once, on every instance sharing the store.
//! - **Several issuers.** Families are kept per subject, a string the application chooses.
//!   When tokens of more than one issuer are accepted, pass an issuer-qualified account key
//!   ([`Principal::account_key`](crate::Principal::account_key)), never the bare `sub`: two
//!   issuers may both have an `alice`.
//! - **Answer at a token endpoint.** These codes carry no `WWW-Authenticate` challenge; render
//!   them with the same JSON body as other rejections.

mod builder;
mod manager;
mod memory;
#[cfg(feature = "revocation")]
mod sessions;
mod store;
mod token;

pub use builder::RefreshTokensBuilder;
pub use manager::{DEFAULT_REFRESH_TOKEN_LIFETIME, IssuedRefreshToken, RefreshTokens, ReusePolicy};
pub use memory::{DEFAULT_EXPIRED_RETENTION, DEFAULT_PURGE_INTERVAL, MemoryRefreshStore};
pub use store::{NewFamily, NewToken, RefreshTokenStore, RevokedFamilies, RotateOutcome};
pub use token::{FamilyId, RefreshToken, TokenHash};
