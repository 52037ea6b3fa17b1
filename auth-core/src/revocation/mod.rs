//! Revocation of access tokens before they expire.
//!
//! Access tokens are self-contained: once signed, a JWT verifies until its `exp`. Revocation
//! adds a server-side list the verifying layer consults (`BearerLayer` with a revocation store
//! configured answers 401 `TOKEN_REVOKED`):
//!
//! - **one token** by its `jti` (a logout), listed until the token's `exp` plus leeway;
//! - **every token of a session** by its `sid` (a logout, or refresh-token reuse: see
//!   [`RefreshTokens`](crate::refresh::RefreshTokens)' `revoke_sessions_with`), listed until
//!   every token the session may have had has expired;
//! - **every token of a subject issued at or before an instant** ("log out everywhere", a
//!   password change, a compromised account), listed until every such token has expired.
//!
//! Every entry is **qualified by the issuer** (`iss`; tokens without one form a namespace of
//! their own): with several trusted issuers, one issuer's `alice` (or `jti`, or `sid`) is not
//! another's, and revoking one never touches the other.
//!
//! Entries expire by themselves, so the list never holds more than the revocations of one
//! access-token lifetime, and a check costs O(1) whatever its size
//! ([`MemoryRevocationStore`]: the issuer's namespace, then at most three hash lookups).
//!
//! # Example
//!
//! ```
//! use auth_core::clock::{Clock, ManualClock, UnixTime};
//! use auth_core::revocation::{MemoryRevocationStore, RevocationStore, Revoker, TokenRef};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = ManualClock::new(UnixTime::from_secs(1_000));
//! let store = Arc::new(MemoryRevocationStore::new().with_clock(clock.clone()));
//! let revoker = Revoker::builder(store.clone())
//!     .max_token_lifetime(Duration::from_secs(15 * 60))
//!     .clock(clock.clone())
//!     .build()?;
//! let local = Some("https://auth.example");
//!
//! // Log alice out everywhere: every token of hers issued up to now is revoked.
//! revoker.revoke_subject(local, "alice").await?;
//! let old = TokenRef::new(Some("j1"), "alice", Some(UnixTime::from_secs(990))).with_issuer(local);
//! assert!(store.is_revoked(old, clock.now()).await?);
//!
//! // Another issuer's "alice" is someone else.
//! let foreign = old.with_issuer(Some("https://idp.example"));
//! assert!(!store.is_revoked(foreign, clock.now()).await?);
//!
//! // A token from her next login is not revoked...
//! clock.advance(Duration::from_secs(1));
//! let fresh = TokenRef::new(Some("j2"), "alice", Some(clock.now()))
//!     .with_issuer(local)
//!     .with_session(Some("family-2"));
//! assert!(!store.is_revoked(fresh, clock.now()).await?);
//! // ...until that session ends.
//! revoker.revoke_session(local, "family-2").await?;
//! assert!(store.is_revoked(fresh, clock.now()).await?);
//! # Ok(()) }
//! ```
//!
//! # Security considerations
//!
//! - A store that cannot answer fails closed: `BearerLayer` answers 503
//!   `AUTH_BACKEND_UNAVAILABLE`, never "not revoked".
//! - "Issued at or before": `iat` has one-second granularity, so a token issued in the same
//!   second as a subject-wide revocation is revoked too (a fresh login a second later is not).
//!   Tokens without `iat` cannot prove they are newer and count as revoked.
//! - [`Revoker`] keeps entries until the token's `exp` plus [`REVOCATION_LEEWAY`] (the largest
//!   leeway a verifier accepts), so a revoked token cannot slip through during the verifier's
//!   clock-skew leeway.
//! - Sessions are named by the `sid` claim, read from the verified token. Revocation by session
//!   covers tokens that carry a `sid`; a token without one can still be revoked by `jti` or by
//!   subject.

mod memory;
mod revoker;
mod store;

pub use memory::{DEFAULT_REVOCATION_PURGE_INTERVAL, MemoryRevocationStore};
pub use revoker::{REVOCATION_LEEWAY, Revoker, RevokerBuilder};
pub use store::{RevocationStore, TokenRef};
