//! Where the demo keeps its state: in memory by default, in Redis when `REDIS_URL` is set, in
//! PostgreSQL when `DATABASE_URL` is set (with `REDIS_URL` as well, brute-force counters stay in
//! Redis).
//!
//! With Redis, several demo instances behind a load balancer share every security decision: a
//! lockout earned through one instance holds at the others, a token logged out at one is
//! refused by all, a refresh token rotated at one and replayed at another is detected as
//! reuse, and an API key revoked at one is refused everywhere. The key layout, the atomicity
//! and the failure policies are documented in the [`auth_redis`] crate.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `REDIS_URL` | `redis://[user:password@]host:port[/db]`, or `rediss://...` for TLS (the server's certificate is checked against the system's roots, or `REDIS_CA_FILE`, and must name the host): every store in Redis | (in memory) |
//! | `REDIS_CLUSTER_URLS` | comma-separated seed nodes of a Redis Cluster (`redis://host:port` or `rediss://host:port`, all one scheme): every store in the cluster, instead of `REDIS_URL` | (unset) |
//! | `REDIS_CA_FILE` | PEM file of the CA that signed the Redis server certificate(s); only this CA is trusted then (needs `rediss://`) | (the system's roots) |
//! | `REDIS_CLIENT_CERT_FILE`, `REDIS_CLIENT_KEY_FILE` | PEM files of a client certificate (chain) and its private key, for mutual TLS; both or neither (needs `rediss://`) | (no client certificate) |
//! | `AUTH_REDIS_PREFIX` | prefix of every Redis key | `auth-demo:` |
//! | `AUTH_REDIS_TIMEOUT_MS` | limit of one Redis operation (ms); past it the request gets 503 | `100` |
//! | `DATABASE_URL` | `postgres://user[:password]@host[:port]/database`: users, API keys, refresh families, revocations, identities and MFA state in PostgreSQL (tables `auth_demo_*`, created at start-up); brute-force counters in Redis with `REDIS_URL`, else in memory | (unset) |
//! | `AUTH_DATABASE_SCHEMA` | the PostgreSQL schema of those tables (created if missing) | (the `search_path`) |
//! | `AUTH_DATABASE_TIMEOUT_MS` | limit of one PostgreSQL operation, waiting for a pooled connection included (ms); past it the request gets 503 | `500` |
//!
//! [`Stores`] builds the API-key store, the brute-force limiters (login, registration and
//! second-factor attempts share one attempt store, with their keys apart), the revocation
//! store, the refresh-token store, the user-account store and the MFA stores (TOTP
//! credentials, recovery codes, MFA login tokens, session authentication contexts) from that
//! configuration, and [`Stores::apply_to`] hands all of them to a [`Demo`]: with `REDIS_URL`, a
//! user registered through one instance logs in through another, and a TOTP code accepted at
//! one instance is refused at every other. (The seeded `demo@example.com` account comes from
//! configuration, the same on every instance.)
//!
//! With `REDIS_URL` or `DATABASE_URL`, `AUTH_MFA_SEALING_KEY` and `AUTH_MFA_RECOVERY_KEY` are
//! required (every instance, and the next start, must open the TOTP secrets and check the
//! recovery codes stored before):
//! [`Stores::apply_to`] refuses a demo whose MFA keys are random.
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use demo_server::stores::{StoreConfig, Stores};
//!
//! let config = StoreConfig::from_env(|k| std::env::var(k).ok())?;
//! let stores = Stores::from_config(&config)?; // Redis if REDIS_URL is set
//! println!("state kept in {}", stores.kind());
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use auth_core::ConfigError;
use auth_core::api_key::{ApiKeyStore, ApiKeys, MemoryApiKeyStore};
use auth_core::brute_force::{BruteForceLimiter, BruteForcePolicy, MemoryAttemptStore};
use auth_core::clock::Clock;
use auth_core::mfa::{
    AuthContextStore, MemoryAuthContextStore, MemoryMfaTokenStore, MemoryRecoveryCodeStore,
    MemoryTotpStore, MfaTokenStore, RecoveryCodeStore, TotpStore, default_mfa_policy,
};
use auth_core::oidc_login::{
    IdentityStore, MemoryIdentityStore, MemoryUsedStateStore, UsedStateStore,
};
use auth_core::refresh::{MemoryRefreshStore, RefreshTokenStore};
use auth_core::revocation::{MemoryRevocationStore, RevocationStore};
use auth_redis::{
    RedisApiKeyStore, RedisAttemptStore, RedisAuthContextStore, RedisBackend, RedisIdentityStore,
    RedisMfaTokenStore, RedisRecoveryCodeStore, RedisRefreshStore, RedisRevocationStore,
    RedisTotpStore, RedisUsedStateStore,
};

use crate::Demo;
use crate::pg_users::PgUserStore;
use crate::redis_users::RedisUserStore;
use crate::users::{MemoryUserStore, UserStore};
use auth_core::revocation::Revoker;
use auth_postgres::{
    PgApiKeyStore, PgAuthContextStore, PgBackend, PgIdentityStore, PgMfaTokenStore,
    PgRecoveryCodeStore, PgRefreshStore, PgRevocationStore, PgTotpStore, PgUsedStateStore,
};

/// The prefix of the demo's PostgreSQL tables.
pub const DEFAULT_DATABASE_PREFIX: &str = "auth_demo_";

/// The demo's Redis key prefix when `AUTH_REDIS_PREFIX` is not set.
pub const DEFAULT_REDIS_PREFIX: &str = "auth-demo:";

/// `REDIS_URL`, `REDIS_CLUSTER_URLS`, the `REDIS_*_FILE` TLS files, `AUTH_REDIS_PREFIX`,
/// `AUTH_REDIS_TIMEOUT_MS`, `DATABASE_URL`, `AUTH_DATABASE_SCHEMA` and
/// `AUTH_DATABASE_TIMEOUT_MS`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Where Redis is; `None` (and no cluster) keeps every store in memory.
    pub redis_url: Option<String>,
    /// Seed nodes of a Redis Cluster (`REDIS_CLUSTER_URLS`); when not empty, used instead of
    /// `redis_url`.
    pub redis_cluster_urls: Vec<String>,
    /// The CA to trust for the Redis server certificate (`REDIS_CA_FILE`).
    pub redis_ca_file: Option<PathBuf>,
    /// A client certificate and its key for mutual TLS (`REDIS_CLIENT_CERT_FILE`,
    /// `REDIS_CLIENT_KEY_FILE`).
    pub redis_client_cert: Option<(PathBuf, PathBuf)>,
    /// Prefix of every Redis key.
    pub redis_prefix: String,
    /// Limit of one Redis operation.
    pub redis_timeout: Duration,
    /// Where PostgreSQL is (`DATABASE_URL`); with it, users, API keys, refresh families,
    /// revocations, identities and MFA state live there (brute-force counters stay in Redis
    /// or memory).
    pub database_url: Option<String>,
    /// The schema of the demo's tables (`AUTH_DATABASE_SCHEMA`; `None`: the connection's
    /// `search_path`, usually `public`).
    pub database_schema: Option<String>,
    /// Limit of one PostgreSQL store operation, waiting for a pooled connection included
    /// (`AUTH_DATABASE_TIMEOUT_MS`).
    pub database_timeout: Duration,
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("redis_url", &self.redis_url.as_ref().map(|_| "(set)"))
            .field("redis_cluster_urls", &self.redis_cluster_urls.len())
            .field("redis_ca_file", &self.redis_ca_file)
            .field("redis_client_cert", &self.redis_client_cert)
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_timeout", &self.redis_timeout)
            .field("database_url", &self.database_url.as_ref().map(|_| "(set)"))
            .field("database_schema", &self.database_schema)
            .field("database_timeout", &self.database_timeout)
            .finish()
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_cluster_urls: Vec::new(),
            redis_ca_file: None,
            redis_client_cert: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            redis_timeout: auth_redis::DEFAULT_TIMEOUT,
            database_url: None,
            database_schema: None,
            database_timeout: auth_postgres::DEFAULT_TIMEOUT,
        }
    }
}

impl StoreConfig {
    /// Reads the settings through `get` (the process environment in `main`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] naming the variable when `AUTH_REDIS_TIMEOUT_MS` or
    /// `AUTH_DATABASE_TIMEOUT_MS` is not a positive number, or only one of
    /// `REDIS_CLIENT_CERT_FILE` and `REDIS_CLIENT_KEY_FILE` is set.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let redis_client_cert = match (
            non_empty("REDIS_CLIENT_CERT_FILE"),
            non_empty("REDIS_CLIENT_KEY_FILE"),
        ) {
            (Some(cert), Some(key)) => Some((PathBuf::from(cert), PathBuf::from(key))),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Input(
                    "REDIS_CLIENT_CERT_FILE and REDIS_CLIENT_KEY_FILE go together: set both or \
                     neither"
                        .to_owned(),
                ));
            }
        };
        let mut config = Self {
            redis_url: get("REDIS_URL").filter(|u| !u.is_empty()),
            redis_cluster_urls: non_empty("REDIS_CLUSTER_URLS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            redis_ca_file: non_empty("REDIS_CA_FILE").map(PathBuf::from),
            redis_client_cert,
            database_url: get("DATABASE_URL").filter(|u| !u.is_empty()),
            database_schema: get("AUTH_DATABASE_SCHEMA").filter(|s| !s.is_empty()),
            ..Self::default()
        };
        if let Some(prefix) = get("AUTH_REDIS_PREFIX") {
            config.redis_prefix = prefix;
        }
        if let Some(ms) = get("AUTH_REDIS_TIMEOUT_MS") {
            config.redis_timeout = millis("AUTH_REDIS_TIMEOUT_MS", &ms)?;
        }
        if let Some(ms) = get("AUTH_DATABASE_TIMEOUT_MS") {
            config.database_timeout = millis("AUTH_DATABASE_TIMEOUT_MS", &ms)?;
        }
        Ok(config)
    }

    /// Whether a Redis (one server or a cluster) is configured.
    #[must_use]
    pub fn has_redis(&self) -> bool {
        self.redis_url.is_some() || !self.redis_cluster_urls.is_empty()
    }

    /// The Redis backend these settings name: the cluster of `REDIS_CLUSTER_URLS`, else the
    /// server of `REDIS_URL`, with the TLS files; `None` without either. Does not connect.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] when a URL, the prefix or a TLS file is unusable, or this runs
    /// outside a Tokio runtime.
    pub fn redis_backend(&self) -> Result<Option<RedisBackend>, ConfigError> {
        let (builder, vars) = if !self.redis_cluster_urls.is_empty() {
            (
                RedisBackend::cluster_builder(self.redis_cluster_urls.iter().cloned()),
                "REDIS_CLUSTER_URLS / REDIS_*_FILE / AUTH_REDIS_*",
            )
        } else if let Some(url) = &self.redis_url {
            (
                RedisBackend::builder(url.clone()),
                "REDIS_URL / REDIS_*_FILE / AUTH_REDIS_*",
            )
        } else {
            return Ok(None);
        };
        let mut builder = builder
            .prefix(self.redis_prefix.clone())
            .timeout(self.redis_timeout);
        if let Some(ca) = &self.redis_ca_file {
            builder = builder.tls_ca_file(ca.clone());
        }
        if let Some((cert, key)) = &self.redis_client_cert {
            builder = builder.tls_client_cert_files(cert.clone(), key.clone());
        }
        builder
            .build()
            .map(Some)
            .map_err(|e| ConfigError::Input(format!("{vars}: {e}")))
    }
}

/// `value` of the variable `name` as a positive number of milliseconds.
fn millis(name: &str, value: &str) -> Result<Duration, ConfigError> {
    let ms: u64 = value.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| {
        ConfigError::Input(format!(
            "{name} `{value}` is not a positive number of milliseconds"
        ))
    })?;
    Ok(Duration::from_millis(ms))
}

/// The demo's stores, all in memory or all in Redis.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Stores {
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyStore>,
    /// Brute-force protection of `POST /auth/login` over the attempt store (default policy,
    /// system clock).
    pub brute_force: BruteForceLimiter,
    /// Revoked access tokens (for `BearerLayer::builder(..).revocation(..)` and a `Revoker`).
    pub revocations: Arc<dyn RevocationStore>,
    /// Refresh-token families (for `RefreshTokens::builder_shared`).
    pub refresh: Arc<dyn RefreshTokenStore>,
    /// Registered user accounts: in memory, or in Redis with [`Stores::from_config`] and
    /// `REDIS_URL` (see [`RedisUserStore`]).
    pub users: Arc<dyn UserStore>,
    /// TOTP credentials (sealed secrets, the last accepted step).
    pub totp: Arc<dyn TotpStore>,
    /// Recovery-code digests.
    pub recovery_codes: Arc<dyn RecoveryCodeStore>,
    /// Pending two-step logins, by `mfa_token` digest.
    pub mfa_tokens: Arc<dyn MfaTokenStore>,
    /// The authentication context of each session, by refresh family.
    pub auth_contexts: Arc<dyn AuthContextStore>,
    /// Provider identities linked to accounts (see [`crate::provider_login`]).
    pub identities: Arc<dyn IdentityStore>,
    /// Provider login transactions already completed (a replayed callback is refused).
    pub used_login_states: Arc<dyn UsedStateStore>,
    /// Used DPoP proofs (`AUTH_DPOP`), so a proof replayed at another instance is refused.
    pub used_proofs: Arc<dyn auth_core::dpop::OneTimeUseStore>,
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Memory {
        attempts: Arc<MemoryAttemptStore>,
    },
    Redis(RedisBackend),
    /// Durable state in PostgreSQL; brute-force counters in Redis when one is configured,
    /// else in `attempts`.
    Postgres {
        pg: PgBackend,
        redis: Option<RedisBackend>,
        attempts: Arc<MemoryAttemptStore>,
    },
}

impl Stores {
    /// Every store in memory (one process only).
    ///
    /// # Errors
    ///
    /// Never in practice (the default limiter's configuration is valid).
    pub fn in_memory() -> Result<Self, ConfigError> {
        let attempts = Arc::new(MemoryAttemptStore::new());
        Ok(Self {
            api_keys: Arc::new(MemoryApiKeyStore::new()),
            brute_force: BruteForceLimiter::builder(BruteForcePolicy::default())
                .store(Arc::clone(&attempts))
                .build()?,
            revocations: Arc::new(MemoryRevocationStore::new()),
            refresh: Arc::new(MemoryRefreshStore::new()),
            users: Arc::new(MemoryUserStore::new()),
            totp: Arc::new(MemoryTotpStore::new()),
            recovery_codes: Arc::new(MemoryRecoveryCodeStore::new()),
            mfa_tokens: Arc::new(MemoryMfaTokenStore::new()),
            auth_contexts: Arc::new(MemoryAuthContextStore::new()),
            identities: Arc::new(MemoryIdentityStore::new()),
            used_login_states: Arc::new(MemoryUsedStateStore::new()),
            used_proofs: Arc::new(auth_core::dpop::MemoryOneTimeUseStore::new()),
            backend: Backend::Memory { attempts },
        })
    }

    /// Every store in the Redis behind `redis` (shared by every instance that uses it).
    ///
    /// # Errors
    ///
    /// Never in practice (the default limiter's configuration is valid).
    pub fn on_redis(redis: &RedisBackend) -> Result<Self, ConfigError> {
        Ok(Self {
            api_keys: Arc::new(RedisApiKeyStore::new(redis.clone())),
            brute_force: BruteForceLimiter::builder(BruteForcePolicy::default())
                .store(Arc::new(RedisAttemptStore::new(redis.clone())))
                .build()?,
            revocations: Arc::new(RedisRevocationStore::new(redis.clone())),
            refresh: Arc::new(RedisRefreshStore::new(redis.clone())),
            // A backend alone does not say where accounts go; `from_config` puts them in Redis.
            users: Arc::new(MemoryUserStore::new()),
            totp: Arc::new(RedisTotpStore::new(redis.clone())),
            recovery_codes: Arc::new(RedisRecoveryCodeStore::new(redis.clone())),
            mfa_tokens: Arc::new(RedisMfaTokenStore::new(redis.clone())),
            auth_contexts: Arc::new(RedisAuthContextStore::new(redis.clone())),
            identities: Arc::new(RedisIdentityStore::new(redis.clone())),
            used_login_states: Arc::new(RedisUsedStateStore::new(redis.clone())),
            used_proofs: Arc::new(auth_redis::RedisOneTimeUseStore::new(redis.clone())),
            backend: Backend::Redis(redis.clone()),
        })
    }

    /// Redis stores when `config` names a Redis, in-memory ones otherwise. Does not connect:
    /// an instance started while Redis is down answers 503 until it is up.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] when the Redis settings are invalid (the URL does not parse, the
    /// prefix is unusable) or this runs outside a Tokio runtime.
    pub fn from_config(config: &StoreConfig) -> Result<Self, ConfigError> {
        if let Some(db) = &config.database_url {
            return Self::on_postgres(config, db);
        }
        let Some(redis) = config.redis_backend()? else {
            return Self::in_memory();
        };
        let users = RedisUserStore::new(&redis);
        Ok(Self {
            users: Arc::new(users),
            ..Self::on_redis(&redis)?
        })
    }

    /// Users, API keys, refresh families, revocations, identities and MFA state in the
    /// PostgreSQL at `db` (tables prefixed [`DEFAULT_DATABASE_PREFIX`]); brute-force counters
    /// in Redis when `config` names one, else in memory. Does not connect: run
    /// [`migrate`](Self::migrate) at start-up.
    fn on_postgres(config: &StoreConfig, db: &str) -> Result<Self, ConfigError> {
        let mut builder = PgBackend::builder(db)
            .prefix(DEFAULT_DATABASE_PREFIX)
            .timeout(config.database_timeout);
        if let Some(schema) = &config.database_schema {
            builder = builder.schema(schema.clone());
        }
        let pg = builder
            .build()
            .map_err(|e| ConfigError::Input(format!("DATABASE_URL / AUTH_DATABASE_SCHEMA: {e}")))?;
        let redis = config.redis_backend()?;
        let attempts = Arc::new(MemoryAttemptStore::new());
        let brute_force = BruteForceLimiter::builder(BruteForcePolicy::default());
        let brute_force = match &redis {
            Some(r) => brute_force.store(Arc::new(RedisAttemptStore::new(r.clone()))),
            None => brute_force.store(Arc::clone(&attempts)),
        }
        .build()?;
        Ok(Self {
            api_keys: Arc::new(PgApiKeyStore::new(pg.clone())),
            brute_force,
            revocations: Arc::new(PgRevocationStore::new(pg.clone())),
            refresh: Arc::new(PgRefreshStore::new(pg.clone())),
            users: Arc::new(PgUserStore::new(pg.clone())),
            totp: Arc::new(PgTotpStore::new(pg.clone())),
            recovery_codes: Arc::new(PgRecoveryCodeStore::new(pg.clone())),
            mfa_tokens: Arc::new(PgMfaTokenStore::new(pg.clone())),
            auth_contexts: Arc::new(PgAuthContextStore::new(pg.clone())),
            identities: Arc::new(PgIdentityStore::new(pg.clone())),
            used_login_states: Arc::new(PgUsedStateStore::new(pg.clone())),
            // DPoP proofs live for seconds: in Redis when there is one (shared by every
            // instance), otherwise in this process's memory.
            used_proofs: match &redis {
                Some(r) => Arc::new(auth_redis::RedisOneTimeUseStore::new(r.clone())),
                None => Arc::new(auth_core::dpop::MemoryOneTimeUseStore::new()),
            },
            backend: Backend::Postgres {
                pg,
                redis,
                attempts,
            },
        })
    }

    /// With PostgreSQL: creates or upgrades the tables (`auth-postgres`'s migrations and the
    /// demo's user table). Nothing to do for the other backends.
    ///
    /// # Errors
    ///
    /// The database's error when it is unreachable or refuses.
    pub async fn migrate(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Backend::Postgres { pg, .. } = &self.backend {
            pg.migrate().await?;
            PgUserStore::new(pg.clone()).migrate().await?;
        }
        Ok(())
    }

    /// The PostgreSQL backend, when durable state is there (e.g. for the sweeper).
    #[must_use]
    pub fn postgres(&self) -> Option<&PgBackend> {
        match &self.backend {
            Backend::Postgres { pg, .. } => Some(pg),
            _ => None,
        }
    }

    /// `"memory"`, `"redis"`, `"postgres"` or `"postgres+redis"`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory { .. } => "memory",
            Backend::Redis(_) => "redis",
            Backend::Postgres { redis: None, .. } => "postgres",
            Backend::Postgres { redis: Some(_), .. } => "postgres+redis",
        }
    }

    /// The Redis connection, when the stores are in Redis (e.g. for a readiness `PING`).
    #[must_use]
    pub fn redis(&self) -> Option<&RedisBackend> {
        match &self.backend {
            Backend::Redis(r) | Backend::Postgres { redis: Some(r), .. } => Some(r),
            Backend::Memory { .. } | Backend::Postgres { redis: None, .. } => None,
        }
    }

    /// A limiter with `policy` over the same attempt store as
    /// [`brute_force`](Self::brute_force), reading `clock`: for another route whose clients
    /// are keyed apart (as `POST /auth/register` is, see [`crate::login::RegistrationKey`]).
    ///
    /// # Errors
    ///
    /// Never in practice (a store is given).
    pub fn limiter(
        &self,
        policy: BruteForcePolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<BruteForceLimiter, ConfigError> {
        let builder = BruteForceLimiter::builder(policy).clock(clock);
        match &self.backend {
            Backend::Memory { attempts }
            | Backend::Postgres {
                redis: None,
                attempts,
                ..
            } => builder.store(Arc::clone(attempts)).build(),
            Backend::Redis(redis)
            | Backend::Postgres {
                redis: Some(redis), ..
            } => builder
                .store(Arc::new(RedisAttemptStore::new(redis.clone())))
                .build(),
        }
    }

    /// The in-memory attempt store, for a housekeeping timer (Redis needs none: its keys
    /// expire by themselves).
    #[must_use]
    pub fn memory_attempts(&self) -> Option<&Arc<MemoryAttemptStore>> {
        match &self.backend {
            Backend::Memory { attempts }
            | Backend::Postgres {
                redis: None,
                attempts,
                ..
            } => Some(attempts),
            Backend::Redis(_) | Backend::Postgres { redis: Some(_), .. } => None,
        }
    }

    /// Gives `demo` every store: API keys (prefix `demo_live`), the brute-force limiter and the
    /// registration limiter (its policy kept, over the same attempt store), revocations (read
    /// by every `BearerLayer`; kept for [`Demo::max_token_lifetime`]), refresh-token families
    /// (the demo's refresh lifetime kept), user accounts, and the second factor: its stores,
    /// its limiter (`auth_core::mfa::default_mfa_policy`, over the same attempt store) and the
    /// session authentication contexts; and provider sign-in's linked identities and used
    /// login transactions.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] for Redis stores when the demo's MFA keys are random (neither
    /// `AUTH_MFA_SEALING_KEY` nor `AUTH_MFA_RECOVERY_KEY` set): another instance could open
    /// none of this one's TOTP secrets; likewise when login providers are configured without
    /// `AUTH_LOGIN_SEALING_KEY`.
    pub fn apply_to(&self, demo: &mut Demo) -> Result<(), ConfigError> {
        let shared = !matches!(self.backend, Backend::Memory { .. });
        if shared && !demo.mfa_keys.is_configured() {
            return Err(ConfigError::Input(format!(
                "REDIS_URL or DATABASE_URL is set, so every instance (and every restart) must \
                 share the second factor's keys: set {} and {} (each `base64:` + 32 random \
                 bytes, the same on every instance)",
                crate::mfa::keys::SEALING_KEY_VAR,
                crate::mfa::keys::RECOVERY_KEY_VAR,
            )));
        }
        let clock = Arc::clone(&demo.clock);
        demo.api_keys = ApiKeys::builder_shared(Arc::clone(&self.api_keys))
            .prefix(crate::keys::DEMO_KEY_PREFIX.as_str())
            .clock(Arc::clone(&clock))
            .build()?;
        demo.brute_force = self.brute_force.clone();
        demo.registrations =
            self.limiter(demo.registrations.policy().clone(), Arc::clone(&clock))?;
        demo.revoker = Revoker::builder(Arc::clone(&self.revocations))
            .max_token_lifetime(demo.max_token_lifetime())
            .clock(Arc::clone(&clock))
            .build()?;
        demo.refresh = demo.refresh_tokens(Arc::clone(&self.refresh), demo.refresh.lifetime())?;
        demo.users = demo.users.with_store(Arc::clone(&self.users));
        demo.mfa = crate::mfa::service(
            &demo.mfa_keys,
            Arc::clone(&self.totp),
            Arc::clone(&self.recovery_codes),
            Arc::clone(&self.mfa_tokens),
            self.limiter(default_mfa_policy()?, Arc::clone(&clock))?,
            &clock,
        )?;
        demo.auth_contexts = Arc::clone(&self.auth_contexts);
        demo.identities = Arc::clone(&self.identities);
        demo.resource = demo
            .resource
            .clone()
            .with_store(Arc::clone(&self.used_proofs));
        crate::provider_login::use_used_states(demo, Arc::clone(&self.used_login_states), shared)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn without_redis_url_everything_stays_in_memory() {
        let c = StoreConfig::from_env(env(&[])).unwrap();
        assert_eq!(c, StoreConfig::default());
        let s = Stores::from_config(&c).unwrap();
        assert_eq!(s.kind(), "memory");
        assert!(s.memory_attempts().is_some());
        assert!(s.redis().is_none());
    }

    #[tokio::test]
    async fn redis_url_puts_every_store_in_redis_without_connecting() {
        let c = StoreConfig::from_env(env(&[
            ("REDIS_URL", "redis://:hunter2@127.0.0.1:1"),
            ("AUTH_REDIS_PREFIX", "demo-test:"),
            ("AUTH_REDIS_TIMEOUT_MS", "250"),
        ]))
        .unwrap();
        assert_eq!(c.redis_timeout, Duration::from_millis(250));
        assert!(!format!("{c:?}").contains("hunter2"));
        let s = Stores::from_config(&c).unwrap();
        assert_eq!(s.kind(), "redis");
        let redis = s.redis().unwrap();
        assert_eq!(redis.prefix(), "demo-test:");
        assert!(s.memory_attempts().is_none());
    }

    #[tokio::test]
    async fn redis_stores_refuse_a_demo_whose_mfa_keys_are_random() {
        let redis = Stores::from_config(&StoreConfig {
            redis_url: Some("redis://127.0.0.1:1".into()),
            ..StoreConfig::default()
        })
        .unwrap();
        let demo = |vars: &[(&str, &str)]| {
            let config = crate::config::Config::from_env(env(vars)).unwrap();
            Demo::from_config(&config).unwrap().0
        };
        let err = redis.apply_to(&mut demo(&[])).unwrap_err().to_string();
        assert!(
            err.contains("AUTH_MFA_SEALING_KEY") && err.contains("AUTH_MFA_RECOVERY_KEY"),
            "{err}"
        );
        let key = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let keyed = [
            ("AUTH_MFA_SEALING_KEY", key),
            ("AUTH_MFA_RECOVERY_KEY", key),
        ];
        assert!(redis.apply_to(&mut demo(&keyed)).is_ok());
        // In memory, random keys are fine: the secrets die with the process anyway.
        let memory = Stores::in_memory().unwrap();
        assert!(memory.apply_to(&mut demo(&[])).is_ok());
    }

    // Issue 14: with Redis, every instance must open the others' login transactions.
    #[tokio::test]
    async fn redis_stores_refuse_login_providers_without_a_sealing_key() {
        let redis = Stores::from_config(&StoreConfig {
            redis_url: Some("redis://127.0.0.1:1".into()),
            ..StoreConfig::default()
        })
        .unwrap();
        let key = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let mut vars = vec![
            ("AUTH_MFA_SEALING_KEY", key),
            ("AUTH_MFA_RECOVERY_KEY", key),
            ("AUTH_LOGIN_PROVIDERS", "acme"),
            ("AUTH_LOGIN_ACME_ISSUER", "https://idp.example"),
            ("AUTH_LOGIN_ACME_CLIENT_ID", "demo"),
        ];
        let demo = |vars: &[(&str, &str)]| {
            let config = crate::config::Config::from_env(env(vars)).unwrap();
            Demo::from_config(&config).unwrap().0
        };
        let err = redis.apply_to(&mut demo(&vars)).unwrap_err().to_string();
        assert!(err.contains("AUTH_LOGIN_SEALING_KEY"), "{err}");
        assert!(
            Stores::in_memory()
                .unwrap()
                .apply_to(&mut demo(&vars))
                .is_ok()
        );
        vars.push(("AUTH_LOGIN_SEALING_KEY", key));
        let mut keyed = demo(&vars);
        redis.apply_to(&mut keyed).unwrap();
        assert!(keyed.provider_login.is_some());
    }

    #[test]
    fn a_bad_timeout_names_the_variable() {
        let err = StoreConfig::from_env(env(&[("AUTH_REDIS_TIMEOUT_MS", "0")])).unwrap_err();
        assert!(err.to_string().contains("AUTH_REDIS_TIMEOUT_MS"), "{err}");
        let err = StoreConfig::from_env(env(&[("AUTH_DATABASE_TIMEOUT_MS", "soon")])).unwrap_err();
        assert!(
            err.to_string().contains("AUTH_DATABASE_TIMEOUT_MS"),
            "{err}"
        );
        let ok = StoreConfig::from_env(env(&[("AUTH_DATABASE_TIMEOUT_MS", "1500")])).unwrap();
        assert_eq!(ok.database_timeout, Duration::from_millis(1500));
        let default = StoreConfig::from_env(env(&[])).unwrap();
        assert_eq!(default.database_timeout, auth_postgres::DEFAULT_TIMEOUT);
    }

    #[tokio::test]
    async fn an_invalid_prefix_is_refused_at_startup() {
        let c = StoreConfig {
            redis_url: Some("redis://127.0.0.1:1".into()),
            redis_prefix: "has space".into(),
            ..StoreConfig::default()
        };
        let err = Stores::from_config(&c).unwrap_err();
        assert!(err.to_string().contains("prefix"), "{err}");
    }
}
