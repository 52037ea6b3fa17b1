//! Sign in with an OpenID Provider ("Sign in with acme"), over `auth_core::oidc_login` and
//! `auth_axum_extractors::oidc_login`.
//!
//! | route | answer |
//! |---|---|
//! | `GET /auth/login/{name}?return_to=/path` | 303 to the provider's authorization endpoint (authorization code, PKCE S256, `state`, `nonce`), with the login's transaction cookie; 404 for an unknown name; 503 `AUTH_BACKEND_UNAVAILABLE` when the provider's discovery fails |
//! | `GET /auth/login/{name}?link=true` | the same, from a signed-in browser session (the access cookie): the provider identity will be linked to that account; 401 `MISSING_CREDENTIALS` without a session |
//! | `GET /auth/login/{name}/callback` | signed in: 303 to the return-to path with the session cookies; linked: 303 to the return-to path; refused: 400 `LOGIN_STATE_INVALID` / `LOGIN_FAILED` (+ `provider_error`) / `INVALID_ID_TOKEN`, 409 `IDENTITY_ALREADY_LINKED`, 503 `AUTH_BACKEND_UNAVAILABLE` |
//!
//! Every answer has `Cache-Control: no-store`; every callback answer removes the transaction
//! cookie. The configuration (`AUTH_LOGIN_PROVIDERS`, `AUTH_LOGIN_<NAME>_*`,
//! `AUTH_DEMO_PUBLIC_URL`, `AUTH_LOGIN_SEALING_KEY`) is in [`config`].
//!
//! # The sign-in
//!
//! The callback checks `state` against this browser's transaction cookie (once: a replay is
//! refused before the code is sent), `iss`, the provider's `error`, exchanges the code and
//! validates the ID token (see `auth_core::oidc_login`). Then the local account linked to the
//! token's `(iss, sub)` signs in; on the first sign-in an account is created for it (id
//! `usr_...`, no password, the ID token's email kept for display only). Provider and password
//! accounts are the same kind of account (same store, roles, sessions, API keys, second
//! factor); an account a provider created has no password, so a password login to it fails
//! like a wrong password. Accounts are **never** matched by email: an account registered with
//! a password stays apart from a provider account asserting the same address until its owner
//! links them.
//!
//! The session starts exactly as `POST /auth/session/login` starts one: a new session (refresh
//! family), the `access_token`, `refresh_token` and a new `csrf_token` cookie, then 303 to the
//! return-to path (a same-origin relative path; anything else, e.g. `//evil.example`, becomes
//! `/`). Its tokens carry `amr` `["ext"]` (authenticated by an external provider; not `pwd`),
//! no `acr`, and `auth_time` when the callback completed.
//!
//! # Linking
//!
//! A signed-in user opens `GET /auth/login/{name}?link=true`; the account is sealed into the
//! login's transaction, and after the callback the identity is linked to it (the browser must
//! still be signed in to that account, else 400 `LOGIN_STATE_INVALID`); the session is kept as
//! it is. An identity is linked to at most one account: one already linked elsewhere is 409
//! `IDENTITY_ALREADY_LINKED` (linking it again to the same account is fine). An account may
//! have several identities (several providers, or several accounts at one provider); each of
//! them then signs in to it. `GET /api/me` lists them as
//! `"identities":[{"provider","iss","sub"}]`.
//!
//! # Second factor
//!
//! A provider sign-in to an account with TOTP does **not** start a session: the callback
//! answers 303 to `/` with a `mfa_login` cookie (the `mfa_token`, readable by the page's
//! script, 5 minutes, `SameSite=Lax`), and `POST /auth/mfa/verify` with that token and a code
//! finishes it with the session cookies (as for `POST /auth/session/login`). That session's
//! tokens carry `amr` `["ext","otp","mfa"]` and `acr` `aal2`, which the step-up routes accept.

pub mod config;
mod hooks;

use auth_axum_extractors::oidc_login::LoginRoutes;
use auth_axum_extractors::openapi::{self, Access, Scheme, SecuredRoutes};
use auth_core::ConfigError;
use auth_core::clock::{Clock, UnixTime};
use auth_core::mfa::{AuthContext, DEFAULT_MFA_ACR};
use auth_core::oidc_login::UsedStateStore;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use std::sync::Arc;

pub use config::LoginConfig;

use crate::Demo;
use hooks::Hooks;

/// The `amr` value of a session a provider sign-in started: "authenticated by an external
/// OpenID Provider" (the demo does not vouch for how).
pub const EXTERNAL_AMR: &str = "ext";

/// The binding of an MFA login started by a provider sign-in: completed with cookies, its
/// context `["ext","otp","mfa"]`.
pub const PROVIDER_SESSION_LOGIN: &str = "provider-session";

/// The cookie that hands the page the `mfa_token` of a provider sign-in that needs a second
/// factor.
pub const MFA_LOGIN_COOKIE: &str = "mfa_login";

/// The context of a provider sign-in completed at `at`: `amr` `["ext"]`.
#[must_use]
pub fn external_context(at: UnixTime) -> AuthContext {
    AuthContext::new([EXTERNAL_AMR], None, at)
}

/// The context of a provider sign-in whose second factor `verified` (the context
/// `auth_core::mfa` made: `["pwd","otp","mfa"]`) vouches for: `["ext","otp","mfa"]`, its `acr`
/// and `auth_time`. The password was never asked, so `pwd` is not claimed.
#[must_use]
pub fn external_second_factor_context(verified: &AuthContext) -> AuthContext {
    external_context(verified.auth_time())
        .with_second_factor(verified.acr().unwrap_or(DEFAULT_MFA_ACR))
}

/// Builds [`Demo::provider_login`] from `config` with in-memory used states (and keeps the
/// configuration so [`use_used_states`] can rebuild it over a shared store).
///
/// # Errors
///
/// When the login cannot be built.
pub(crate) fn configure(
    demo: &mut Demo,
    config: &LoginConfig,
    clock: &Arc<dyn Clock>,
) -> Result<(), ConfigError> {
    demo.provider_login = config.build(
        Arc::new(auth_core::oidc_login::MemoryUsedStateStore::new()),
        Arc::clone(clock),
    )?;
    demo.login_config = config.is_enabled().then(|| config.clone());
    Ok(())
}

/// Rebuilds [`Demo::provider_login`] over `used` (a store shared by every instance).
///
/// # Errors
///
/// With `shared` stores, when providers are configured but `AUTH_LOGIN_SEALING_KEY` is not
/// (another instance could not open this one's transactions).
pub(crate) fn use_used_states(
    demo: &mut Demo,
    used: Arc<dyn UsedStateStore>,
    shared: bool,
) -> Result<(), ConfigError> {
    let Some(config) = &demo.login_config else {
        return Ok(());
    };
    if shared && !config.key_is_configured() {
        return Err(ConfigError::Input(format!(
            "REDIS_URL is set and {} names login providers, so every instance must open the \
             others' login transactions: set {} (`base64:` + 32 random bytes, the same on \
             every instance)",
            config::PROVIDERS_VAR,
            config::SEALING_KEY_VAR,
        )));
    }
    demo.provider_login = config.build(used, Arc::clone(&demo.clock))?;
    Ok(())
}

/// `GET /auth/login/{name}` and `GET /auth/login/{name}/callback` (nothing without providers).
///
/// The two routes are plain routes over [`LoginRoutes::begin`] and [`LoginRoutes::callback`]
/// rather than `nest_service("/auth/login", ..)`: nesting would also claim `/auth/login`
/// itself, where `POST /auth/login` lives.
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let Some(login) = demo.provider_login.clone() else {
        return Ok(SecuredRoutes::new());
    };
    let routes = LoginRoutes::new(login, Hooks::of(demo)?);
    // `?link=true` links the provider identity to the session's account (401 without one).
    Ok(SecuredRoutes::new()
        .route(
            "/auth/login/{provider}",
            openapi::get(begin),
            Access::optional([Scheme::SESSION_COOKIE]),
        )?
        .route(
            "/auth/login/{provider}/callback",
            openapi::get(callback),
            // The transaction cookie is the login's state, not a credential: 400 without it.
            Access::public(),
        )?
        .with_state(routes))
}

async fn begin(
    State(routes): State<LoginRoutes<Hooks>>,
    Path(provider): Path<String>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    routes.begin(&provider, &parts).await
}

async fn callback(
    State(routes): State<LoginRoutes<Hooks>>,
    Path(provider): Path<String>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    routes.callback(&provider, parts).await
}
