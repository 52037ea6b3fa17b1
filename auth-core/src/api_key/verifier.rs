//! [`ApiKeys`]: creates, verifies, lists, revokes and rotates keys over an [`ApiKeyStore`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::generate::{ApiKeyPrefix, ApiKeySecret, KeyFormatError, RandomError, new_id};
use super::hash::{ApiKeyHash, KeyHasher, Pepper};
use super::import::may_be_imported;
use super::prepared::PreparedKey;
use super::record::{ApiKeyId, ApiKeyRecord, NewRecord, Rotation};
use super::store::{ApiKeyStore, RotateOutcome, StoreError};
use super::usage::{UsageCoalescer, UsageWrite};
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::{AuthError, ConfigError, Principal};

/// The default coalescing interval for `last_used_at` writes.
pub const DEFAULT_USAGE_INTERVAL: Duration = Duration::from_secs(60);
/// The most scopes plus roles one key can carry.
pub const MAX_GRANTS: usize = 64;
const MAX_NAME_CHARS: usize = 128;
const MAX_OWNER_BYTES: usize = 256;
const MAX_GRANT_BYTES: usize = 128;

/// API keys over a store: the one place keys are generated, hashed, checked and turned into a
/// [`Principal`]. Cheap to clone (one reference count).
///
/// See the [module docs](super) for the format, hashing and rotation rules.
#[derive(Clone)]
pub struct ApiKeys {
    inner: Arc<Inner>,
}

struct Inner {
    prefix: ApiKeyPrefix,
    hasher: KeyHasher,
    store: Arc<dyn ApiKeyStore>,
    clock: Arc<dyn Clock>,
    usage: Option<UsageCoalescer>,
    /// Look up values not in this service's format as imported keys.
    imports: bool,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("ApiKeys")
            .field("prefix", &i.prefix)
            .field("hasher", &i.hasher)
            .field("store", &i.store)
            .field("clock", &i.clock)
            .field("usage", &i.usage)
            .field("imports", &i.imports)
            .finish()
    }
}

/// Builds [`ApiKeys`]; created by [`ApiKeys::builder`].
#[must_use]
pub struct ApiKeysBuilder {
    store: Arc<dyn ApiKeyStore>,
    prefix: Option<String>,
    pepper: Option<Pepper>,
    clock: Arc<dyn Clock>,
    usage_interval: Option<Duration>,
    imports: bool,
}

impl fmt::Debug for ApiKeysBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeysBuilder")
            .field("store", &self.store)
            .field("prefix", &self.prefix)
            .field("pepper", &self.pepper)
            .field("clock", &self.clock)
            .field("usage_interval", &self.usage_interval)
            .field("imports", &self.imports)
            .finish()
    }
}

impl ApiKeysBuilder {
    /// The key prefix (required): `[a-z][a-z0-9_]{1,23}`, e.g. `demo_live`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Stores HMAC-SHA256 digests under this server-side secret instead of plain SHA-256.
    ///
    /// Keys created under one pepper (or none) do not verify under another: set it before the
    /// first key is created and keep it.
    pub fn pepper(mut self, pepper: Pepper) -> Self {
        self.pepper = Some(pepper);
        self
    }

    /// The clock for creation, expiry and usage times (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Writes `last_used_at` at most once per key per `interval` (default
    /// [`DEFAULT_USAGE_INTERVAL`], 60 s). [`Duration::ZERO`] writes on every use.
    pub fn usage_interval(mut self, interval: Duration) -> Self {
        self.usage_interval = Some(interval);
        self
    }

    /// Accepts keys imported from another system ([`ApiKeys::import`]): a presented value that
    /// is not shaped like this service's keys is looked up under the imported-key digest
    /// instead of being refused by format. Values shaped like this service's keys (its prefix,
    /// or `_` and 49 base62 characters at the end) are still checked as native keys only, so
    /// a mistyped native key never reaches the store. See [`ImportedKey`](super::ImportedKey).
    ///
    /// **Cost while on:** any other string sent as a key costs one store lookup (a native
    /// key's checksum used to refuse it without one); keep a rate limit in front, and turn
    /// this off once the imported keys are rotated away.
    pub fn accept_imported_keys(mut self) -> Self {
        self.imports = true;
        self
    }

    /// Never hands out `last_used_at` writes.
    pub fn without_usage_tracking(mut self) -> Self {
        self.usage_interval = None;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyValue`] when no prefix was set, [`ConfigError::InvalidApiKeyPrefix`]
    /// when it does not match `[a-z][a-z0-9_]{1,23}`.
    pub fn build(self) -> Result<ApiKeys, ConfigError> {
        let prefix = ApiKeyPrefix::new(
            self.prefix
                .as_deref()
                .ok_or(ConfigError::EmptyValue("api key prefix"))?,
        )?;
        Ok(ApiKeys {
            inner: Arc::new(Inner {
                prefix,
                hasher: KeyHasher::new(self.pepper.as_ref()),
                store: self.store,
                clock: self.clock,
                usage: self.usage_interval.map(UsageCoalescer::new),
                imports: self.imports,
            }),
        })
    }
}

/// What to create: owner, name, grants and expiry. Validated by [`ApiKeys::create`].
///
/// ```
/// use auth_core::api_key::NewApiKey;
/// use std::time::Duration;
///
/// let new = NewApiKey::new("alice", "nightly export")
///     .scopes(["read:orders"])
///     .expires_in(Duration::from_secs(30 * 24 * 3600));
/// # let _ = new;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct NewApiKey {
    owner: String,
    name: String,
    scopes: Vec<String>,
    roles: Vec<String>,
    expiry: Option<Expiry>,
}

#[derive(Clone, Copy, Debug)]
enum Expiry {
    At(UnixTime),
    In(Duration),
}

impl NewApiKey {
    /// A key for `owner` (the subject it authenticates as) labelled `name`, with no scopes or
    /// roles and no expiry.
    ///
    /// `owner` is also what [`ApiKeys::list`], [`ApiKeys::revoke`] and [`ApiKeys::rotate`]
    /// check. An application that accepts tokens of **more than one issuer** must name owners
    /// by an issuer-qualified account key
    /// ([`Principal::account_key`](crate::Principal::account_key)), not the bare `sub`:
    /// otherwise another issuer's user with the same `sub` could list, rotate and revoke these
    /// keys.
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
            scopes: Vec::new(),
            roles: Vec::new(),
            expiry: None,
        }
    }

    /// The scopes requests with this key get (duplicates are dropped).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The roles requests with this key get (duplicates are dropped).
    pub fn roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Expires at a fixed time.
    pub fn expires_at(mut self, at: UnixTime) -> Self {
        self.expiry = Some(Expiry::At(at));
        self
    }

    /// Expires this long after creation (read from the [`ApiKeys`] clock).
    pub fn expires_in(mut self, d: Duration) -> Self {
        self.expiry = Some(Expiry::In(d));
        self
    }

    /// The scopes asked for.
    #[must_use]
    pub fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Checks owner, name, scopes and roles as [`ApiKeys::create`] will (everything but the
    /// expiry, which needs the clock), so a caller can answer "malformed" before applying its
    /// own policy, e.g. "only scopes the creator holds".
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::InvalidOwner`], [`InvalidName`](ApiKeyError::InvalidName),
    /// [`InvalidScope`](ApiKeyError::InvalidScope), [`InvalidRole`](ApiKeyError::InvalidRole)
    /// or [`TooManyGrants`](ApiKeyError::TooManyGrants).
    pub fn check(&self) -> Result<(), ApiKeyError> {
        self.grants().map(|_| ())
    }

    /// Validates everything but the expiry; the scopes and roles without duplicates.
    fn grants(&self) -> Result<(Vec<String>, Vec<String>), ApiKeyError> {
        validate_text(&self.owner, MAX_OWNER_BYTES).ok_or(ApiKeyError::InvalidOwner)?;
        if self.name.chars().count() > MAX_NAME_CHARS {
            return Err(ApiKeyError::InvalidName);
        }
        validate_text(&self.name, usize::MAX).ok_or(ApiKeyError::InvalidName)?;
        let scopes = dedup(&self.scopes, ApiKeyError::InvalidScope)?;
        let roles = dedup(&self.roles, ApiKeyError::InvalidRole)?;
        if scopes.len() + roles.len() > MAX_GRANTS {
            return Err(ApiKeyError::TooManyGrants);
        }
        Ok((scopes, roles))
    }

    /// The record this describes, validated, for key `id` with digest `hash` made at `now`.
    pub(super) fn into_record(
        self,
        id: ApiKeyId,
        hash: ApiKeyHash,
        now: UnixTime,
    ) -> Result<ApiKeyRecord, ApiKeyError> {
        let (scopes, roles) = self.grants()?;
        let expires_at = match self.expiry {
            None => None,
            Some(Expiry::At(at)) => Some(at),
            Some(Expiry::In(d)) => Some(now.saturating_add(d)),
        };
        if expires_at.is_some_and(|at| at <= now) {
            return Err(ApiKeyError::ExpiryNotInFuture);
        }
        Ok(NewRecord {
            id,
            hash,
            name: self.name,
            owner: self.owner,
            scopes,
            roles,
            created_at: now,
            expires_at,
        }
        .into())
    }
}

/// A key just created: its record and its plaintext, which is never available again.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CreatedApiKey {
    /// The stored record (digest only).
    pub record: ApiKeyRecord,
    /// The key to hand to its owner, once.
    pub key: ApiKeySecret,
}

/// A successful verification: the principal, and possibly a `last_used_at` write to spawn.
#[derive(Debug)]
pub struct Verified {
    principal: Principal,
    usage: Option<UsageWrite>,
}

impl Verified {
    /// The authenticated principal.
    #[must_use]
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The principal and, at most once per key per coalescing interval, the `last_used_at`
    /// write to run off the request path.
    #[must_use]
    pub fn into_parts(self) -> (Principal, Option<UsageWrite>) {
        (self.principal, self.usage)
    }
}

/// A management operation ([`ApiKeys::create`], [`revoke`](ApiKeys::revoke),
/// [`rotate`](ApiKeys::rotate), [`list`](ApiKeys::list)) failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The owner is empty, longer than 256 bytes or holds control characters.
    InvalidOwner,
    /// The name is empty, longer than 128 characters or holds control characters.
    InvalidName,
    /// A scope is not an RFC 6749 `scope-token` of at most 128 bytes.
    InvalidScope(String),
    /// A role is empty, longer than 128 bytes, or holds spaces, quotes, backslashes or
    /// non-ASCII characters.
    InvalidRole(String),
    /// More than [`MAX_GRANTS`] scopes and roles together.
    TooManyGrants,
    /// The expiry is not after the creation time.
    ExpiryNotInFuture,
    /// No key with this id belongs to this owner.
    NotFound,
    /// The key is revoked, expired or already rotated.
    NotActive,
    /// The OS random source failed.
    Random(RandomError),
    /// The store failed.
    Store(StoreError),
    /// [`ApiKeys::import`] was called on an `ApiKeys` built without
    /// [`accept_imported_keys`](ApiKeysBuilder::accept_imported_keys), so the key would never
    /// verify.
    ImportsDisabled,
    /// An imported plaintext is shorter than 16 or longer than 512 bytes, not visible ASCII,
    /// or shaped like this service's keys (see [`ImportedKey`](super::ImportedKey)).
    InvalidImportedKey,
}

impl fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidOwner => f.write_str("invalid api key owner"),
            Self::InvalidName => {
                f.write_str("api key name must be 1 to 128 characters without control characters")
            }
            Self::InvalidScope(s) => write!(f, "invalid scope `{}`", s.escape_debug()),
            Self::InvalidRole(r) => write!(f, "invalid role `{}`", r.escape_debug()),
            Self::TooManyGrants => write!(f, "more than {MAX_GRANTS} scopes and roles"),
            Self::ExpiryNotInFuture => f.write_str("api key expiry must be in the future"),
            Self::NotFound => f.write_str("api key not found"),
            Self::NotActive => f.write_str("api key is revoked, expired or already rotated"),
            Self::Random(e) => e.fmt(f),
            Self::Store(e) => e.fmt(f),
            Self::ImportsDisabled => {
                f.write_str("api key imports need ApiKeysBuilder::accept_imported_keys")
            }
            Self::InvalidImportedKey => f.write_str(
                "an imported key must be 16 to 512 visible ascii characters, not shaped like \
                 this service's keys",
            ),
        }
    }
}

impl std::error::Error for ApiKeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Random(e) => Some(e),
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for ApiKeyError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<RandomError> for ApiKeyError {
    fn from(e: RandomError) -> Self {
        Self::Random(e)
    }
}

impl ApiKeys {
    /// Keys with `prefix` over `store`, with the defaults: SHA-256 digests (no pepper), the
    /// system clock, `last_used_at` coalesced per [`DEFAULT_USAGE_INTERVAL`].
    #[must_use]
    pub fn new(store: impl ApiKeyStore, prefix: ApiKeyPrefix) -> Self {
        Self {
            inner: Arc::new(Inner {
                prefix,
                hasher: KeyHasher::new(None),
                store: Arc::new(store),
                clock: Arc::new(SystemClock),
                usage: Some(UsageCoalescer::new(DEFAULT_USAGE_INTERVAL)),
                imports: false,
            }),
        }
    }

    /// A builder over `store`; set at least the [prefix](ApiKeysBuilder::prefix).
    pub fn builder(store: impl ApiKeyStore) -> ApiKeysBuilder {
        Self::builder_shared(Arc::new(store))
    }

    /// A builder over a store already behind an `Arc`.
    pub fn builder_shared(store: Arc<dyn ApiKeyStore>) -> ApiKeysBuilder {
        ApiKeysBuilder {
            store,
            prefix: None,
            pepper: None,
            clock: Arc::new(SystemClock),
            usage_interval: Some(DEFAULT_USAGE_INTERVAL),
            imports: false,
        }
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &ApiKeyPrefix {
        &self.inner.prefix
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn ApiKeyStore> {
        &self.inner.store
    }

    /// The time as this service sees it.
    #[must_use]
    pub fn now(&self) -> UnixTime {
        self.inner.clock.now()
    }

    /// Whether keys imported from another system are accepted (see
    /// [`ApiKeysBuilder::accept_imported_keys`]).
    #[must_use]
    pub fn accepts_imported_keys(&self) -> bool {
        self.inner.imports
    }

    pub(super) fn hasher(&self) -> &KeyHasher {
        &self.inner.hasher
    }

    /// The `last_used_at` coalescing interval, or `None` when usage is not tracked.
    #[must_use]
    pub fn usage_interval(&self) -> Option<Duration> {
        self.inner.usage.as_ref().map(UsageCoalescer::interval)
    }

    /// Checks a presented key's format and checksum, without a store lookup. See
    /// [`ApiKeyPrefix::check`].
    ///
    /// # Errors
    ///
    /// What is wrong with the key (for logs; clients only see `INVALID_API_KEY`).
    pub fn check_format(&self, key: &str) -> Result<(), KeyFormatError> {
        self.inner.prefix.check(key)
    }

    /// The stored digest of `key` under this configuration (SHA-256 or peppered HMAC).
    #[must_use]
    pub fn hash(&self, key: &str) -> ApiKeyHash {
        self.inner.hasher.hash(key)
    }

    /// Creates a key. The plaintext is in the result and nowhere else: only its digest is
    /// stored.
    ///
    /// # Errors
    ///
    /// An [`ApiKeyError`] for invalid input, a failed random source or a failed store.
    pub async fn create(&self, new: NewApiKey) -> Result<CreatedApiKey, ApiKeyError> {
        // Validate before drawing randomness, so bad input never costs a key.
        new.check()?;
        let key = self.inner.prefix.generate()?;
        let hash = self.hash(key.expose_secret());
        let record = new.into_record(ApiKeyId::from(new_id()?), hash, self.now())?;
        self.inner.store.create(record.clone()).await?;
        tracing::info!(
            target: "auth::api_key",
            key_id = %record.id,
            owner = %record.owner,
            "api key created",
        );
        Ok(CreatedApiKey { record, key })
    }

    /// Verifies a presented key and builds its [`Principal`] (method
    /// [`AuthMethod::ApiKey`](crate::AuthMethod::ApiKey), subject the owner, the key's scopes and roles).
    ///
    /// Format and checksum are checked first, so a typo or a random string is rejected
    /// without touching the store; the returned future is then already complete (see
    /// [`Verify::into_ready`]). Otherwise the key is hashed and looked up by digest: one index
    /// lookup, whatever the number of keys. A store that answers without waiting
    /// ([`ApiKeyStore::find_by_hash_now`], e.g. the in-memory one) also gives an already
    /// complete future.
    ///
    /// With [`accept_imported_keys`](ApiKeysBuilder::accept_imported_keys), a value not
    /// shaped like this service's keys is looked up as an imported key instead (see
    /// [`ImportedKey`](super::ImportedKey)).
    ///
    /// The future resolves to `INVALID_API_KEY` (malformed, bad checksum, unknown),
    /// `API_KEY_REVOKED`, `API_KEY_EXPIRED` (including after a rotation's grace period), or
    /// `AUTH_BACKEND_UNAVAILABLE` when the store fails. The key itself is never logged.
    pub fn verify(&self, presented: &str) -> Verify {
        let hash = match self.inner.prefix.check(presented) {
            Ok(()) => self.hash(presented),
            Err(_) if self.inner.imports && may_be_imported(&self.inner.prefix, presented) => {
                tracing::trace!(target: "auth::api_key", "not in this service's format: looking up an imported key");
                self.inner.hasher.hash_imported(presented)
            }
            Err(reason) => {
                tracing::debug!(target: "auth::api_key", %reason, "api key rejected by format");
                return Verify::ready(Err(AuthError::InvalidApiKey));
            }
        };
        if let Some(found) = self.inner.store.find_by_hash_now(&hash) {
            return Verify::ready(self.inner.finish(&hash, found));
        }
        let inner = Arc::clone(&self.inner);
        Verify {
            state: State::Pending(Box::pin(async move {
                let found = inner.store.find_by_hash(&hash).await;
                inner.finish(&hash, found.map(|r| r.map(PreparedKey::from)))
            })),
        }
    }

    /// The keys of `owner`, oldest first (records only: digests, never plaintexts).
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::Store`] when the store fails.
    pub async fn list(&self, owner: &str) -> Result<Vec<ApiKeyRecord>, ApiKeyError> {
        Ok(self.inner.store.list_by_owner(owner).await?)
    }

    /// Revokes key `id` of `owner` now. Revoking a revoked key succeeds and keeps the first
    /// revocation time.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::NotFound`] when no such key belongs to `owner` (another owner's key is
    /// indistinguishable from an unknown one); [`ApiKeyError::Store`] when the store fails.
    pub async fn revoke(&self, id: &ApiKeyId, owner: &str) -> Result<ApiKeyRecord, ApiKeyError> {
        let record = self
            .inner
            .store
            .revoke(id, owner, self.now())
            .await?
            .ok_or(ApiKeyError::NotFound)?;
        tracing::info!(target: "auth::api_key", key_id = %id, owner, "api key revoked");
        Ok(record)
    }

    /// Replaces key `id` of `owner` with a new key carrying the same name, grants and expiry.
    /// The old key keeps working until `now + grace` (never longer than it would have), then
    /// is rejected as `API_KEY_EXPIRED`.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::NotFound`] as for [`revoke`](Self::revoke);
    /// [`ApiKeyError::NotActive`] when the key is revoked, expired or was already rotated;
    /// [`ApiKeyError::Random`] / [`ApiKeyError::Store`] for infrastructure failures.
    pub async fn rotate(
        &self,
        id: &ApiKeyId,
        owner: &str,
        grace: Duration,
    ) -> Result<CreatedApiKey, ApiKeyError> {
        let now = self.now();
        let key = self.inner.prefix.generate()?;
        let rotation = Rotation {
            new_id: ApiKeyId::from(new_id()?),
            new_hash: self.hash(key.expose_secret()),
            now,
            grace_until: now.saturating_add(grace),
        };
        match self.inner.store.rotate(id, owner, rotation).await? {
            RotateOutcome::Rotated {
                previous,
                replacement,
            } => {
                tracing::info!(
                    target: "auth::api_key",
                    key_id = %previous.id,
                    replacement_id = %replacement.id,
                    owner,
                    grace_secs = grace.as_secs(),
                    "api key rotated",
                );
                Ok(CreatedApiKey {
                    record: *replacement,
                    key,
                })
            }
            RotateOutcome::NotFound => Err(ApiKeyError::NotFound),
            RotateOutcome::NotActive => Err(ApiKeyError::NotActive),
        }
    }
}

impl Inner {
    /// Turns a lookup result into the outcome. Runs after the store answered.
    fn finish(
        &self,
        hash: &ApiKeyHash,
        found: Result<Option<PreparedKey>, StoreError>,
    ) -> Result<Verified, AuthError> {
        let key = match found {
            Ok(Some(key)) => key,
            Ok(None) => {
                tracing::debug!(target: "auth::api_key", reason = "unknown", "api key rejected");
                return Err(AuthError::InvalidApiKey);
            }
            Err(e) => {
                tracing::error!(target: "auth::api_key", error = %e, "api key lookup failed");
                return Err(AuthError::BackendUnavailable(e.to_string()));
            }
        };
        // The index already matched on the digest; compare again, in constant time, so a
        // backend whose index is approximate (e.g. a prefix) cannot admit the wrong key.
        if key.hash() != hash {
            tracing::debug!(target: "auth::api_key", reason = "digest mismatch", "api key rejected");
            return Err(AuthError::InvalidApiKey);
        }
        let now = self.clock.now();
        match key.status(now) {
            super::ApiKeyStatus::Active => {}
            status => {
                tracing::debug!(
                    target: "auth::api_key",
                    key_id = key.id(),
                    reason = status.as_str(),
                    "api key rejected",
                );
                return Err(if status == super::ApiKeyStatus::Revoked {
                    AuthError::ApiKeyRevoked
                } else {
                    AuthError::ApiKeyExpired
                });
            }
        }
        let usage = self
            .usage
            .as_ref()
            .filter(|c| c.should_write(hash, key.last_used_at(), now))
            .map(|_| UsageWrite {
                store: Arc::clone(&self.store),
                id: ApiKeyId::from(key.id()),
                at: now,
            });
        Ok(Verified {
            principal: key.into_principal(),
            usage,
        })
    }
}

/// `Some(())` when `s` is non-empty, at most `max` bytes, and free of control characters.
fn validate_text(s: &str, max: usize) -> Option<()> {
    (!s.is_empty() && s.len() <= max && !s.chars().any(char::is_control)).then_some(())
}

/// RFC 6749 section 3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, at most 128 bytes.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_GRANT_BYTES
        && s.bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

/// Checks every item is a scope token and drops duplicates, keeping first positions.
fn dedup(items: &[String], err: fn(String) -> ApiKeyError) -> Result<Vec<String>, ApiKeyError> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !is_scope_token(item) {
            return Err(err(item.clone()));
        }
        if !out.contains(item) {
            out.push(item.clone());
        }
        if out.len() > MAX_GRANTS {
            return Err(ApiKeyError::TooManyGrants);
        }
    }
    Ok(out)
}

/// The future returned by [`ApiKeys::verify`].
#[must_use = "futures do nothing unless polled"]
pub struct Verify {
    state: State,
}

type Pending = Pin<Box<dyn Future<Output = Result<Verified, AuthError>> + Send + 'static>>;

enum State {
    Ready(Option<Result<Verified, AuthError>>),
    Pending(Pending),
}

impl Verify {
    fn ready(r: Result<Verified, AuthError>) -> Self {
        Self {
            state: State::Ready(Some(r)),
        }
    }

    /// The result, if it is known without waiting (a malformed key, or a store that answers
    /// synchronously, see [`ApiKeyStore::find_by_hash_now`]); otherwise the future back.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when the store must be asked and the future awaited.
    pub fn into_ready(self) -> Result<Result<Verified, AuthError>, Self> {
        match self.state {
            State::Ready(Some(r)) => Ok(r),
            state => Err(Self { state }),
        }
    }
}

impl fmt::Debug for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.state {
            State::Ready(_) => "Ready",
            State::Pending(_) => "Pending",
        };
        f.debug_struct("Verify").field("state", &s).finish()
    }
}

impl Future for Verify {
    type Output = Result<Verified, AuthError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            State::Ready(r) => Poll::Ready(r.take().unwrap_or_else(|| {
                Err(AuthError::BackendUnavailable(
                    "api key verification polled after completion".into(),
                ))
            })),
            State::Pending(f) => f.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
#[cfg(feature = "memory-store")]
mod tests {
    use super::*;
    use crate::api_key::{ApiKeyStatus, MemoryApiKeyStore};
    use crate::clock::ManualClock;
    use crate::{AuthMethod, ErrorCode};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const T0: u64 = 1_800_000_000;

    /// A store that counts lookups, to prove format checks never reach it.
    #[derive(Debug, Default)]
    struct Counting {
        inner: MemoryApiKeyStore,
        lookups: AtomicUsize,
        fail: bool,
    }

    #[async_trait::async_trait]
    impl ApiKeyStore for Counting {
        async fn create(&self, r: ApiKeyRecord) -> Result<(), StoreError> {
            self.inner.create(r).await
        }
        async fn find_by_hash(&self, h: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(StoreError::Unavailable("connection refused".into()));
            }
            self.inner.find_by_hash(h).await
        }
        async fn list_by_owner(&self, o: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
            self.inner.list_by_owner(o).await
        }
        async fn revoke(
            &self,
            id: &ApiKeyId,
            o: &str,
            at: UnixTime,
        ) -> Result<Option<ApiKeyRecord>, StoreError> {
            self.inner.revoke(id, o, at).await
        }
        async fn rotate(
            &self,
            id: &ApiKeyId,
            o: &str,
            r: Rotation,
        ) -> Result<RotateOutcome, StoreError> {
            self.inner.rotate(id, o, r).await
        }
        async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError> {
            self.inner.record_use(id, at).await
        }
    }

    fn setup() -> (ApiKeys, MemoryApiKeyStore, ManualClock) {
        let store = MemoryApiKeyStore::new();
        let clock = ManualClock::new(UnixTime::from_secs(T0));
        let keys = ApiKeys::builder(store.clone())
            .prefix("demo_live")
            .clock(clock.clone())
            .build()
            .unwrap();
        (keys, store, clock)
    }

    async fn code(keys: &ApiKeys, key: &str) -> ErrorCode {
        keys.verify(key).await.unwrap_err().code()
    }

    #[test]
    fn a_prefix_is_required_and_validated() {
        let b = || ApiKeys::builder(MemoryApiKeyStore::new());
        assert_eq!(
            b().build().unwrap_err(),
            ConfigError::EmptyValue("api key prefix")
        );
        assert_eq!(
            b().prefix("Live").build().unwrap_err(),
            ConfigError::InvalidApiKeyPrefix("Live".into())
        );
    }

    #[tokio::test]
    async fn a_created_key_verifies_to_its_owner_with_its_grants() {
        let (keys, _, _) = setup();
        let created = keys
            .create(
                NewApiKey::new("alice", "ci")
                    .scopes(["read:orders", "write:orders", "read:orders"])
                    .roles(["robot"]),
            )
            .await
            .unwrap();
        assert_eq!(created.record.scopes, ["read:orders", "write:orders"]);
        let verified = keys.verify(created.key.expose_secret()).await.unwrap();
        let p = verified.principal();
        assert_eq!(p.subject(), "alice");
        assert!(p.has_scope("write:orders"));
        assert!(p.has_role("robot"));
        assert_eq!(
            p.auth_method(),
            &AuthMethod::ApiKey {
                key_id: created.record.id.to_string()
            }
        );
    }

    #[tokio::test]
    async fn malformed_keys_are_rejected_without_a_lookup() {
        let store = Arc::new(Counting::default());
        let keys = ApiKeys::builder_shared(store.clone())
            .prefix("demo_live")
            .build()
            .unwrap();
        let created = keys.create(NewApiKey::new("alice", "ci")).await.unwrap();
        let good = created.key.expose_secret();
        let mut typo = good.to_owned();
        let c = typo.remove(20);
        typo.insert(20, if c == 'x' { 'y' } else { 'x' });
        for bad in [
            "",
            "demo_live_",
            "not a key",
            typo.as_str(),
            &good.replacen("demo_live", "demo_test", 1),
        ] {
            let v = keys.verify(bad);
            let result = v.into_ready().expect("decided without the store");
            assert_eq!(result.unwrap_err(), AuthError::InvalidApiKey, "{bad}");
        }
        assert_eq!(store.lookups.load(Ordering::SeqCst), 0);
        assert!(keys.verify(good).await.is_ok());
        assert_eq!(store.lookups.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_in_memory_store_answers_without_waiting_and_sees_every_change() {
        let (keys, store, clock) = setup();
        let ready = |k: &str| keys.verify(k).into_ready().expect("answered synchronously");
        let c = keys
            .create(NewApiKey::new("alice", "ci").scopes(["read:orders"]))
            .await
            .unwrap();
        let k = c.key.expose_secret();
        let (p, usage) = ready(k).unwrap().into_parts();
        assert_eq!(p.subject(), "alice");
        assert_eq!(p.scopes(), ["read:orders"]);
        assert_eq!(p.issued_at(), Some(UnixTime::from_secs(T0)));
        usage.expect("first use is written").await;
        assert_eq!(store.records()[0].last_used_at, Some(keys.now()));
        assert!(ready(k).unwrap().into_parts().1.is_none());
        let unknown = ApiKeyPrefix::new("demo_live").unwrap().generate().unwrap();
        assert_eq!(
            ready(unknown.expose_secret()).unwrap_err(),
            AuthError::InvalidApiKey
        );
        // A rotation moves the old key's expiry; its principal carries the new one.
        let r = keys
            .rotate(&c.record.id, "alice", Duration::from_secs(30))
            .await
            .unwrap();
        let old = ready(k).unwrap();
        assert_eq!(
            old.principal().expires_at(),
            Some(UnixTime::from_secs(T0 + 30))
        );
        clock.advance(Duration::from_secs(30));
        assert_eq!(ready(k).unwrap_err(), AuthError::ApiKeyExpired);
        let new = r.key.expose_secret();
        assert!(ready(new).is_ok());
        keys.revoke(&r.record.id, "alice").await.unwrap();
        assert_eq!(ready(new).unwrap_err(), AuthError::ApiKeyRevoked);
        // A store without the synchronous answer gets a future, with the same outcomes.
        let counting = Arc::new(Counting::default());
        let keys = ApiKeys::builder_shared(counting)
            .prefix("demo_live")
            .build()
            .unwrap();
        let c = keys.create(NewApiKey::new("bob", "ci")).await.unwrap();
        let pending = keys.verify(c.key.expose_secret()).into_ready().unwrap_err();
        assert_eq!(pending.await.unwrap().principal().subject(), "bob");
    }

    #[tokio::test]
    async fn a_well_formed_unknown_key_is_invalid() {
        let (keys, _, _) = setup();
        let other = ApiKeyPrefix::new("demo_live").unwrap().generate().unwrap();
        assert_eq!(
            code(&keys, other.expose_secret()).await,
            ErrorCode::InvalidApiKey
        );
    }

    #[tokio::test]
    async fn keys_made_under_another_pepper_do_not_verify() {
        let store = MemoryApiKeyStore::new();
        let a = ApiKeys::builder(store.clone())
            .prefix("demo_live")
            .pepper(Pepper::new(vec![1; 32]).unwrap())
            .build()
            .unwrap();
        let b = ApiKeys::builder(store.clone())
            .prefix("demo_live")
            .pepper(Pepper::new(vec![2; 32]).unwrap())
            .build()
            .unwrap();
        let plain = ApiKeys::builder(store).prefix("demo_live").build().unwrap();
        let k = a.create(NewApiKey::new("alice", "ci")).await.unwrap().key;
        assert!(a.verify(k.expose_secret()).await.is_ok());
        assert_eq!(code(&b, k.expose_secret()).await, ErrorCode::InvalidApiKey);
        assert_eq!(
            code(&plain, k.expose_secret()).await,
            ErrorCode::InvalidApiKey
        );
    }

    #[tokio::test]
    async fn expiry_follows_the_injected_clock() {
        let (keys, _, clock) = setup();
        let k = keys
            .create(NewApiKey::new("alice", "ci").expires_in(Duration::from_secs(60)))
            .await
            .unwrap()
            .key;
        clock.advance(Duration::from_secs(59));
        assert!(keys.verify(k.expose_secret()).await.is_ok());
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            code(&keys, k.expose_secret()).await,
            ErrorCode::ApiKeyExpired
        );
    }

    #[tokio::test]
    async fn revoked_keys_are_rejected_as_revoked_even_when_expired() {
        let (keys, _, clock) = setup();
        let c = keys
            .create(NewApiKey::new("alice", "ci").expires_in(Duration::from_secs(60)))
            .await
            .unwrap();
        assert_eq!(
            keys.revoke(&c.record.id, "bob").await.unwrap_err(),
            ApiKeyError::NotFound
        );
        let r = keys.revoke(&c.record.id, "alice").await.unwrap();
        assert_eq!(r.status(keys.now()), ApiKeyStatus::Revoked);
        assert_eq!(
            code(&keys, c.key.expose_secret()).await,
            ErrorCode::ApiKeyRevoked
        );
        clock.advance(Duration::from_secs(3600));
        assert_eq!(
            code(&keys, c.key.expose_secret()).await,
            ErrorCode::ApiKeyRevoked
        );
    }

    #[tokio::test]
    async fn rotation_keeps_the_old_key_for_the_grace_period_only() {
        let (keys, _, clock) = setup();
        let old = keys
            .create(NewApiKey::new("alice", "ci").scopes(["read:orders"]))
            .await
            .unwrap();
        clock.advance(Duration::from_secs(10));
        let new = keys
            .rotate(&old.record.id, "alice", Duration::from_secs(300))
            .await
            .unwrap();
        assert_ne!(new.record.id, old.record.id);
        assert_eq!(new.record.scopes, ["read:orders"]);
        assert_eq!(new.record.name, "ci");
        clock.advance(Duration::from_secs(299));
        assert!(keys.verify(old.key.expose_secret()).await.is_ok());
        assert!(keys.verify(new.key.expose_secret()).await.is_ok());
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            code(&keys, old.key.expose_secret()).await,
            ErrorCode::ApiKeyExpired
        );
        assert!(keys.verify(new.key.expose_secret()).await.is_ok());
        // The old key cannot be rotated again; another owner sees nothing.
        assert_eq!(
            keys.rotate(&old.record.id, "alice", Duration::ZERO)
                .await
                .unwrap_err(),
            ApiKeyError::NotActive
        );
        assert_eq!(
            keys.rotate(&new.record.id, "bob", Duration::ZERO)
                .await
                .unwrap_err(),
            ApiKeyError::NotFound
        );
    }

    #[tokio::test]
    async fn rotation_with_zero_grace_retires_the_old_key_at_once() {
        let (keys, _, _) = setup();
        let old = keys.create(NewApiKey::new("alice", "ci")).await.unwrap();
        keys.rotate(&old.record.id, "alice", Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            code(&keys, old.key.expose_secret()).await,
            ErrorCode::ApiKeyExpired
        );
    }

    #[tokio::test]
    async fn the_store_never_sees_the_plaintext() {
        let (keys, store, _) = setup();
        let mut secrets = Vec::new();
        for i in 0..5 {
            let c = keys
                .create(NewApiKey::new("alice", format!("k{i}")))
                .await
                .unwrap();
            let rotated = keys
                .rotate(&c.record.id, "alice", Duration::from_secs(1))
                .await
                .unwrap();
            secrets.push(c.key.into_exposed_string());
            secrets.push(rotated.key.into_exposed_string());
        }
        let dump = format!(
            "{:?}{}",
            store.records(),
            serde_json::to_string(&store.records()).unwrap()
        );
        for s in &secrets {
            let random = &s["demo_live_".len()..s.len() - 6];
            assert!(!dump.contains(random), "plaintext found in the store");
            let hex = keys.hash(s).to_hex();
            assert!(dump.contains(&hex), "digest is stored");
        }
    }

    #[tokio::test]
    async fn usage_writes_are_coalesced_per_interval() {
        let (keys, store, clock) = setup();
        let c = keys.create(NewApiKey::new("alice", "ci")).await.unwrap();
        let k = c.key.expose_secret();
        let (_, first) = keys.verify(k).await.unwrap().into_parts();
        let first = first.expect("first use is written");
        for _ in 0..100 {
            let (_, w) = keys.verify(k).await.unwrap().into_parts();
            assert!(w.is_none());
        }
        first.await;
        assert_eq!(
            store.records()[0].last_used_at,
            Some(UnixTime::from_secs(T0))
        );
        clock.advance(Duration::from_secs(60));
        let (_, again) = keys.verify(k).await.unwrap().into_parts();
        assert_eq!(again.expect("a new interval").at(), keys.now());
    }

    #[tokio::test]
    async fn usage_tracking_can_be_disabled() {
        let keys = ApiKeys::builder(MemoryApiKeyStore::new())
            .prefix("demo_live")
            .without_usage_tracking()
            .build()
            .unwrap();
        let c = keys.create(NewApiKey::new("alice", "ci")).await.unwrap();
        let (_, w) = keys
            .verify(c.key.expose_secret())
            .await
            .unwrap()
            .into_parts();
        assert!(w.is_none());
        assert_eq!(keys.usage_interval(), None);
    }

    #[tokio::test]
    async fn store_failures_are_backend_unavailable() {
        let store = Arc::new(Counting {
            fail: true,
            ..Counting::default()
        });
        let keys = ApiKeys::builder_shared(store)
            .prefix("demo_live")
            .build()
            .unwrap();
        let k = ApiKeyPrefix::new("demo_live").unwrap().generate().unwrap();
        assert_eq!(
            code(&keys, k.expose_secret()).await,
            ErrorCode::AuthBackendUnavailable
        );
    }

    #[tokio::test]
    async fn invalid_input_is_refused_before_anything_is_stored() {
        let (keys, store, _) = setup();
        let cases = [
            (NewApiKey::new("", "ci"), ApiKeyError::InvalidOwner),
            (NewApiKey::new("alice", ""), ApiKeyError::InvalidName),
            (NewApiKey::new("alice", "a\nb"), ApiKeyError::InvalidName),
            (
                NewApiKey::new("alice", "x".repeat(129)),
                ApiKeyError::InvalidName,
            ),
            (
                NewApiKey::new("alice", "ci").scopes(["read orders"]),
                ApiKeyError::InvalidScope("read orders".into()),
            ),
            (
                NewApiKey::new("alice", "ci").scopes(["a\"b"]),
                ApiKeyError::InvalidScope("a\"b".into()),
            ),
            (
                NewApiKey::new("alice", "ci").roles([""]),
                ApiKeyError::InvalidRole(String::new()),
            ),
            (
                NewApiKey::new("alice", "ci").scopes((0..65).map(|i| format!("s{i}"))),
                ApiKeyError::TooManyGrants,
            ),
            (
                NewApiKey::new("alice", "ci").expires_at(UnixTime::from_secs(T0)),
                ApiKeyError::ExpiryNotInFuture,
            ),
        ];
        for (new, expected) in cases {
            assert_eq!(keys.create(new).await.unwrap_err(), expected);
        }
        assert!(store.is_empty());
        assert!(
            keys.create(NewApiKey::new("alice", "x".repeat(128)))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn listing_shows_records_without_plaintext() {
        let (keys, _, _) = setup();
        keys.create(NewApiKey::new("alice", "a")).await.unwrap();
        keys.create(NewApiKey::new("bob", "b")).await.unwrap();
        let list = keys.list("alice").await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].name, "a");
    }

    #[test]
    fn debug_output_hides_the_pepper() {
        let keys = ApiKeys::builder(MemoryApiKeyStore::new())
            .prefix("demo_live")
            .pepper(Pepper::new(b"a pepper of at least thirty-two bytes".to_vec()).unwrap())
            .build()
            .unwrap();
        let d = format!("{keys:?}");
        assert!(d.contains("HmacSha256(REDACTED)"), "{d}");
        assert!(!d.contains("thirty-two"));
    }
}
