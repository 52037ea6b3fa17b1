//! [`MockOidcProvider`]: an OpenID Provider on a loopback port, for tests of code that
//! discovers a provider, fetches its keys, asks it for client-credentials tokens or signs users
//! in with it.
//!
//! It serves:
//!
//! | route | what |
//! |---|---|
//! | `GET /.well-known/openid-configuration` | discovery (OpenID Connect Discovery 1.0) |
//! | `GET /jwks` | the published keys (rotation with [`MockOidcProvider::rotate_key`]) |
//! | `POST /token` | `client_credentials` and `authorization_code` (PKCE `S256`) grants |
//! | `GET /authorize` | the code flow: answers at once with a redirect carrying `code`, `state` and `iss` (RFC 9207), as if the user had signed in as [`MockOidcProvider::sign_in_as`] |
//!
//! Faults are injected per endpoint ([`Fault`]): slow answers, error statuses, invalid JSON,
//! an empty key set, OAuth errors from the token endpoint. Every endpoint counts its requests.
//!
//! Tokens are stamped with the provider's [`ManualClock`] (shared with the
//! [`TestAuthority`] it hands out), so tests move time instead of sleeping.

mod flows;
mod server;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use auth_core::ConfigError;
use auth_core::clock::ManualClock;
use auth_core::jwt::Algorithm;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::authority::{DEFAULT_AUDIENCE, DEFAULT_START, TestAuthority};
use crate::key::TestKey;

/// A fault an endpoint answers with instead of its normal response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Waits this long, then answers normally (for client time-out tests; the wait is the
    /// server's, the test itself never sleeps).
    Slow(Duration),
    /// Answers this status with an empty JSON object (e.g. 500, 503).
    Status(u16),
    /// Answers 200 with a body that is not JSON.
    InvalidJson,
    /// `GET /jwks` only: answers 200 with `{"keys":[]}`.
    NoKeys,
    /// `POST /token` only: answers this status with the OAuth 2.0 error body
    /// `{"error": <error>}` (RFC 6749 section 5.2), e.g. `(400, "invalid_scope")`.
    OAuthError(u16, String),
}

/// An endpoint of the provider, for [`MockOidcProvider::fault`] and
/// [`MockOidcProvider::requests`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /.well-known/openid-configuration`.
    Discovery,
    /// `GET /jwks`.
    Jwks,
    /// `POST /token`.
    Token,
    /// `GET /authorize`.
    Authorize,
}

impl Endpoint {
    const ALL: [Self; 4] = [Self::Discovery, Self::Jwks, Self::Token, Self::Authorize];

    fn index(self) -> usize {
        match self {
            Self::Discovery => 0,
            Self::Jwks => 1,
            Self::Token => 2,
            Self::Authorize => 3,
        }
    }
}

/// A client registered with the provider.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) secret: String,
    /// `None`: any scope may be requested.
    pub(crate) scopes: Option<Vec<String>>,
    pub(crate) redirect_uris: Vec<String>,
}

/// An authorization code waiting for its token request.
#[derive(Clone, Debug)]
pub(crate) struct PendingCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
    pub(crate) subject: String,
    pub(crate) claims: serde_json::Map<String, Value>,
}

pub(crate) struct Keys {
    pub(crate) signing: TestKey,
    pub(crate) published: Vec<TestKey>,
    pub(crate) next_kid: u32,
}

pub(crate) struct State {
    pub(crate) issuer: String,
    pub(crate) clock: ManualClock,
    pub(crate) keys: Mutex<Keys>,
    pub(crate) faults: Mutex<[Option<Fault>; 4]>,
    pub(crate) counts: [AtomicUsize; 4],
    pub(crate) clients: Mutex<HashMap<String, Client>>,
    pub(crate) audience: Mutex<String>,
    pub(crate) expires_in: AtomicU64,
    pub(crate) jwks_cache_control: Mutex<Option<String>>,
    pub(crate) codes: Mutex<HashMap<String, PendingCode>>,
    pub(crate) user: Mutex<(String, serde_json::Map<String, Value>)>,
}

impl State {
    pub(crate) fn fault(&self, endpoint: Endpoint) -> Option<Fault> {
        lock(&self.faults).get(endpoint.index()).cloned().flatten()
    }

    pub(crate) fn count(&self, endpoint: Endpoint) {
        if let Some(c) = self.counts.get(endpoint.index()) {
            c.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub(crate) fn authority(&self) -> TestAuthority {
        TestAuthority::with_key(lock(&self.keys).signing.clone())
            .with_issuer(self.issuer.as_str())
            .with_audience(lock(&self.audience).as_str())
            .with_clock(self.clock.clone())
    }
}

/// Locks, going on with the data if another thread panicked while holding the lock (the state
/// is plain data that stays consistent between statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An OpenID Provider on `127.0.0.1`, for tests; see the [module docs](self).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_test::MockOidcProvider;
/// use auth_test::provider::{Endpoint, Fault};
///
/// let idp = MockOidcProvider::start().await?;
/// let jwks: serde_json::Value = serde_json::from_str(&reqwest::get(idp.jwks_uri()).await?.text().await?)?;
/// assert_eq!(jwks["keys"][0]["kid"], idp.authority().key().kid());
///
/// idp.fault(Endpoint::Jwks, Some(Fault::Status(500)));
/// assert_eq!(reqwest::get(idp.jwks_uri()).await?.status(), 500);
/// assert_eq!(idp.requests(Endpoint::Jwks), 2);
/// # Ok(()) }
/// ```
pub struct MockOidcProvider {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl fmt::Debug for MockOidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockOidcProvider")
            .field("issuer", &self.state.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for MockOidcProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockOidcProvider {
    /// Starts a provider with an ES256 key on a free loopback port, on the current Tokio
    /// runtime, with a clock at [`DEFAULT_START`].
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Algorithm::ES256, ManualClock::new(DEFAULT_START)).await
    }

    /// Starts a provider signing with `alg` (RS256, ES256 or EdDSA: providers publish
    /// asymmetric keys) on `clock`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound, or `alg` is not one of those.
    pub async fn start_with(alg: Algorithm, clock: ManualClock) -> std::io::Result<Self> {
        if alg == Algorithm::HS256 {
            return Err(config_io(ConfigError::KeyAlgorithmMismatch {
                alg: alg.as_str(),
            }));
        }
        let key = TestKey::generate(alg, "mock-oidc-1").map_err(config_io)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            issuer: format!("http://{addr}"),
            clock,
            keys: Mutex::new(Keys {
                signing: key.clone(),
                published: vec![key],
                next_kid: 2,
            }),
            faults: Mutex::new([None, None, None, None]),
            counts: Default::default(),
            clients: Mutex::new(HashMap::new()),
            audience: Mutex::new(DEFAULT_AUDIENCE.to_owned()),
            expires_in: AtomicU64::new(300),
            jwks_cache_control: Mutex::new(None),
            codes: Mutex::new(HashMap::new()),
            user: Mutex::new(("test-user".to_owned(), serde_json::Map::new())),
        });
        let app = server::router(Arc::clone(&state));
        let task = tokio::spawn(async move {
            // The listener is ours; serve until the provider is dropped (the task is aborted).
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// The issuer: `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// The listening address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `<issuer>/.well-known/openid-configuration`.
    #[must_use]
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.state.issuer)
    }

    /// `<issuer>/jwks`.
    #[must_use]
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.state.issuer)
    }

    /// `<issuer>/token`.
    #[must_use]
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.state.issuer)
    }

    /// `<issuer>/authorize`.
    #[must_use]
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/authorize", self.state.issuer)
    }

    /// The provider's clock (shared with every authority it hands out).
    #[must_use]
    pub fn clock(&self) -> &ManualClock {
        &self.state.clock
    }

    /// A [`TestAuthority`] signing with the provider's current key, for its issuer and its
    /// audience, on its clock: tokens as the provider would issue them, and the verifier for
    /// them with the key configured statically. After [`rotate_key`](Self::rotate_key), ask
    /// again for one with the new key.
    #[must_use]
    pub fn authority(&self) -> TestAuthority {
        self.state.authority()
    }

    /// The audience of the access tokens the token endpoint issues ([`DEFAULT_AUDIENCE`] by
    /// default).
    pub fn set_audience(&self, audience: impl Into<String>) {
        *lock(&self.state.audience) = audience.into();
    }

    /// The `expires_in` (and `exp` - `iat`) of the access tokens the token endpoint issues
    /// (300 s by default).
    pub fn set_expires_in(&self, lifetime: Duration) {
        self.state
            .expires_in
            .store(lifetime.as_secs(), Ordering::SeqCst);
    }

    /// The `Cache-Control` of `GET /jwks` (none by default).
    pub fn set_jwks_cache_control(&self, value: Option<&str>) {
        *lock(&self.state.jwks_cache_control) = value.map(str::to_owned);
    }

    /// Registers a client that may ask for any scope, authenticating with `client_secret_basic`
    /// or `client_secret_post`.
    pub fn register_client(&self, client_id: impl Into<String>, secret: impl Into<String>) {
        self.insert_client(client_id.into(), secret.into(), None, Vec::new());
    }

    /// Registers a client allowed only `scopes` (others are `invalid_scope`).
    pub fn register_client_with_scopes<I, S>(
        &self,
        client_id: impl Into<String>,
        secret: impl Into<String>,
        scopes: I,
    ) where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes = scopes.into_iter().map(Into::into).collect();
        self.insert_client(client_id.into(), secret.into(), Some(scopes), Vec::new());
    }

    /// Registers a relying party for the code flow: its secret and its one redirect URI
    /// (matched exactly).
    pub fn register_relying_party(
        &self,
        client_id: impl Into<String>,
        secret: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) {
        self.insert_client(
            client_id.into(),
            secret.into(),
            None,
            vec![redirect_uri.into()],
        );
    }

    fn insert_client(
        &self,
        id: String,
        secret: String,
        scopes: Option<Vec<String>>,
        redirect_uris: Vec<String>,
    ) {
        lock(&self.state.clients).insert(
            id,
            Client {
                secret,
                scopes,
                redirect_uris,
            },
        );
    }

    /// The user the next authorizations sign in (`sub` of the ID token), with extra ID-token
    /// claims (e.g. `email`, `email_verified`). `test-user` with none by default.
    pub fn sign_in_as(&self, subject: impl Into<String>, claims: Value) {
        let claims = match claims {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        *lock(&self.state.user) = (subject.into(), claims);
    }

    /// Rotates the signing key: a fresh key of the same algorithm under a new `kid` signs from
    /// now on; the previous keys stay published until
    /// [`retire_old_keys`](Self::retire_old_keys). Returns the new `kid`.
    ///
    /// # Panics
    ///
    /// If the system random source fails.
    #[allow(clippy::panic)] // A test kit: no random source is a broken test environment.
    pub fn rotate_key(&self) -> String {
        let mut keys = lock(&self.state.keys);
        let kid = format!("mock-oidc-{}", keys.next_kid);
        keys.next_kid = keys.next_kid.saturating_add(1);
        let key = TestKey::generate(keys.signing.algorithm(), kid.as_str())
            .unwrap_or_else(|e| panic!("auth-test could not generate a key: {e}"));
        keys.signing = key.clone();
        keys.published.insert(0, key);
        kid
    }

    /// Stops publishing every key but the current signing key.
    pub fn retire_old_keys(&self) {
        let mut keys = lock(&self.state.keys);
        let current = keys.signing.clone();
        keys.published = vec![current];
    }

    /// The `kid`s currently published, newest first.
    #[must_use]
    pub fn published_kids(&self) -> Vec<String> {
        lock(&self.state.keys)
            .published
            .iter()
            .map(|k| k.kid().to_owned())
            .collect()
    }

    /// Makes `endpoint` answer with `fault` from now on (`None`: answer normally again).
    pub fn fault(&self, endpoint: Endpoint, fault: Option<Fault>) {
        if let Some(slot) = lock(&self.state.faults).get_mut(endpoint.index()) {
            *slot = fault;
        }
    }

    /// Clears every fault.
    pub fn clear_faults(&self) {
        for e in Endpoint::ALL {
            self.fault(e, None);
        }
    }

    /// How many requests `endpoint` has received (faulty answers included).
    #[must_use]
    pub fn requests(&self, endpoint: Endpoint) -> usize {
        self.state
            .counts
            .get(endpoint.index())
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }

    /// The discovery document the provider serves.
    #[must_use]
    pub fn discovery_document(&self) -> Value {
        discovery_document(&self.state)
    }
}

pub(crate) fn discovery_document(state: &State) -> Value {
    let issuer = &state.issuer;
    let alg = lock(&state.keys).signing.algorithm().as_str();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "id_token_signing_alg_values_supported": [alg],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
        "authorization_response_iss_parameter_supported": true,
    })
}

fn config_io(e: ConfigError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
