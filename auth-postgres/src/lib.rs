//! PostgreSQL stores for `auth-core`: API keys, refresh-token families, access-token
//! revocations, provider identities and MFA credentials that survive restarts and are shared
//! by every instance of a service.
//!
//! | store | trait | table(s) |
//! | --- | --- | --- |
//! | [`PgApiKeyStore`] | `auth_core::api_key::ApiKeyStore` | `api_keys` |
//! | [`PgRefreshStore`] | `auth_core::refresh::RefreshTokenStore` | `refresh_families`, `refresh_tokens` |
//! | [`PgRevocationStore`] | `auth_core::revocation::RevocationStore` | `revocations` |
//! | [`PgTotpStore`] | `auth_core::mfa::TotpStore` | `totp_credentials` |
//! | [`PgRecoveryCodeStore`] | `auth_core::mfa::RecoveryCodeStore` | `recovery_codes` |
//! | [`PgMfaTokenStore`] | `auth_core::mfa::MfaTokenStore` | `mfa_tokens` |
//! | [`PgAuthContextStore`] | `auth_core::mfa::AuthContextStore` | `auth_contexts` |
//! | [`PgIdentityStore`] | `auth_core::oidc_login::IdentityStore` | `identities` |
//! | [`PgUsedStateStore`] | `auth_core::oidc_login::UsedStateStore` | `used_states` |
//!
//! Brute-force counters are not here: they change on every login attempt and expire within
//! hours, which is what Redis (`auth-redis`'s `RedisAttemptStore`) or memory is for.
//!
//! Every store has the semantics of auth-core's in-memory store and of the Redis store: the
//! three run one conformance suite (`auth-test`, feature `conformance`).
//!
//! # Set-up
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_core::api_key::ApiKeys;
//! use auth_core::clock::SystemClock;
//! use auth_postgres::{PgApiKeyStore, PgBackend, Sweeper};
//!
//! let pg = PgBackend::builder(std::env::var("DATABASE_URL")?)
//!     .prefix("auth_")
//!     .build()?;
//! pg.migrate().await?; // creates or upgrades the tables; safe from every instance
//! let _sweeper = Sweeper::new(pg.clone()).spawn(SystemClock); // bounded background cleanup
//! let keys = ApiKeys::builder(PgApiKeyStore::new(pg)).build()?;
//! # let _ = keys;
//! # Ok(()) }
//! ```
//!
//! # What is stored
//!
//! Only digests and sealed secrets, as in the other backends: API keys and refresh tokens by
//! their SHA-256 digest, recovery codes by their keyed digest, MFA login tokens by digest, TOTP
//! secrets sealed (AES-256-GCM) by `auth_core::mfa::SecretSealer`. Tables are named
//! `<prefix><table>` (default prefix [`DEFAULT_PREFIX`]), optionally in a schema of their own
//! ([`PgBackendBuilder::schema`]).
//!
//! # Cost per request
//!
//! API-key verification and the revocation check are **one statement** each (index lookups:
//! see the `EXPLAIN` test in `src/explain.rs`), so one round trip with a warm pool. A refresh-token rotation is one
//! transaction of five statements (`BEGIN`, `SELECT … FOR UPDATE`, `INSERT`, two `UPDATE`s,
//! `COMMIT`).
//!
//! # Failures
//!
//! Every operation is bounded by the backend's time limit ([`PgBackendBuilder::timeout`]) and
//! the pool by [`PgBackendBuilder::max_connections`]. A failure or timeout is a store error,
//! which auth-core and the layers turn into 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed), never
//! an accepted request. When the database is back, the next operations succeed: the pool opens
//! new connections by itself, no restart needed.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod api_key;
mod backend;
mod codec;
mod error;
#[cfg(all(test, feature = "test-util"))]
mod explain;
mod identities;
mod mfa;
mod migrate;
mod refresh;
mod revocation;
mod sweep;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;

pub use api_key::{DEFAULT_API_KEY_RETENTION, PgApiKeyStore};
pub use backend::{
    DEFAULT_MAX_CONNECTIONS, DEFAULT_PREFIX, DEFAULT_TIMEOUT, MAX_PREFIX_LEN, PgBackend,
    PgBackendBuilder,
};
pub use error::{ConfigError, Error, ErrorKind};
pub use identities::{PgIdentityStore, PgUsedStateStore};
pub use mfa::{PgAuthContextStore, PgMfaTokenStore, PgRecoveryCodeStore, PgTotpStore};
pub use migrate::LATEST_VERSION;
pub use refresh::PgRefreshStore;
pub use revocation::PgRevocationStore;
pub use sweep::{DEFAULT_SWEEP_BATCH, DEFAULT_SWEEP_INTERVAL, SweepReport, Sweeper, SweeperHandle};
