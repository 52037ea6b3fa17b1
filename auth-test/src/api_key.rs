//! [`TestApiKeys`]: the production API-key service over an in-memory store, on a manual clock.

use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::api_key::{ApiKeyError, ApiKeys, CreatedApiKey, MemoryApiKeyStore, NewApiKey};
use auth_core::clock::ManualClock;

use crate::authority::DEFAULT_START;

/// The prefix of keys made by [`TestApiKeys::new`].
pub const DEFAULT_PREFIX: &str = "test";

/// `auth_core::api_key::ApiKeys` over a [`MemoryApiKeyStore`], on a [`ManualClock`], with
/// usage tracking off (no `last_used_at` writes to spawn): create keys in one line and give
/// [`api_keys`](Self::api_keys) to the layer under test (`auth_tower::api_key::ApiKeyLayer`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_test::TestApiKeys;
///
/// let keys = TestApiKeys::new()?;
/// let key = keys.create("alice", ["read:orders"]).await?;
/// let verified = keys.api_keys().verify(&key).await?;
/// assert_eq!(verified.principal().subject(), "alice");
/// assert!(verified.principal().has_scope("read:orders"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TestApiKeys {
    keys: ApiKeys,
    store: Arc<MemoryApiKeyStore>,
    clock: ManualClock,
}

impl TestApiKeys {
    /// Keys with prefix [`DEFAULT_PREFIX`], on a clock at
    /// [`DEFAULT_START`].
    ///
    /// # Errors
    ///
    /// Never for the defaults; see [`with_prefix`](Self::with_prefix).
    pub fn new() -> Result<Self, ConfigError> {
        Self::with_prefix(DEFAULT_PREFIX, ManualClock::new(DEFAULT_START))
    }

    /// Keys with `prefix` (your application's, e.g. `demo_live`), on `clock`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidApiKeyPrefix`] for a prefix outside `[a-z][a-z0-9_]{1,23}`.
    pub fn with_prefix(prefix: &str, clock: ManualClock) -> Result<Self, ConfigError> {
        let store = Arc::new(MemoryApiKeyStore::new());
        let keys = ApiKeys::builder_shared(Arc::clone(&store) as _)
            .prefix(prefix)
            .clock(clock.clone())
            .without_usage_tracking()
            .build()?;
        Ok(Self { keys, store, clock })
    }

    /// The service, for `ApiKeyLayer` or your handlers.
    #[must_use]
    pub fn api_keys(&self) -> &ApiKeys {
        &self.keys
    }

    /// The store behind it.
    #[must_use]
    pub fn store(&self) -> &Arc<MemoryApiKeyStore> {
        &self.store
    }

    /// The clock expiries and grace periods are read from.
    #[must_use]
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// Creates a key for `owner` with `scopes` and returns its plaintext.
    ///
    /// # Errors
    ///
    /// What [`ApiKeys::create`] reports (an invalid scope, a store failure).
    pub async fn create<I, S>(&self, owner: &str, scopes: I) -> Result<String, ApiKeyError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let created = self
            .keys
            .create(NewApiKey::new(owner, "auth-test key").scopes(scopes))
            .await?;
        Ok(created.key.expose_secret().to_owned())
    }

    /// Creates the key described by `new` (roles, expiry, ...): its record and plaintext.
    ///
    /// # Errors
    ///
    /// What [`ApiKeys::create`] reports.
    pub async fn create_with(&self, new: NewApiKey) -> Result<CreatedApiKey, ApiKeyError> {
        self.keys.create(new).await
    }
}
