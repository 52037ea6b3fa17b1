//! Two-factor login with TOTP (authenticator apps), recovery codes and step-up for sensitive
//! routes, over `auth_core::mfa` and `auth_tower::step_up`.
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `POST /auth/mfa/totp/enroll` | bearer, or session cookie + `X-CSRF-Token` | 200 `{"secret","otpauth_uri","qr_svg"}` (a pending enrolment; enrolling again replaces it); 409 `MFA_ALREADY_ENABLED` |
//! | `POST /auth/mfa/totp/confirm` `{"code"}` | as enroll | 200 `{"recovery_codes":[..10..]}`: TOTP is on; 400 `INVALID_OTP` (wrong code, or no pending enrolment); 429 `TOO_MANY_ATTEMPTS` |
//! | `POST /auth/mfa/verify` `{"mfa_token","code"}` or `{"mfa_token","recovery_code"}` | none; brute-force protected as the login routes | what the password login would have answered (a token pair, or the session cookies); 401 `INVALID_OTP` / `INVALID_MFA_TOKEN`; 429 `TOO_MANY_ATTEMPTS` + `Retry-After` |
//! | `POST /auth/mfa/totp/disable` | as enroll, **and** step-up | 204: TOTP and recovery codes removed; 409 `MFA_NOT_ENABLED` |
//! | `POST /auth/mfa/recovery-codes` | as enroll, **and** step-up | 200 `{"recovery_codes":[..10..]}` (the old ones stop working); 409 `MFA_NOT_ENABLED` |
//!
//! # The login
//!
//! `POST /auth/login` and `POST /auth/session/login` for an account with active TOTP answer,
//! after a right password, **401** `{"error":{"code":"MFA_REQUIRED","message":..},
//! "mfa_token":"..","methods":["totp","recovery_code"]}` with `Cache-Control: no-store`, no
//! `WWW-Authenticate`, no tokens and no cookies. The `mfa_token` is opaque (256 random bits, the
//! store keeps a SHA-256 digest), valid 5 minutes, single-use, and bound to its login: sent to
//! `POST /auth/mfa/verify` with a code, it answers exactly as that login would have (the token
//! pair of `/auth/login`, or the cookies and body of `/auth/session/login` with a new CSRF
//! token). A wrong code leaves the `mfa_token` usable (until it expires); a replayed code is
//! answered as a wrong one.
//!
//! # Claims
//!
//! Every access token says how its session's login authenticated: `amr` `["pwd"]` after a
//! password alone, `["pwd","otp","mfa"]` with `acr` `aal2` after a second factor (a TOTP or a
//! recovery code), and `auth_time`, when that login completed. The context is kept per session
//! (refresh family) and a refresh copies it unchanged: a refreshed token keeps the original
//! `auth_time`.
//!
//! # Step-up
//!
//! `POST /auth/mfa/totp/disable` and `POST /auth/mfa/recovery-codes` require `amr` containing
//! `otp` and an `auth_time` within the last 5 minutes ([`step_up_requirement`]); otherwise 401
//! `INSUFFICIENT_USER_AUTHENTICATION` with the RFC 9470 challenge
//! `WWW-Authenticate: Bearer realm="auth-demo", error="insufficient_user_authentication",
//! error_description="a different or more recent authentication is required", max_age=300`.
//! The client logs in again with its second factor and retries. A login by recovery code
//! passes too, so a user who lost the authenticator can turn TOTP off and enrol a new secret.
//!
//! # Throttling
//!
//! Confirmation and verification codes count per account (`auth_core::mfa::default_mfa_policy`:
//! 5 wrong codes lock the second factor for 15 minutes, then 1 hour, then 24 hours, for every
//! client; 429 `TOO_MANY_ATTEMPTS` with `Retry-After`, even for a right code). The MFA counts
//! live in the login limiter's attempt store under keys of their own (`mfa:<account>`).
//! `POST /auth/mfa/verify` is also behind the login routes' `BruteForceLayer` (per client
//! address).
//!
//! # Secrets at rest
//!
//! TOTP secrets are sealed with AES-256-GCM under `AUTH_MFA_SEALING_KEY`, bound to the account;
//! recovery codes are kept as HMAC-SHA256 digests under `AUTH_MFA_RECOVERY_KEY`; `mfa_token`s
//! as SHA-256 digests. The keys never enter the store (see [`keys`] for the variables and
//! why Redis requires them). The secret is shown once, at enrolment; recovery codes once, at
//! confirmation or regeneration.

mod context;
pub mod keys;
mod routes;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use auth_axum_extractors::openapi::{self, Access, SecuredRoutes};
use auth_core::brute_force::BruteForceLimiter;
use auth_core::clock::Clock;
use auth_core::mfa::{
    MemoryMfaTokenStore, MemoryRecoveryCodeStore, MemoryTotpStore, Mfa, MfaChallenge,
    MfaTokenStore, RecoveryCodeStore, TotpStore, amr, default_mfa_policy,
};
use auth_core::{AuthError, ConfigError, ErrorCode};
use auth_tower::Rejection;
use auth_tower::step_up::{StepUpLayer, StepUpRequirement};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub use keys::MfaKeys;

use crate::login::brute_force_layer;
use crate::session::Session;
use crate::tokens::{Tokens, no_store};
use crate::users::Account;
use crate::{Demo, REALM};

/// The binding of an MFA login started by `POST /auth/login`: completed with a token pair.
pub const API_LOGIN: &str = "api";

/// The binding of an MFA login started by `POST /auth/session/login`: completed with cookies.
pub const SESSION_LOGIN: &str = "session";

/// How recent the second factor must be for the step-up routes: 5 minutes.
pub const STEP_UP_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// What the step-up routes require: `amr` containing `otp`, `auth_time` within
/// [`STEP_UP_MAX_AGE`].
///
/// # Errors
///
/// Never in practice (the values are valid constants).
pub fn step_up_requirement() -> Result<StepUpRequirement, ConfigError> {
    StepUpRequirement::builder()
        .amr(amr::OTP)
        .max_age(STEP_UP_MAX_AGE)
        .build()
}

/// An [`Mfa`] over `keys` and the given stores and limiter, reading `clock`.
pub(crate) fn service(
    keys: &MfaKeys,
    totp: Arc<dyn TotpStore>,
    recovery: Arc<dyn RecoveryCodeStore>,
    tokens: Arc<dyn MfaTokenStore>,
    limiter: BruteForceLimiter,
    clock: &Arc<dyn Clock>,
) -> Result<Mfa, ConfigError> {
    keys.builder()
        .totp_store(totp)
        .recovery_store(recovery)
        .token_store(tokens)
        .limiter(limiter)
        .clock(Arc::clone(clock))
        .build()
}

/// An [`Mfa`] over `keys` with in-memory stores and its own in-memory limiter.
pub(crate) fn in_memory(keys: &MfaKeys, clock: &Arc<dyn Clock>) -> Result<Mfa, ConfigError> {
    let limiter = BruteForceLimiter::builder(default_mfa_policy()?)
        .clock(Arc::clone(clock))
        .build()?;
    service(
        keys,
        Arc::new(MemoryTotpStore::new()),
        Arc::new(MemoryRecoveryCodeStore::new()),
        Arc::new(MemoryMfaTokenStore::new()),
        limiter,
        clock,
    )
}

/// The MFA routes (see the module docs).
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let state = Session::of(demo)?;
    let bearer = demo.bearer()?;
    let csrf = demo.csrf(&[demo.cookies.access_name()])?;
    let step_up = StepUpLayer::new(step_up_requirement()?)
        .clock(Arc::clone(&demo.clock))
        .realm(REALM)?;
    // Layers run outermost last: bearer, then CSRF (it reads how the bearer layer found the
    // token), then step-up (it reads the principal's claims).
    let access = || Access::authenticated(crate::openapi::BEARER_SCHEMES);
    let secured = || SecuredRoutes::with_scope_layer(crate::openapi::scope_layer);
    let enrolment = secured()
        .route(
            "/auth/mfa/totp/enroll",
            openapi::post(routes::enroll),
            access(),
        )?
        .route(
            "/auth/mfa/totp/confirm",
            openapi::post(routes::confirm),
            access(),
        )?
        .route_layer(csrf.clone())
        .route_layer(bearer.clone());
    let sensitive = secured()
        .route(
            "/auth/mfa/totp/disable",
            openapi::post(routes::disable),
            access(),
        )?
        .route(
            "/auth/mfa/recovery-codes",
            openapi::post(routes::regenerate),
            access(),
        )?
        .route_layer(step_up)
        .route_layer(csrf)
        .route_layer(bearer);
    // The mfa_token travels in the body, which OpenAPI security schemes cannot describe.
    Ok(SecuredRoutes::new()
        .route(
            "/auth/mfa/verify",
            openapi::post(verify::verify)
                .route_layer(crate::audit::layer(demo, auth_core::audit::Method::Mfa))
                .route_layer(brute_force_layer(demo)?),
            Access::public(),
        )?
        .merge(enrolment)?
        .merge(sensitive)?
        .with_state(state))
}

/// After a right password for `account`: the `MFA_REQUIRED` answer when the account has a
/// second factor (`None`: finish the login as usual). `binding` is [`API_LOGIN`] or
/// [`SESSION_LOGIN`].
pub(crate) async fn challenge(
    tokens: &Tokens,
    account: &Account,
    binding: &str,
) -> Result<Option<Response>, AuthError> {
    Ok(tokens
        .mfa
        .begin_login(&account.subject, binding)
        .await?
        .map(|c| mfa_required(&c)))
}

/// 401 `MFA_REQUIRED` with the `mfa_token` and the accepted methods; `Cache-Control: no-store`,
/// no challenge header (this answers a login, not a protected resource).
fn mfa_required(challenge: &MfaChallenge) -> Response {
    let code = ErrorCode::MfaRequired;
    let body = json!({
        "error": {"code": code.as_str(), "message": code.message()},
        "mfa_token": challenge.token(),
        "methods": challenge.methods(),
    });
    let mut res = no_store((StatusCode::UNAUTHORIZED, Json(body)).into_response());
    res.extensions_mut()
        .insert(Rejection::from_error(AuthError::MfaRequired));
    res
}
