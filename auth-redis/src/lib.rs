//! Redis stores for `auth-core`, so that many instances of a service share every security
//! decision: brute-force lockouts, access-token revocations, refresh-token families and API
//! keys.
//!
//! One instance is enough until it is not. Behind a load balancer, each request may reach a
//! different instance, and an in-memory store would let an attacker spread guesses over the
//! instances, replay a refresh token at an instance that never saw it used, or keep using a
//! token that was logged out elsewhere. These stores implement `auth-core`'s store traits on
//! one Redis server that every instance talks to:
//!
//! | store | trait | hot-path cost |
//! |---|---|---|
//! | [`RedisAttemptStore`] | [`AttemptStore`](auth_core::brute_force::AttemptStore) | one script before the login handler, one after |
//! | [`RedisRevocationStore`] | [`RevocationStore`](auth_core::revocation::RevocationStore) | one `MGET` (jti, session, subject) per bearer request |
//! | [`RedisRefreshStore`] | [`RefreshTokenStore`](auth_core::refresh::RefreshTokenStore) | one script per refresh |
//! | [`RedisApiKeyStore`] | [`ApiKeyStore`](auth_core::api_key::ApiKeyStore) | one `HGETALL` per API-key request |
//! | `RedisTotpStore` (feature `mfa`) | `auth_core::mfa::TotpStore` | one `HGETALL` and one script per code |
//! | `RedisRecoveryCodeStore` (feature `mfa`) | `auth_core::mfa::RecoveryCodeStore` | one `SREM` per recovery code |
//! | `RedisMfaTokenStore` (feature `mfa`) | `auth_core::mfa::MfaTokenStore` | one `HMGET` and one script per MFA login |
//! | `RedisAuthContextStore` (feature `mfa`) | `auth_core::mfa::AuthContextStore` | one `HMGET` per refresh |
//! | `RedisIdentityStore` (feature `identities`) | `auth_core::oidc_login::IdentityStore` | one `HMGET` per provider sign-in, one script for a first sign-in or a link |
//! | `RedisUsedStateStore` (feature `identities`) | `auth_core::oidc_login::UsedStateStore` | one `SET NX PX` per provider sign-in |
//! | `RedisOneTimeUseStore` (feature `dpop`) | `auth_core::dpop::OneTimeUseStore` | one `SET NX PX` per DPoP request |
//!
//! # Example
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_core::api_key::ApiKeys;
//! use auth_core::brute_force::{BruteForceLimiter, BruteForcePolicy};
//! use auth_core::refresh::RefreshTokens;
//! use auth_core::revocation::{RevocationStore, Revoker};
//! use auth_redis::{
//!     RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore,
//!     RedisRevocationStore,
//! };
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! // One connection for every store; each operation gives up after 100 ms.
//! let redis = RedisBackend::builder("redis://127.0.0.1:6379")
//!     .prefix("shop:auth:")
//!     .timeout(Duration::from_millis(100))
//!     .build()?;
//!
//! let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
//!     .store(Arc::new(RedisAttemptStore::new(redis.clone())))
//!     .build()?;
//! let revocations: Arc<dyn RevocationStore> =
//!     Arc::new(RedisRevocationStore::new(redis.clone()));
//! let revoker = Revoker::builder(revocations.clone()).build()?;
//! let refresh = RefreshTokens::builder(RedisRefreshStore::new(redis.clone())).build()?;
//! let keys = ApiKeys::builder(RedisApiKeyStore::new(redis)).prefix("shop_live").build()?;
//! // Hand them to BruteForceLayer, BearerLayer::builder(..).revocation(revocations),
//! // ApiKeyLayer and your refresh and logout handlers exactly as the in-memory ones.
//! # let _ = (limiter, revoker, refresh, keys);
//! # Ok(()) }
//! ```
//!
//! # The client: `redis` (redis-rs)
//!
//! The stores use the [`redis`] crate's [`ConnectionManager`](redis::aio::ConnectionManager):
//! the most widely used Rust client, maintained in the open by the redis-rs organisation, with a
//! small dependency tree (no TLS, cluster or sentinel code unless asked for). Its connection
//! manager is **one multiplexed connection that reconnects by itself** with exponential back-off
//! when the server goes away, so concurrent requests share a socket without a pool, and a
//! restarted Redis is picked up without restarting the service; [`redis::Script`] runs scripts
//! by `EVALSHA` and reloads them when a restarted server answers `NOSCRIPT`. (`fred` would also
//! do; it brings more machinery, pools and its own reconnect policies, than this needs.)
//!
//! # Key layout
//!
//! Every key starts with the configurable prefix (default `auth:`,
//! [`RedisBackendBuilder::prefix`]) and, unless stated, carries a TTL, so Redis memory never
//! holds more than what is still needed:
//!
//! | key | type | value | TTL |
//! |---|---|---|---|
//! | `P attempts:<32 hex>` | string | lockout level, failures, lockout end, decay time, attempt times in the window | until the state equals a fresh key's (window end, or failure decay) |
//! | `P revoked:jti:<iss>:<jti>` | string | end of the revocation (ns) | the token's `exp` plus leeway |
//! | `P revoked:session:<iss>:<sid>` | string | end of the revocation (ns) | the longest token lifetime plus leeway |
//! | `P revoked:subject:<iss>:<subject>` | string | `<issued_before> <until>` (ns) | `until` |
//! | `P refresh:token:<sha256 hex>` | hash | `family`, `exp`, `used` | `exp` + retention (7 days) |
//! | `P refresh:family:<id>` | hash | `subject`, `revoked`, `exp` | latest token `exp` + retention |
//! | `P refresh:subject:<subject>` | set | family ids | as its longest-lived family |
//! | `P apikey:hash:<sha256 hex>` | hash | the key's record (digest, owner, grants, times) | end of use + retention (30 days); **none while the key can still be used indefinitely** |
//! | `P apikey:id:<id>` | string | the record's digest | as the record |
//! | `P apikey:owner:<owner>` | set | the owner's key ids | as its longest-lived key |
//! | `P mfa:totp:<account>` | hash | credential id, **sealed** secret, parameters, state, last accepted step | the enrolment's lifetime while pending; **none once active** |
//! | `P mfa:recovery:<account>` | set | HMAC-SHA256 digests of the recovery codes (hex) | **none** (until regenerated or disabled) |
//! | `P mfa:login:<sha256 hex>` | hash | `subject`, `binding`, `started`, `exp` of a pending MFA login | the MFA token's lifetime (5 minutes) |
//! | `P once:<hex of the value>` | string | `1`: a used DPoP proof (its value is the digest of key thumbprint and `jti`) | until the proof's acceptance window ends |
//! | `P mfa:context:<session>` | hash | the session's `amr`/`acr`/`auth_time` (JSON), `exp` | the session's lifetime |
//!
//! (`P` is the prefix, written without the space; `<iss>` is the token's issuer in base64url
//! without padding, or `-` for tokens without `iss`, so each issuer's revocations are kept
//! apart, injectively. Releases before this layout keyed revocations by `jti` or subject
//! alone; those keys are no longer read, and expire by themselves within one access-token
//! lifetime.) Attempt keys hash names and accounts (16
//! bytes of a domain-separated SHA-256), refresh tokens and API keys are stored as digests
//! only: nothing in Redis lets anyone present a credential. TTLs are computed from the caller's
//! clock as "time left", so Redis' own clock does not matter; instances should keep theirs in
//! sync (NTP) because lockout and expiry decisions compare times written by different
//! instances.
//!
//! # Atomicity
//!
//! Each trait operation that checks and then changes state is **one Lua script**, which Redis
//! runs without interleaving any other command: a rate-limit window is checked and counted in
//! one step (two instances can never both let a sixth attempt through), a refresh token is
//! checked, used up and replaced in one step (exactly one of any number of concurrent
//! rotations wins), an API key's owner check and revocation or rotation are one step, and
//! revocation entries are only ever extended. Reads that need several keys are one command
//! (`MGET`, `HGETALL`). The scripts derive some keys from values they read (a token's family),
//! so they need a single Redis server (with replicas or Sentinel if you like); Redis Cluster is
//! not supported. Keep Redis' default `maxmemory-policy noeviction`: an evicting policy could
//! silently drop a lockout or a revocation (failing open), while a full Redis that refuses
//! writes makes the stores fail closed.
//!
//! # Failures
//!
//! Every operation is bounded by the backend's timeout ([`DEFAULT_TIMEOUT`], 100 ms,
//! [`RedisBackendBuilder::timeout`]) and fails with the trait's error when Redis is
//! unreachable, slow, or restarting; nothing waits longer and nothing panics. What a failure
//! means per store is decided by the layer or manager above it:
//!
//! | store | on failure | can be changed |
//! |---|---|---|
//! | revocation (`BearerLayer`) | 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed) | no |
//! | refresh tokens (`RefreshTokens`) | 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed) | no |
//! | API keys (`ApiKeyLayer`) | 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed) | no |
//! | brute force (`BruteForceLayer`) | 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed) | `dangerous_fail_open_on_store_error()`: the attempt passes unprotected, logged at error level |
//!
//! The connection reconnects in the background (back-off up to
//! [`RedisBackendBuilder::reconnect_max_delay`], 1 s), so when Redis returns the stores work
//! again without a restart. Two consequences to know: the request in flight when the
//! connection drops fails (fail closed) even if Redis is back a moment later; and an operation
//! that timed out is indeterminate: its script may still have run (a refresh rotation that
//! timed out may have used the token, and the client's retry then counts as reuse).
//!
//! # Round trips
//!
//! Per request and layer, on the hot path: `BearerLayer` with revocation one (`MGET`),
//! `ApiKeyLayer` one (`HGETALL`; plus at most one coalesced `last_used_at` script per key per
//! minute, off the request path), a refresh one (the rotation script). `BruteForceLayer` makes
//! one before the handler (the admission script; a refused attempt stops there) and one after
//! it (recording the outcome, which must wait for the handler's answer). The crate's
//! `round_trips` benchmark counts them with `INFO commandstats` and times them.
//!
//! # Features
//!
//! `api-key`, `brute-force`, `refresh`, `revocation` (all on by default) select the stores;
//! `mfa` (off by default) adds the stores of `auth_core::mfa` (use `brute-force` too, for the
//! second factor's attempt counts); `dpop` (off by default) adds `RedisOneTimeUseStore`
//! (used DPoP proofs, shared by every instance); `identities` (off by default) adds the stores of
//! `auth_core::oidc_login` (provider identities linked to accounts, used login states);
//! `test-util` adds [`test_util`], a private `redis-server`
//! for failure tests.

//!
//! # Feature flags
//!
//! Items that need a feature carry a badge naming it on docs.rs.
#![cfg_attr(
    feature = "document-features",
    doc = "",
    doc = document_features::document_features!()
)]
#![cfg_attr(
    not(feature = "document-features"),
    doc = "The table of features is built from `Cargo.toml` (`cargo doc --all-features`)."
)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "api-key")]
mod api_key;
#[cfg(feature = "brute-force")]
mod attempts;
// With only some stores compiled in, some helpers are unused.
#[cfg_attr(
    not(all(
        feature = "api-key",
        feature = "brute-force",
        feature = "refresh",
        feature = "revocation"
    )),
    allow(dead_code)
)]
mod backend;
#[cfg_attr(
    not(all(
        feature = "api-key",
        feature = "brute-force",
        feature = "refresh",
        feature = "revocation"
    )),
    allow(dead_code)
)]
mod codec;
mod connection;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "identities")]
mod identities;
#[cfg(feature = "mfa")]
mod mfa;
#[cfg(feature = "dpop")]
mod one_time;
#[cfg(feature = "refresh")]
mod refresh;
#[cfg(feature = "revocation")]
mod revocation;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;

/// Compiles the README's Rust example as a doctest so it cannot drift.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "brute-force"))]
pub struct ReadmeDoctests;

#[cfg(feature = "api-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
pub use api_key::{DEFAULT_API_KEY_RETENTION, RedisApiKeyStore};
#[cfg(feature = "brute-force")]
#[cfg_attr(docsrs, doc(cfg(feature = "brute-force")))]
pub use attempts::RedisAttemptStore;
pub use connection::RedisConnection;
pub use backend::{
    ConfigError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_PREFIX, DEFAULT_RECONNECT_MAX_DELAY,
    DEFAULT_TIMEOUT, Error, ErrorKind, MAX_PREFIX_LEN, RedisBackend, RedisBackendBuilder,
};
#[cfg(feature = "identities")]
#[cfg_attr(docsrs, doc(cfg(feature = "identities")))]
pub use identities::{RedisIdentityStore, RedisUsedStateStore};
#[cfg(feature = "mfa")]
#[cfg_attr(docsrs, doc(cfg(feature = "mfa")))]
pub use mfa::{RedisAuthContextStore, RedisMfaTokenStore, RedisRecoveryCodeStore, RedisTotpStore};
#[cfg(feature = "dpop")]
#[cfg_attr(docsrs, doc(cfg(feature = "dpop")))]
pub use one_time::RedisOneTimeUseStore;
#[cfg(feature = "refresh")]
#[cfg_attr(docsrs, doc(cfg(feature = "refresh")))]
pub use refresh::RedisRefreshStore;
#[cfg(feature = "revocation")]
#[cfg_attr(docsrs, doc(cfg(feature = "revocation")))]
pub use revocation::RedisRevocationStore;
