//! The demo API, as a library so tests can drive it in-process.
//!
//! Routes (a public contract; clients and tests outside this repository rely on them):
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /` | none | the browser page for the cookie session (login form, a "Sign in with `<name>`" button per provider, "who am I", a protected `POST`) |
//! | `GET /app.js` | none | that page's script |
//! | `GET /health` | none | 200 `{"status":"ok"}` |
//! | `GET /openapi.json` | none | 200 the OpenAPI 3.1 document of these routes, with each route's security (see [`openapi`]) |
//! | `GET /.well-known/jwks.json` | none | 200 JWK Set of the demo's public verification keys (`{"keys":[]}` for HS256), `Cache-Control: public, max-age=300` |
//! | `GET /.well-known/oauth-protected-resource` | none | 200 RFC 9728 metadata of the resource `<public>` (`AUTH_DEMO_PUBLIC_URL`), see [`resource`] |
//! | `GET /.well-known/oauth-protected-resource/api` | none | 200 the metadata of `<public>/api`, named by every 401's `resource_metadata` |
//! | `GET /api/me` | bearer required | 200 `{"sub","roles","scopes","auth_method","mfa":{"totp"},"amr"}`: `mfa.totp` whether the account has TOTP on, `amr` the token's (`[]` without); plus `"identities":[{"provider","iss","sub"}]` for an account with linked provider identities |
//! | `GET /api/hello` | bearer optional | 200 `{"message":"hello <sub>"}` or `"hello anonymous"` |
//! | `GET /api/orders` | scope `read:orders` | 200 `{"subject","orders":[..]}` |
//! | `POST /api/orders/{id}/refund` | permission `orders:refund` | 200 `{"order_id","status","refunded_by"}` |
//! | `GET /api/admin/stats` | role `admin` | 200 `{"requested_by","orders","refunds"}` |
//! | `GET /api/outbound/{*path}` | bearer required (header or session cookie) | the downstream API's answer to `GET {AUTH_OUTBOUND_URL}/{path}?{query}` (status, `Content-Type`, body), called with a client-credentials token; 503 `OUTBOUND_TOKEN_UNAVAILABLE` when no token can be had (the downstream receives nothing); 400 `INVALID_REQUEST` for `.`/`..` segments; 404 without `AUTH_OUTBOUND_URL` |
//! | `POST /api/keys` | bearer required | 201 `{"id","api_key","name","scopes","expires_at"}` |
//! | `GET /api/keys` | bearer required | 200 `{"keys":[..]}` (never a plaintext or digest) |
//! | `DELETE /api/keys/{id}` | bearer required | 204; 404 unless the caller owns it |
//! | `POST /api/keys/{id}/rotate` | bearer required | 201, the replacement, as on creation |
//! | `POST /auth/register` | none; 5 per 10 minutes per client address | 201 `{"sub","email","roles","scopes"}`; 422 `INVALID_EMAIL` / `INVALID_PASSWORD`; 409 `EMAIL_TAKEN`; 429 `TOO_MANY_ATTEMPTS` + `Retry-After`; 503 `AUTH_BACKEND_UNAVAILABLE` + `Retry-After` when password hashing is busy |
//! | `POST /auth/login` | none; brute-force protected | 200 `{"access_token","token_type":"Bearer","expires_in":900,"refresh_token","refresh_expires_in","scope"}` (`"DPoP"` and `cnf.jkt` with `AUTH_DPOP` on and a `DPoP` proof; 400 `INVALID_DPOP_PROOF` for a bad one), 401 `INVALID_CREDENTIALS`, 401 `MFA_REQUIRED` + `{"mfa_token","methods"}` for an account with TOTP, 429 `TOO_MANY_ATTEMPTS`, 503 `AUTH_BACKEND_UNAVAILABLE` + `Retry-After` when password hashing is busy |
//! | `POST /auth/refresh` | the refresh token (body) | 200, a new pair as on login; 401 `REFRESH_TOKEN_REUSED` / `REFRESH_TOKEN_EXPIRED` / `INVALID_REFRESH_TOKEN` |
//! | `POST /auth/logout` | bearer required | 204; the access token and its refresh family are revoked |
//! | `POST /auth/logout-all` | bearer required; body `{"revoke_api_keys":true}` optional | 204; every session and token of the user is revoked (API keys too with `revoke_api_keys`); 400/415/422 `INVALID_REQUEST` for a malformed body |
//! | `POST /auth/session/login` | none; brute-force protected | 200 `{"sub","expires_in","refresh_expires_in","scope"}` + access, refresh and CSRF cookies; 401 `MFA_REQUIRED` (no cookies) for an account with TOTP |
//! | `POST /auth/session/refresh` | the refresh cookie + `X-CSRF-Token` | 200, new cookies; 401 as `/auth/refresh` (cookies cleared) |
//! | `POST /auth/session/logout` | the access and/or refresh cookie + `X-CSRF-Token` | 204; session revoked (by the access token and by the refresh cookie, whatever the access cookie's state), cookies cleared |
//! | `GET /auth/login/{name}` | none (`?link=true`: the session cookie) | with `AUTH_LOGIN_PROVIDERS`: 303 to the provider (`?return_to=/path`); 404 for an unknown name; 401 `MISSING_CREDENTIALS` for `link=true` without a session |
//! | `GET /auth/login/{name}/callback` | the login's transaction cookie | 303 to the return-to path with a new cookie session (an account created on the first sign-in), or after linking the identity; 400 `LOGIN_STATE_INVALID` / `LOGIN_FAILED` / `INVALID_ID_TOKEN`; 409 `IDENTITY_ALREADY_LINKED` (see [`provider_login`]) |
//! | `POST /auth/mfa/totp/enroll` | bearer, or session cookie + `X-CSRF-Token` | 200 `{"secret","otpauth_uri","qr_svg"}`; 409 `MFA_ALREADY_ENABLED` |
//! | `POST /auth/mfa/totp/confirm` | as enroll; `{"code"}` | 200 `{"recovery_codes":[..10..]}`; 400 `INVALID_OTP` |
//! | `POST /auth/mfa/verify` | none (the `mfa_token`); brute-force protected | `{"mfa_token","code"}` or `{"mfa_token","recovery_code"}`: what the password login would have answered; 401 `INVALID_OTP` / `INVALID_MFA_TOKEN`; 429 `TOO_MANY_ATTEMPTS` |
//! | `POST /auth/mfa/totp/disable` | as enroll + step-up (`amr` `otp`, `auth_time` ≤ 5 min) | 204; 401 `INSUFFICIENT_USER_AUTHENTICATION` (RFC 9470 challenge); 409 `MFA_NOT_ENABLED` |
//! | `POST /auth/mfa/recovery-codes` | as disable | 200 `{"recovery_codes":[..10..]}`; 401 `INSUFFICIENT_USER_AUTHENTICATION`; 409 `MFA_NOT_ENABLED` |
//!
//! `expires_in` is `AUTH_ACCESS_TOKEN_TTL` (default 900 s) and `refresh_expires_in`
//! `AUTH_REFRESH_TOKEN_TTL` (default 2592000 s); see [`lifetimes`].
//!
//! Protected routes accept the access token from `Authorization: Bearer` or from the
//! `access_token` cookie. Cookie-authenticated unsafe requests must echo the `csrf_token`
//! cookie in `X-CSRF-Token` (403 `CSRF_REJECTED` otherwise; see [`session`]). Revoked tokens
//! answer 401 `TOKEN_REVOKED` everywhere. Issuing routes answer 503
//! `AUTH_BACKEND_UNAVAILABLE` when the demo has only a public key.
//!
//! The orders routes accept a bearer token or an API key (`X-API-Key: demo_live_...`); see
//! [`keys`] for the key routes' bodies and errors, [`login`] and [`tokens`] for the token
//! endpoints, [`roles`] for the scopes each role gets.
//!
//! With `AUTH_OIDC_ISSUER` and `AUTH_OIDC_AUDIENCE`, tokens from that OpenID Provider are
//! accepted too: the token's `iss` picks the demo's own key ring or the provider's JWKS (found
//! by discovery, cached and refreshed in the background). Each issuer has its own `typ` rule
//! (`AUTH_JWT_TYP`, `AUTH_OIDC_TYP`), and per-user records are keyed per issuer; see
//! [`issuers`]. With `AUTH_OIDC_INTROSPECTION=true`, the provider's opaque tokens are
//! introspected (RFC 7662) instead; see [`introspection`].
//!
//! Accounts with TOTP log in in two steps, and access tokens carry `amr`, `acr` and
//! `auth_time` (kept unchanged by refreshes); see [`mfa`].
//!
//! With `AUTH_LOGIN_PROVIDERS`, users sign in with OpenID Providers too (authorization code
//! with PKCE), and signed-in users link provider identities to their account; see
//! [`provider_login`].
//!
//! State lives in memory by default; with `DATABASE_URL` durable state is in PostgreSQL (see
//! [`stores`]); with `REDIS_URL` alone every store is in Redis, so several
//! instances share lockouts, revocations, refresh families, API keys and second factors (see
//! [`stores`]).
//!
//! Failures are the layer's: 401 (400 for malformed headers) with `WWW-Authenticate` and
//! `{"error":{"code":"...","message":"..."}}`.

pub mod audit;
pub mod config;
mod demo_tokens;
pub mod introspection;
pub mod issuers;
pub mod keys;
pub mod lifetimes;
pub mod limits;
pub mod login;
mod me;
pub mod mfa;
pub mod observability;
pub mod openapi;
pub mod orders;
pub mod outbound;
pub mod page;
pub mod pg_users;
pub mod provider_login;
pub mod redis_users;
pub mod resource;
pub mod roles;
mod router;
pub mod seeded;
pub mod session;
pub mod stores;
pub mod tokens;
pub mod user_store;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use auth_core::ConfigError;
use auth_core::api_key::{ApiKeys, MemoryApiKeyStore};
use auth_core::brute_force::{BruteForceLimiter, BruteForcePolicy};
use auth_core::clock::{Clock, SystemClock};
use auth_core::jwks::JwksSource;
use auth_core::jwt::{JwtVerifier, KeyRing, KeySet, PublicJwkSet, StaticKeys, TokenIssuer};
use auth_core::mfa::{AuthContextStore, MemoryAuthContextStore, Mfa};
use auth_core::refresh::{RefreshTokenStore, RefreshTokens};
use auth_core::revocation::{MemoryRevocationStore, Revoker};
use auth_tower::bearer::BearerLayer;
use auth_tower::brute_force::TrustedProxies;
use auth_tower::cookies::SessionCookies;
use auth_tower::csrf::CsrfLayer;

use crate::config::Config;
use crate::issuers::AccountKeys;
use crate::limits::Limits;
use crate::mfa::MfaKeys;
use crate::roles::Roles;
use crate::users::{DEFAULT_DEMO_PASSWORD, DemoPassword, Users};

pub use crate::demo_tokens::{demo_admin_token, demo_token, demo_token_for};
pub use crate::router::{app, app_and_routes, app_with};

/// How long clients may cache the demo's JWK Set (`Cache-Control: max-age`). A key added to
/// the set must be published at least this long before it signs anything.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(300);

/// The realm named in the demo's `WWW-Authenticate` challenges.
pub const REALM: &str = "auth-demo";

/// Lifetime of the access tokens the demo issues at login and refresh unless
/// `AUTH_ACCESS_TOKEN_TTL` says otherwise: 15 minutes.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Lifetime of the tokens [`demo_token`] and friends sign: one hour.
pub const DEMO_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The longest lifetime of any access token the demo accepts from elsewhere (the
/// [`demo_token`] helpers and typical identity providers give an hour; its own last
/// `AUTH_ACCESS_TOKEN_TTL`, see [`Demo::max_token_lifetime`]). "Log out everywhere" keeps its
/// revocation at least this long, plus the verifier's maximum leeway.
pub const MAX_ACCEPTED_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Everything the demo's routes share. Each feature module builds its routes from this.
///
/// One [`Clock`] drives every time decision: the issuer's `iat`/`exp`, the verifier, refresh
/// tokens, revocation, brute-force windows and API-key times. Tests build the demo with a
/// `ManualClock` ([`Demo::from_config_with_clock`] or [`Demo::issuing`]) and never sleep.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Demo {
    /// The clock every component reads.
    pub clock: Arc<dyn Clock>,
    /// Digests login account names for the audit trail (random key per process).
    pub audit_digester: Arc<auth_core::audit::AccountDigester>,
    /// Verifies bearer tokens (and session cookies).
    pub verifier: JwtVerifier,
    /// Signs access tokens with the key ring the verifier reads; `None` when the demo only has
    /// a public key (its issuing endpoints then answer 503).
    pub issuer: Option<TokenIssuer>,
    /// Refresh tokens: rotation and reuse detection (in memory).
    pub refresh: RefreshTokens,
    /// Access-token revocation; its store is the one every `BearerLayer` consults.
    pub revoker: Revoker,
    /// Accounts: registered users plus the seeded `demo@example.com` (and the seeded admin
    /// account with `AUTH_DEMO_ADMIN_EMAIL` + `AUTH_DEMO_ADMIN_PASSWORD`).
    pub users: Users,
    /// Who is `admin`: the seeded admin account's subject, when it exists.
    pub roles: Roles,
    /// Cookie names and paths of the browser session.
    pub cookies: SessionCookies,
    /// Origins allowed to send cookie-authenticated unsafe requests (checked on top of the
    /// CSRF token when not empty).
    pub allowed_origins: Vec<String>,
    /// API keys (`demo_live_...`) over the key store: in memory by default, see [`keys`].
    pub api_keys: ApiKeys,
    /// Brute-force protection of the login routes (in-memory store).
    pub brute_force: BruteForceLimiter,
    /// The per-client rate limit of `POST /auth/register` (`AUTH_DEMO_REGISTER_LIMIT`,
    /// default 5 per 10 minutes). It may share its store with [`brute_force`](Self::brute_force):
    /// its clients are keyed apart (see [`login::RegistrationKey`]).
    pub registrations: BruteForceLimiter,
    /// Proxies whose `X-Forwarded-For` is believed (`AUTH_DEMO_TRUSTED_PROXIES`; none by default).
    pub trusted_proxies: TrustedProxies,
    /// The public keys served at `GET /.well-known/jwks.json` when the demo has no issuer
    /// (with an issuer, the key ring's public keys are served, live).
    pub public_keys: Arc<PublicJwkSet>,
    /// Remembers verified bearer tokens (off by default; see [`Demo::with_token_cache`]).
    pub token_cache: Option<auth_core::jwt::TokenCache>,
    /// Introspects the OpenID Provider's opaque tokens (`AUTH_OIDC_INTROSPECTION`; see
    /// [`introspection`]).
    pub introspector: Option<auth_core::introspection::Introspector>,
    /// Whose records a principal may touch: the bare subject for the demo's own tokens, the
    /// issuer-qualified account key for another issuer's (see [`issuers`]).
    pub accounts: AccountKeys,
    /// Second factors: TOTP, recovery codes, MFA login tokens and their throttle (see [`mfa`]);
    /// in memory by default, in Redis with [`stores::Stores::apply_to`].
    pub mfa: Mfa,
    /// The authentication context (`amr`, `acr`, `auth_time`) of each session, by refresh
    /// family: a refresh copies it into the new access token instead of stamping a new one.
    pub auth_contexts: Arc<dyn AuthContextStore>,
    /// The downstream API called with client credentials (`AUTH_OUTBOUND_URL`), if any; see
    /// [`outbound`].
    pub outbound: Option<outbound::Outbound>,
    /// The keys [`mfa`](Self::mfa) seals secrets and digests recovery codes with
    /// (`AUTH_MFA_SEALING_KEY`, `AUTH_MFA_RECOVERY_KEY`; random per process when unset).
    pub(crate) mfa_keys: MfaKeys,
    /// Sign-in with OpenID Providers (`AUTH_LOGIN_PROVIDERS`, see [`provider_login`]); `None`
    /// when no provider is configured.
    pub provider_login: Option<auth_core::oidc_login::OidcLogin>,
    /// Provider identities linked to local accounts by `(iss, sub)`: in memory by default, in
    /// Redis with [`stores::Stores::apply_to`].
    pub identities: Arc<dyn auth_core::oidc_login::IdentityStore>,
    /// The provider sign-in configuration, kept to rebuild
    /// [`provider_login`](Self::provider_login) over shared stores.
    pub(crate) login_config: Option<provider_login::LoginConfig>,
    /// DPoP (`AUTH_DPOP`) and the RFC 9728 resource descriptions (see [`resource`]).
    pub resource: resource::ResourceServer,
}

/// The path of the cookie session's refresh endpoint.
pub const SESSION_REFRESH_PATH: &str = "/auth/session/refresh";

/// The path of the refresh cookie: the session routes (refresh and logout; login ignores it),
/// so logout always sees the session, whatever the state of the access cookie.
pub const SESSION_COOKIE_PATH: &str = "/auth/session";

/// The refresh cookie's path before issue 12 (item 4). Answers that set or clear the session
/// cookies also clear a refresh cookie left there, which would otherwise be sent to the refresh
/// route beside the new one.
pub const LEGACY_REFRESH_COOKIE_PATH: &str = SESSION_REFRESH_PATH;

impl Demo {
    /// A verify-only demo around `verifier` (no issuer), with in-memory defaults, reading the
    /// verifier's clock.
    ///
    /// # Errors
    ///
    /// Only if a built-in default were invalid (none is).
    pub fn new(verifier: JwtVerifier) -> Result<Self, ConfigError> {
        let clock = Arc::clone(verifier.clock());
        let revocations = MemoryRevocationStore::new().with_clock(Arc::clone(&clock));
        let mfa_keys = MfaKeys::random()?;
        let resource = resource::ResourceServer::new(
            auth_tower::bearer::DpopMode::Off,
            &format!("http://{}", config::DEFAULT_ADDR),
            Arc::clone(&clock),
        )?;
        Ok(Self {
            audit_digester: Arc::new(audit::random_digester()?),
            mfa: mfa::in_memory(&mfa_keys, &clock)?,
            auth_contexts: Arc::new(MemoryAuthContextStore::new()),
            mfa_keys,
            refresh: RefreshTokens::in_memory()
                .clock(Arc::clone(&clock))
                .build()?,
            revoker: Revoker::builder(Arc::new(revocations))
                .max_token_lifetime(MAX_ACCEPTED_TOKEN_LIFETIME)
                .clock(Arc::clone(&clock))
                .build()?,
            users: Users::in_memory(DemoPassword::new(DEFAULT_DEMO_PASSWORD), Arc::clone(&clock)),
            roles: Roles::default(),
            cookies: SessionCookies::builder()
                .refresh_path(SESSION_COOKIE_PATH)
                .build()?,
            allowed_origins: Vec::new(),
            api_keys: ApiKeys::builder(MemoryApiKeyStore::new())
                .prefix(keys::DEMO_KEY_PREFIX.as_str())
                .clock(Arc::clone(&clock))
                .build()?,
            brute_force: BruteForceLimiter::builder(BruteForcePolicy::default())
                .clock(Arc::clone(&clock))
                .build()?,
            registrations: BruteForceLimiter::builder(Limits::default().register_policy()?)
                .clock(Arc::clone(&clock))
                .build()?,
            trusted_proxies: TrustedProxies::none(),
            public_keys: Arc::new(PublicJwkSet::default()),
            token_cache: None,
            introspector: None,
            accounts: AccountKeys::default(),
            outbound: None,
            issuer: None,
            verifier,
            clock,
            provider_login: None,
            identities: Arc::new(auth_core::oidc_login::MemoryIdentityStore::new()),
            login_config: None,
            resource,
        })
    }

    /// The longest lifetime of an access token this demo accepts: its own tokens' lifetime
    /// (`AUTH_ACCESS_TOKEN_TTL`) or [`MAX_ACCEPTED_TOKEN_LIFETIME`], whichever is longer. "Log
    /// out everywhere" keeps its revocation this long (plus leeway), so it outlives every token
    /// it revokes.
    #[must_use]
    pub fn max_token_lifetime(&self) -> Duration {
        self.issuer
            .as_ref()
            .map_or(MAX_ACCEPTED_TOKEN_LIFETIME, |i| {
                i.lifetime().max(MAX_ACCEPTED_TOKEN_LIFETIME)
            })
    }

    /// Refresh tokens over `store` living `lifetime`, on the demo's clock. When the demo knows
    /// its own issuer, every session (refresh family) they revoke (logout, reuse detection,
    /// "log out everywhere") is also revoked in the revocation store, so the access tokens
    /// naming it in `sid` answer 401 `TOKEN_REVOKED` at once, on every instance sharing the
    /// store. Call it again whenever [`revoker`](Self::revoker) changes.
    ///
    /// # Errors
    ///
    /// For a zero lifetime.
    pub fn refresh_tokens(
        &self,
        store: Arc<dyn RefreshTokenStore>,
        lifetime: Duration,
    ) -> Result<RefreshTokens, ConfigError> {
        let builder = RefreshTokens::builder_shared(store)
            .lifetime(lifetime)
            .clock(Arc::clone(&self.clock));
        match self.accounts.local_issuer() {
            Some(issuer) => builder.revoke_sessions_with(self.revoker.clone(), Some(issuer)),
            None => builder,
        }
        .build()
    }

    /// A demo that issues 15-minute access tokens ([`ACCESS_TOKEN_TTL`]) signed with `ring`'s active key, for
    /// `issuer` and `audience`, verified by a verifier reading the same ring (so rotations
    /// reach both at once) that requires `typ: at+jwt`. Its refresh tokens revoke the access
    /// tokens of every session they end. Everything reads `clock`.
    ///
    /// # Errors
    ///
    /// When the issuer or audience is empty.
    pub fn issuing(
        ring: KeyRing,
        issuer: &str,
        audience: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let local = issuer;
        let issuer = token_issuer(ring, issuer, audience, ACCESS_TOKEN_TTL, &clock)?;
        let mut demo = Self::new(issuer.verifier_builder().build()?)?;
        demo.issuer = Some(issuer);
        demo.accounts = AccountKeys::new(Some(local));
        demo.refresh =
            demo.refresh_tokens(Arc::clone(demo.refresh.store()), demo.refresh.lifetime())?;
        Ok(demo)
    }

    /// Lets the bearer routes answer a token seen before from `cache` (its signature is not
    /// checked again; expiry and revocation still are). The load benchmark turns it on.
    #[must_use]
    pub fn with_token_cache(mut self, cache: auth_core::jwt::TokenCache) -> Self {
        self.token_cache = Some(cache);
        self
    }

    /// Publishes these keys at `GET /.well-known/jwks.json` (verify-only demos).
    #[must_use]
    pub fn with_public_keys(mut self, keys: PublicJwkSet) -> Self {
        self.public_keys = Arc::new(keys);
        self
    }

    /// The demo as configured, on the system clock. Returns the OpenID Provider's key source
    /// too (with `AUTH_OIDC_ISSUER`), so the caller can prime it.
    ///
    /// # Errors
    ///
    /// When a key, URL or setting is invalid.
    pub fn from_config(config: &Config) -> Result<(Self, Option<JwksSource>), ConfigError> {
        Self::from_config_with_clock(config, Arc::new(SystemClock))
    }

    /// [`from_config`](Self::from_config) with every component reading `clock`.
    ///
    /// With a secret or a private key, the demo issues tokens with a [`KeyRing`] holding that
    /// key and verifies with the same ring; with a public key only, it verifies and its
    /// issuing endpoints answer 503.
    ///
    /// # Errors
    ///
    /// When a key, URL or setting is invalid.
    pub fn from_config_with_clock(
        config: &Config,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, Option<JwksSource>), ConfigError> {
        let (mut demo, oidc) = match config.signing_key()? {
            Some(key) => {
                let ring = KeyRing::new(key);
                let issuer = token_issuer(
                    ring.clone(),
                    &config.issuer,
                    &config.audience,
                    config.lifetimes.access,
                    &clock,
                )?;
                let (verifier, oidc) = issuers::verifier(config, ring, &clock)?;
                let mut demo = Self::new(verifier)?;
                demo.issuer = Some(issuer);
                (demo, oidc)
            }
            None => {
                let own = config.verification_key()?;
                let keys = PublicJwkSet::from_keys([&own])?;
                let own = StaticKeys::new(KeySet::new(vec![own])?);
                let (verifier, oidc) = issuers::verifier(config, own, &clock)?;
                (Self::new(verifier)?.with_public_keys(keys), oidc)
            }
        };
        demo.users = Users::in_memory(config.demo_password.clone(), Arc::clone(&clock))
            .with_passwords(Arc::new(config.limits.passwords()));
        if let Some(email) = &config.admin_email {
            // Without a password the address is only reserved: no account, nobody is admin.
            demo.users = demo.users.with_admin(email, config.admin_password.clone());
            if config.admin_password.is_some() {
                demo.roles = Roles::with_seeded_admin();
            }
        }
        demo.registrations = BruteForceLimiter::builder(config.limits.register_policy()?)
            .clock(Arc::clone(&clock))
            .build()?;
        // Token lifetimes: subject-wide revocations outlive the longest access token
        // (AUTH_ACCESS_TOKEN_TTL may exceed an hour); refresh tokens live AUTH_REFRESH_TOKEN_TTL.
        demo.accounts = AccountKeys::new(Some(&config.issuer));
        demo.revoker = Revoker::builder(Arc::clone(demo.revoker.store()))
            .max_token_lifetime(demo.max_token_lifetime())
            .clock(Arc::clone(&clock))
            .build()?;
        demo.refresh =
            demo.refresh_tokens(Arc::clone(demo.refresh.store()), config.lifetimes.refresh)?;
        demo.outbound = config
            .outbound
            .as_ref()
            .map(|o| o.build(Arc::clone(&clock)))
            .transpose()?;
        demo.introspector = match &config.oidc {
            Some(oidc) => oidc
                .introspection
                .as_ref()
                .map(|i| i.build(&oidc.issuer, &oidc.audience, &clock))
                .transpose()?,
            None => None,
        };
        demo.trusted_proxies = config.trusted_proxies.clone();
        demo.allowed_origins.clone_from(&config.allowed_origins);
        demo.mfa_keys = config.mfa_keys.clone();
        demo.mfa = mfa::in_memory(&demo.mfa_keys, &clock)?;
        provider_login::configure(&mut demo, &config.login, &clock)?;
        demo.resource = resource::ResourceServer::new(
            config.dpop,
            config.login.public_url(),
            Arc::clone(&clock),
        )?;
        Ok((demo, oidc))
    }

    /// A `BearerLayer` over the demo's verifier: realm [`REALM`], the token from
    /// `Authorization: Bearer` or the access cookie, revoked tokens refused (`TOKEN_REVOKED`).
    ///
    /// # Errors
    ///
    /// When the realm or cookie name is invalid (they are fixed and valid).
    pub fn bearer(&self) -> Result<BearerLayer, ConfigError> {
        self.bearer_builder().build()
    }

    /// [`bearer`](Self::bearer) in optional mode: anonymous requests pass without a principal.
    ///
    /// # Errors
    ///
    /// As [`bearer`](Self::bearer).
    pub fn optional_bearer(&self) -> Result<BearerLayer, ConfigError> {
        self.bearer_builder().optional().build()
    }

    /// The bearer layer of the API routes: [`bearer_builder_plain`](Self::bearer_builder_plain)
    /// with DPoP (`AUTH_DPOP`) and the API's protected resource metadata.
    fn bearer_builder(&self) -> auth_tower::bearer::BearerLayerBuilder {
        self.resource.apply(self.bearer_builder_plain())
    }

    /// Realm, cookie, revocation, introspection and token cache, without DPoP or resource
    /// metadata.
    pub(crate) fn bearer_builder_plain(&self) -> auth_tower::bearer::BearerLayerBuilder {
        let builder = BearerLayer::builder(self.verifier.clone())
            .realm(REALM)
            .cookie(self.cookies.access_name())
            .revocation(Arc::clone(self.revoker.store()));
        let builder = match &self.introspector {
            Some(i) => builder.introspection(i.clone()),
            None => builder,
        };
        match &self.token_cache {
            Some(cache) => builder.token_cache(cache.clone()),
            None => builder,
        }
    }

    /// A `CsrfLayer`: unsafe requests that a cookie authenticated (or, on a route without an
    /// authentication layer, that carry one of `session_cookies`) must echo the CSRF cookie in
    /// `X-CSRF-Token` (and come from an allowed origin, when origins are configured). Requests a
    /// header credential (bearer token, API key) authenticated are exempt, so the layer goes
    /// inside the authentication layers: `.route_layer(csrf)` before their `.route_layer(..)`.
    ///
    /// # Errors
    ///
    /// When an allowed origin is not `http(s)://host[:port]` in lower case.
    pub fn csrf(&self, session_cookies: &[&str]) -> Result<CsrfLayer, ConfigError> {
        let mut b = CsrfLayer::builder().double_submit(self.cookies.csrf_name());
        for cookie in session_cookies {
            b = b.session_cookie(*cookie);
        }
        for origin in &self.allowed_origins {
            b = b.allowed_origin(origin.clone());
        }
        b.build()
    }
}

fn token_issuer(
    ring: KeyRing,
    issuer: &str,
    audience: &str,
    lifetime: Duration,
    clock: &Arc<dyn Clock>,
) -> Result<TokenIssuer, ConfigError> {
    TokenIssuer::builder(ring)
        .issuer(issuer)
        .audience(audience)
        .lifetime(lifetime)
        .clock(Arc::clone(clock))
        .build()
}
