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
//! The stores share one [`RedisConnection`]: for one server, the [`redis`] crate's
//! [`ConnectionManager`](redis::aio::ConnectionManager); for a Redis Cluster (feature
//! `cluster`, [`RedisBackend::cluster_builder`]), its cluster connection, which learns the slot
//! map from the seed nodes, follows `MOVED`/`ASK` redirections and finds a promoted replica
//! after a fail-over. Either runs over TLS with a `rediss://` URL (feature `tls`, rustls with
//! the *ring* provider, no OpenSSL): the server's certificate must chain to the system's roots,
//! or only to the CA of [`RedisBackendBuilder::tls_ca_file`], and name the host of the URL;
//! [`RedisBackendBuilder::tls_client_cert_files`] presents a client certificate (mutual TLS).
//! A refused handshake is reported by [`RedisBackend::ping`] as [`ErrorKind::Tls`] with
//! rustls' reason (`invalid peer certificate: UnknownIssuer`, `NotValidForName`, `received
//! fatal alert: CertificateRequired`); meanwhile operations fail closed like any outage.
//!
//! `redis` is the most widely used Rust client, maintained in the open by the redis-rs organisation, with a
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
//! | `P{attempts}:<32 hex>` | string | lockout level, failures, lockout end, decay time, attempt times in the window | until the state equals a fresh key's (window end, or failure decay) |
//! | `P{revoked:<iss>}:jti:<jti>` | string | end of the revocation (ns) | the token's `exp` plus leeway |
//! | `P{revoked:<iss>}:session:<sid>` | string | end of the revocation (ns) | the longest token lifetime plus leeway |
//! | `P{revoked:<iss>}:subject:<subject>` | string | `<issued_before> <until>` (ns) | `until` |
//! | `P{refresh}:token:<sha256 hex>` | hash | `family`, `exp`, `used` | `exp` + retention (7 days) |
//! | `P{refresh}:family:<id>` | hash | `subject`, `revoked`, `exp` | latest token `exp` + retention |
//! | `P{refresh}:subject:<subject>` | set | family ids | as its longest-lived family |
//! | `P{apikey}:hash:<sha256 hex>` | hash | the key's record (digest, owner, grants, times) | end of use + retention (30 days); **none while the key can still be used indefinitely** |
//! | `P{apikey}:id:<id>` | string | the record's digest | as the record |
//! | `P{apikey}:owner:<owner>` | set | the owner's key ids | as its longest-lived key |
//! | `P{oidc}:id:<iss hex>.<sub hex>` | hash | a provider identity's link (feature `identities`) | none (an account link) |
//! | `P{oidc}:account:<account hex>` | sorted set | the account's identities | none |
//! | `P oidc:used:<hex>` | string | a used login state | the state's lifetime |
//! | `P mfa:totp:<account>` | hash | credential id, **sealed** secret, parameters, state, last accepted step | the enrolment's lifetime while pending; **none once active** |
//! | `P mfa:recovery:<account>` | set | HMAC-SHA256 digests of the recovery codes (hex) | **none** (until regenerated or disabled) |
//! | `P mfa:login:<sha256 hex>` | hash | `subject`, `binding`, `started`, `exp` of a pending MFA login | the MFA token's lifetime (5 minutes) |
//! | `P once:<hex of the value>` | string | `1`: a used DPoP proof (its value is the digest of key thumbprint and `jti`) | until the proof's acceptance window ends |
//! | `P mfa:context:<session>` | hash | the session's `amr`/`acr`/`auth_time` (JSON), `exp` | the session's lifetime |
//!
//! (`P` is the prefix, written without the space; `<iss>` is the token's issuer in base64url
//! without padding, or `-` for tokens without `iss`, so each issuer's revocations are kept
//! apart, injectively. Releases before this layout keyed revocations by `jti` or subject
//! alone, and had no `{...}` hash tags; those keys are no longer read: revocations and attempt
//! windows expire by themselves, while refresh families and API keys of the older layout must
//! be re-issued or migrated with `RENAME`.)
//!
//! # Redis Cluster: one hash slot per operation
//!
//! Redis Cluster runs a script or a multi-key command only when all its keys hash to one slot,
//! and only the part of a key between the first `{` and the next `}` (the *hash tag*) is
//! hashed. Each store therefore puts its keys under one tag, so **every operation is
//! single-slot by construction**, whatever the values:
//!
//! | tag | keys | operations that touch several keys |
//! |---|---|---|
//! | `{attempts}` | every attempt window | `record` (the client's and the account's windows), `clear` |
//! | `{revoked:<iss>}` | one issuer's revocations | `is_revoked`: one `MGET` of the token's `jti`, session and subject keys |
//! | `{refresh}` | tokens, families, subjects' sets | `insert_family`, `rotate`, `revoke_family_of`, `revoke_subject` (a token leads to its family, a family to its subject) |
//! | `{apikey}` | records, ids, owners' sets | `create`, `rotate`, `revoke`, `list_by_owner`, `record_use` (an id leads to the record's digest) |
//! | `{oidc}` | identities, accounts' lists | `link_if_absent`, `unlink`, `list` |
//! | none | one key per operation: `mfa:*`, `once:*`, `oidc:used:*` | none (each operation is one key) |
//!
//! Why store-wide tags rather than one per user: the stores are addressed by what a request
//! carries, and a refresh token or an API key arrives as a secret whose digest is all the
//! store sees. The family or owner it belongs to is only known after reading the token's
//! record, so a per-family or per-owner tag would cost a second round trip on the hot path.
//! Revocations are tagged per issuer because `is_revoked` knows the issuer up front. The
//! price: each store's keys live on one primary (its replica takes over on failure), so the
//! cluster spreads the stores, not one store's keys, over the nodes; size that node for the
//! busiest store. **Known limitation:** the `{refresh}`, `{apikey}` and `{oidc}` scripts read
//! some key names from the records they read (a token's family, an id's digest) instead of
//! receiving every key in `KEYS`. Redis Cluster (7.x, and Valkey) runs them because those keys
//! are in the declared keys' slot, and the cluster conformance tests check it; passing every
//! key up front would need the family (or owner) to travel with the presented token, a change
//! of `auth-core`'s token format.
//!
//! Replication is asynchronous: a write acknowledged by a primary that dies before its replica
//! received it is lost in the fail-over (Redis' own guarantee). For revocations, keep a
//! replica close and `min-replicas-to-write` set if losing a just-made revocation matters. Attempt keys hash names and accounts (16
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
//! (`MGET`, `HGETALL`). Every operation's keys share one hash slot (see "Redis Cluster"
//! above), so the same scripts run on one server (with replicas or Sentinel if you like) and on
//! a Redis Cluster. Keep Redis' default `maxmemory-policy noeviction`: an evicting policy could
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
//! The same in every mode (one server over TCP or TLS, or a cluster: each operation goes to
//! the one node serving its slot, in one command; the `round_trips` test counts all three).
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
//! `tls` adds `rediss://` (rustls); `cluster` adds [`RedisBackend::cluster_builder`];
//! `test-util` adds [`test_util`], private `redis-server` processes (and, with `cluster`, a
//! private six-node cluster) for failure tests.

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

/// Compiles the README's Rust examples as doctests so they cannot drift (with the features they use).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "brute-force", feature = "tls", feature = "cluster"))]
pub struct ReadmeDoctests;

#[cfg(feature = "api-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
pub use api_key::{DEFAULT_API_KEY_RETENTION, RedisApiKeyStore};
#[cfg(feature = "brute-force")]
#[cfg_attr(docsrs, doc(cfg(feature = "brute-force")))]
pub use attempts::RedisAttemptStore;
pub use backend::{
    ConfigError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_PREFIX, DEFAULT_RECONNECT_MAX_DELAY,
    DEFAULT_TIMEOUT, Error, ErrorKind, MAX_PREFIX_LEN, RedisBackend, RedisBackendBuilder,
};
pub use connection::RedisConnection;
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
