//! [`OidcLogin`]: the configured providers, and the two steps of a login: [`begin`] and
//! [`complete`].
//!
//! [`begin`]: OidcLogin::begin
//! [`complete`]: OidcLogin::complete

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use super::completed::CompletedLogin;
use super::error::{LoginError, StateProblem, clean_error_value};
use super::exchange;
use super::id_token;
use super::identity::{ExternalIdentity, MAX_IDENTITY_FIELD_LEN, UsedStateStore};
use super::memory::MemoryUsedStateStore;
use super::metadata::{self, Metadata};
use super::provider::ProviderConfig;
use super::return_to::sanitize_return_to;
use super::transaction::{self, Found, SetCookie, Transaction};
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::constant_time::secrets_equal;
use crate::error::ConfigError;
use crate::form::{Form, Param, Params};
use crate::jwks::HttpClient;
use crate::jwks::http::default_client;
use crate::jwt::{DEFAULT_LEEWAY, JwtVerifier, MAX_LEEWAY};
use crate::seal::{Keys, SealingKey};

/// How long a login transaction may take, from `begin` to the callback: 10 minutes.
pub const DEFAULT_TRANSACTION_LIFETIME: Duration = Duration::from_secs(600);
/// The longest transaction lifetime accepted: 1 hour.
pub const MAX_TRANSACTION_LIFETIME: Duration = Duration::from_secs(3600);
/// Timeout of each request to a provider (discovery, keys, token, userinfo): 5 seconds.
pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed discovery, the next attempt waits this long (requests get 503 meanwhile).
const DISCOVERY_RETRY: Duration = Duration::from_secs(10);
const MAX_DISCOVERY_BYTES: usize = 512 * 1024;

struct Discovered {
    metadata: Metadata,
    verifier: JwtVerifier,
}

struct Provider {
    config: ProviderConfig,
    discovered: OnceCell<Arc<Discovered>>,
    retry_at: Mutex<Option<UnixTime>>,
}

struct Inner {
    providers: Vec<Provider>,
    keys: Keys,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
    used: Arc<dyn UsedStateStore>,
    lifetime: Duration,
    leeway: Duration,
    timeout: Duration,
}

/// Sign-in with OpenID Providers: builds authorization URLs with a sealed login transaction
/// ([`begin`](Self::begin)) and completes callbacks into a [`CompletedLogin`]
/// ([`complete`](Self::complete)). See the [module docs](super) for the flow and its checks.
///
/// Cheap to clone (one reference count).
#[derive(Clone)]
pub struct OidcLogin {
    inner: Arc<Inner>,
}

impl fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.provider_names().collect();
        f.debug_struct("OidcLogin")
            .field("providers", &names)
            .field("lifetime", &self.inner.lifetime)
            .field("used_states", &self.inner.used)
            .finish_non_exhaustive()
    }
}

/// What [`OidcLogin::begin`] needs besides the provider: where to return to, and, for a
/// signed-in user linking a provider, the account to link to.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct BeginOptions {
    return_to: Option<String>,
    link_to: Option<String>,
}

impl BeginOptions {
    /// Options for a plain sign-in returning to `/`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where to send the browser after the login, as the client asked (sanitised with
    /// [`sanitize_return_to`]: anything but a same-origin relative path becomes `/`).
    pub fn return_to(mut self, raw: Option<&str>) -> Self {
        self.return_to = raw.map(str::to_owned);
        self
    }

    /// Link the provider identity to `account` (the signed-in user's) instead of signing in.
    /// The account is sealed into the transaction, so the callback links to the account that
    /// started the flow.
    pub fn link_to(mut self, account: impl Into<String>) -> Self {
        self.link_to = Some(account.into());
        self
    }
}

/// What a begin route's query asks for: `return_to` (one value, else none) and `link=true`.
///
/// ```
/// use auth_core::oidc_login::BeginQuery;
///
/// let q = BeginQuery::parse("return_to=%2Forders&link=true");
/// assert_eq!(q.return_to(), Some("/orders"));
/// assert!(q.link());
/// let twice = BeginQuery::parse("return_to=/a&return_to=/b&link=1");
/// assert_eq!(twice.return_to(), None);
/// assert!(!twice.link());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BeginQuery {
    return_to: Option<String>,
    link: bool,
}

impl BeginQuery {
    /// Parses a query string (without `?`); a malformed or duplicated parameter counts as
    /// absent.
    #[must_use]
    pub fn parse(query: &str) -> Self {
        let params = Params::parse(query).unwrap_or_default();
        let once = |name| match params.get(name) {
            Param::Once(v) => Some(v.to_owned()),
            Param::Missing | Param::Duplicated => None,
        };
        Self {
            return_to: once("return_to"),
            link: once("link").as_deref() == Some("true"),
        }
    }

    /// The raw `return_to` (sanitised later, by [`BeginOptions::return_to`]).
    #[must_use]
    pub fn return_to(&self) -> Option<&str> {
        self.return_to.as_deref()
    }

    /// Whether `link=true` was asked for.
    #[must_use]
    pub fn link(&self) -> bool {
        self.link
    }
}

/// The answer to [`OidcLogin::begin`]: redirect the browser (303) to
/// [`authorization_url`](Self::authorization_url) and set [`cookie`](Self::cookie).
#[derive(Clone, Debug)]
pub struct LoginStart {
    authorization_url: String,
    cookie: SetCookie,
}

impl LoginStart {
    /// The provider's authorization URL with `response_type=code`, `client_id`,
    /// `redirect_uri`, `scope`, `state`, `nonce`, `code_challenge` and
    /// `code_challenge_method=S256`.
    #[must_use]
    pub fn authorization_url(&self) -> &str {
        &self.authorization_url
    }

    /// The transaction cookie to set.
    #[must_use]
    pub fn cookie(&self) -> &SetCookie {
        &self.cookie
    }
}

/// The answer to [`OidcLogin::complete`]: the outcome, and the transaction cookie to remove
/// (whatever the outcome, when the callback named one).
#[derive(Debug)]
#[must_use]
pub struct Callback {
    outcome: Result<CompletedLogin, LoginError>,
    clear_cookie: Option<SetCookie>,
}

impl Callback {
    /// The login, or why it failed.
    pub fn outcome(&self) -> Result<&CompletedLogin, &LoginError> {
        self.outcome.as_ref()
    }

    /// The `Set-Cookie` that removes the transaction cookie, if the callback named one.
    #[must_use]
    pub fn clear_cookie(&self) -> Option<&SetCookie> {
        self.clear_cookie.as_ref()
    }

    /// Both parts.
    pub fn into_parts(self) -> (Result<CompletedLogin, LoginError>, Option<SetCookie>) {
        (self.outcome, self.clear_cookie)
    }
}

impl OidcLogin {
    /// Starts building, with the key that seals login transactions (32 random bytes from your
    /// secret store; every instance behind one site needs the same key).
    pub fn builder(key: SealingKey) -> OidcLoginBuilder {
        OidcLoginBuilder {
            keys: Keys::new(key),
            key_error: None,
            providers: Vec::new(),
            http: None,
            clock: Arc::new(SystemClock),
            used: None,
            lifetime: DEFAULT_TRANSACTION_LIFETIME,
            leeway: DEFAULT_LEEWAY,
            timeout: DEFAULT_PROVIDER_TIMEOUT,
        }
    }

    /// The configured provider names, in configuration order.
    pub fn provider_names(&self) -> impl Iterator<Item = &str> {
        self.inner.providers.iter().map(|p| p.config.name.as_str())
    }

    /// The configuration of provider `name`.
    #[must_use]
    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.find(name).map(|p| &p.config)
    }

    fn find(&self, name: &str) -> Option<&Provider> {
        self.inner.providers.iter().find(|p| p.config.name == name)
    }

    /// Runs discovery for every provider now (otherwise it runs on each provider's first
    /// login), so configuration mistakes show at start-up.
    ///
    /// # Errors
    ///
    /// The first provider's [`LoginError::Backend`] whose discovery failed.
    pub async fn discover(&self) -> Result<(), LoginError> {
        for p in &self.inner.providers {
            self.discovered(p).await?;
        }
        Ok(())
    }

    async fn discovered(&self, p: &Provider) -> Result<Arc<Discovered>, LoginError> {
        if let Some(d) = p.discovered.get() {
            return Ok(d.clone());
        }
        let now = self.inner.clock.now();
        let wait = p.retry_at.lock().map(|r| r.is_some_and(|at| now < at));
        if wait.unwrap_or(false) {
            return Err(LoginError::Backend(format!(
                "discovery of `{}` failed recently; retrying later",
                p.config.name
            )));
        }
        let result = p
            .discovered
            .get_or_try_init(|| async {
                let metadata = metadata::discover(
                    &*self.inner.http,
                    &p.config.issuer,
                    self.inner.timeout,
                    MAX_DISCOVERY_BYTES,
                )
                .await
                .map_err(|e| e.to_string())?;
                let verifier = id_token::verifier(
                    &p.config,
                    &metadata,
                    self.inner.http.clone(),
                    self.inner.clock.clone(),
                    self.inner.leeway,
                )
                .await?;
                Ok::<_, String>(Arc::new(Discovered { metadata, verifier }))
            })
            .await;
        match result {
            Ok(d) => Ok(d.clone()),
            Err(why) => {
                if let Ok(mut r) = p.retry_at.lock() {
                    *r = Some(now.saturating_add(DISCOVERY_RETRY));
                }
                tracing::error!(
                    target: "auth::oidc_login",
                    provider = %p.config.name,
                    error = %why,
                    "openid provider discovery failed",
                );
                Err(LoginError::Backend(why))
            }
        }
    }

    /// Starts a login at `provider`: a fresh 128-bit `state`, 128-bit `nonce` and 32-byte PKCE
    /// verifier, sealed with the return-to path (sanitised) and the account to link into a
    /// cookie of this attempt's own; the answer carries the authorization URL to redirect to.
    ///
    /// # Errors
    ///
    /// [`LoginError::UnknownProvider`]; [`LoginError::Backend`] when discovery fails or the
    /// random source or sealing fails; [`LoginError::InvalidResponse`] for a link account
    /// longer than 1024 bytes.
    pub async fn begin(
        &self,
        provider: &str,
        options: BeginOptions,
    ) -> Result<LoginStart, LoginError> {
        let p = self.find(provider).ok_or(LoginError::UnknownProvider)?;
        let d = self.discovered(p).await?;
        if options
            .link_to
            .as_ref()
            .is_some_and(|a| a.is_empty() || a.len() > MAX_IDENTITY_FIELD_LEN)
        {
            return Err(LoginError::InvalidResponse("link account out of bounds"));
        }
        let random = |n| {
            transaction::random_b64(n)
                .ok_or_else(|| LoginError::Backend("random source failed".into()))
        };
        let tx = Transaction {
            state: random(16)?,
            nonce: random(16)?,
            verifier: random(32)?,
            provider: p.config.name.clone(),
            return_to: sanitize_return_to(options.return_to.as_deref()),
            created_at: self.inner.clock.now().as_secs(),
            link_to: options.link_to,
        };
        let secure = p.config.secure_cookies();
        let name = transaction::cookie_name(&tx.state, secure);
        let value = tx
            .seal(&self.inner.keys, &name)
            .ok_or_else(|| LoginError::Backend("sealing the login transaction failed".into()))?;
        let mut query = Form::default();
        query.pair("response_type", "code");
        query.pair("client_id", &p.config.client_id);
        query.pair("redirect_uri", &p.config.redirect_uri);
        query.pair("scope", &p.config.scopes.join(" "));
        query.pair("state", &tx.state);
        query.pair("nonce", &tx.nonce);
        query.pair("code_challenge", &transaction::s256(&tx.verifier));
        query.pair("code_challenge_method", "S256");
        let endpoint = &d.metadata.authorization_endpoint;
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        tracing::debug!(
            target: "auth::oidc_login",
            outcome = "started",
            provider = %p.config.name,
            link = tx.link_to.is_some(),
            "login started",
        );
        Ok(LoginStart {
            authorization_url: format!("{endpoint}{sep}{}", query.as_str()),
            cookie: SetCookie::new(name, value, self.inner.lifetime, secure),
        })
    }

    /// Completes the login at `provider`'s callback from its query string (without `?`) and
    /// the request's `Cookie` header values.
    ///
    /// In order, each step only if the previous passed: `state` present once; this browser's
    /// cookie for it present once, opening under the server's keys, holding that `state`, for
    /// this provider, not expired; the transaction marked used (a replay stops here); no
    /// parameter duplicated; `iss` equal to the issuer (required when the provider advertises
    /// RFC 9207 support); the provider's `error`, if any; then the code exchange with the PKCE
    /// verifier and client authentication; the ID token; the userinfo if configured. Nothing is
    /// sent to the provider before `state` matched and the transaction was used up.
    ///
    /// The answer always carries the removal of the transaction cookie named by `state` (when
    /// there is one), success or failure.
    pub async fn complete(&self, provider: &str, query: &str, cookie_headers: &[&str]) -> Callback {
        let mut clear_cookie = None;
        let outcome = self
            .complete_inner(provider, query, cookie_headers, &mut clear_cookie)
            .await;
        match &outcome {
            Ok(login) => tracing::info!(
                target: "auth::decision",
                outcome = "authenticated",
                method = "oidc_login",
                provider = %provider,
                subject = %login.identity().subject(),
                link = login.link_to().is_some(),
                "openid login completed",
            ),
            Err(e) => tracing::info!(
                target: "auth::decision",
                outcome = "rejected",
                method = "oidc_login",
                provider = %provider,
                code = %e.code(),
                reason = %e,
                "openid login failed",
            ),
        }
        Callback {
            outcome,
            clear_cookie,
        }
    }

    async fn complete_inner(
        &self,
        provider: &str,
        query: &str,
        cookie_headers: &[&str],
        clear_cookie: &mut Option<SetCookie>,
    ) -> Result<CompletedLogin, LoginError> {
        let p = self.find(provider).ok_or(LoginError::UnknownProvider)?;
        let secure = p.config.secure_cookies();
        let state_error = |problem| Err(LoginError::State(problem));
        let Some(params) = Params::parse(query) else {
            // An undecodable query cannot be trusted to name a state.
            return state_error(StateProblem::Missing);
        };
        let state = match params.get("state") {
            Param::Missing => return state_error(StateProblem::Missing),
            Param::Duplicated => return state_error(StateProblem::Duplicated),
            Param::Once(s) if s.is_empty() || s.len() > 128 => {
                return state_error(StateProblem::Unknown);
            }
            Param::Once(s) => s,
        };
        let name = transaction::cookie_name(state, secure);
        let value = match transaction::find_cookie(cookie_headers, &name) {
            Found::None => return state_error(StateProblem::Unknown),
            Found::Several => {
                *clear_cookie = Some(SetCookie::removal(name, secure));
                return state_error(StateProblem::Duplicated);
            }
            Found::Once(v) => v,
        };
        *clear_cookie = Some(SetCookie::removal(name.clone(), secure));
        let tx = Transaction::open(&self.inner.keys, &name, value)
            .ok_or(LoginError::State(StateProblem::Unknown))?;
        if !secrets_equal(tx.state.as_bytes(), state.as_bytes()) {
            return state_error(StateProblem::Unknown);
        }
        if tx.provider != p.config.name {
            return state_error(StateProblem::WrongProvider);
        }
        let now = self.inner.clock.now();
        let expires_at = tx.expires_at(self.inner.lifetime);
        if now >= expires_at || tx.created() > now.saturating_add(self.inner.leeway) {
            return state_error(StateProblem::Expired);
        }
        let first_use = self
            .inner
            .used
            .mark_used(&transaction::state_id(state), expires_at, now)
            .await
            .map_err(|e| LoginError::Backend(e.to_string()))?;
        if !first_use {
            return state_error(StateProblem::AlreadyUsed);
        }
        // From here on the transaction is used up, whatever happens.
        let d = self.discovered(p).await?;
        if params.duplicated_name().is_some() {
            return Err(LoginError::InvalidResponse("a parameter is duplicated"));
        }
        match params.get("iss") {
            Param::Once(iss) if iss == d.metadata.issuer => {}
            Param::Missing if !d.metadata.iss_parameter_supported => {}
            _ => return Err(LoginError::IssuerMismatch),
        }
        if let Param::Once(error) = params.get("error") {
            return Err(LoginError::Provider {
                error: clean_error_value(error),
            });
        }
        let code = match params.get("code") {
            Param::Once(c) if !c.is_empty() => c,
            _ => return Err(LoginError::InvalidResponse("no code")),
        };
        let tokens = exchange::exchange_code(
            &*self.inner.http,
            &d.metadata,
            &p.config,
            code,
            &tx.verifier,
            now,
            self.inner.timeout,
        )
        .await?;
        let (subject, claims) = id_token::validate(
            &d.verifier,
            &tokens.id_token,
            &p.config.client_id,
            &tx.nonce,
        )
        .await?;
        let userinfo = match (&d.metadata.userinfo_endpoint, p.config.userinfo) {
            (Some(endpoint), true) => Some(
                exchange::userinfo(
                    &*self.inner.http,
                    endpoint,
                    &tokens.access_token,
                    &subject,
                    self.inner.timeout,
                )
                .await?,
            ),
            (None, true) => {
                return Err(LoginError::Userinfo(
                    "the provider has no userinfo endpoint".into(),
                ));
            }
            (_, false) => None,
        };
        Ok(CompletedLogin {
            provider: p.config.name.clone(),
            identity: ExternalIdentity::new(d.metadata.issuer.clone(), subject),
            claims,
            userinfo,
            return_to: tx.return_to,
            link_to: tx.link_to,
            email_linking: p.config.email_linking,
            access_token: tokens.access_token,
            completed_at: now,
        })
    }
}

/// Builds an [`OidcLogin`]; created by [`OidcLogin::builder`].
#[must_use]
pub struct OidcLoginBuilder {
    keys: Keys,
    key_error: Option<ConfigError>,
    providers: Vec<ProviderConfig>,
    http: Option<Arc<dyn HttpClient>>,
    clock: Arc<dyn Clock>,
    used: Option<Arc<dyn UsedStateStore>>,
    lifetime: Duration,
    leeway: Duration,
    timeout: Duration,
}

impl fmt::Debug for OidcLoginBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcLoginBuilder")
            .field("providers", &self.providers)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl OidcLoginBuilder {
    /// Adds a provider.
    pub fn provider(mut self, config: ProviderConfig) -> Self {
        self.providers.push(config);
        self
    }

    /// Also opens transactions sealed with `key` (a rotated-out key; transactions live 10
    /// minutes, so keep it that long).
    pub fn previous_key(mut self, key: SealingKey) -> Self {
        match self.keys.clone().with_previous(key) {
            Ok(keys) => self.keys = keys,
            Err(e) => self.key_error = Some(e),
        }
        self
    }

    /// The HTTP client for discovery, keys, token and userinfo requests (required unless the
    /// `jwks-reqwest` feature provides the default). The token and userinfo requests go
    /// through [`HttpClient::send`], so it must implement that too.
    pub fn http_client(mut self, client: impl HttpClient) -> Self {
        self.http = Some(Arc::new(client));
        self
    }

    /// The clock every expiry decision reads (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Where used transactions are remembered (default: in memory). Several instances need a
    /// shared store, or a replayed callback could be accepted once per instance.
    pub fn used_states(mut self, store: Arc<dyn UsedStateStore>) -> Self {
        self.used = Some(store);
        self
    }

    /// How long a login may take from `begin` to the callback (default 10 minutes, at most 1
    /// hour): the transaction cookie's `Max-Age` and its expiry.
    pub fn transaction_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Clock-skew leeway for the ID token's `exp` and `iat` (default 30 s, at most 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Timeout of each request to a provider (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Validates the configuration. No request is made: discovery runs on each provider's
    /// first login, or at once with [`OidcLogin::discover`].
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid provider (see [`ProviderConfig`]), two providers with
    /// one name, no provider, a duplicate sealing key id, a lifetime of zero or over an hour, a
    /// leeway over 300 s, a zero timeout, or no HTTP client without `jwks-reqwest`.
    pub fn build(self) -> Result<OidcLogin, ConfigError> {
        if let Some(e) = self.key_error {
            return Err(e);
        }
        if self.providers.is_empty() {
            return Err(ConfigError::MissingSetting("a login provider"));
        }
        for (i, p) in self.providers.iter().enumerate() {
            p.validate()?;
            if self.providers.iter().skip(i + 1).any(|q| q.name == p.name) {
                return Err(ConfigError::Input(format!(
                    "login provider `{}` is configured twice",
                    p.name
                )));
            }
        }
        if self.lifetime.is_zero() || self.lifetime > MAX_TRANSACTION_LIFETIME {
            return Err(ConfigError::OutOfRange(
                "transaction lifetime must be from 1 s to 1 h".into(),
            ));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge {
                secs: self.leeway.as_secs(),
                max: MAX_LEEWAY.as_secs(),
            });
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::OutOfRange("timeout must be positive".into()));
        }
        let http = match self.http {
            Some(h) => h,
            None => default_client()?,
        };
        let used = self
            .used
            .unwrap_or_else(|| Arc::new(MemoryUsedStateStore::new()));
        Ok(OidcLogin {
            inner: Arc::new(Inner {
                providers: self
                    .providers
                    .into_iter()
                    .map(|config| Provider {
                        config,
                        discovered: OnceCell::new(),
                        retry_at: Mutex::new(None),
                    })
                    .collect(),
                keys: self.keys,
                http,
                clock: self.clock,
                used,
                lifetime: self.lifetime,
                leeway: self.leeway,
                timeout: self.timeout,
            }),
        })
    }
}
