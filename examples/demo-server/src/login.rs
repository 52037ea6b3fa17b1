//! `POST /auth/register` and `POST /auth/login`: accounts in, token pairs out.
//!
//! | route | answer | when |
//! |---|---|---|
//! | `POST /auth/register` | 201 `{"sub","email","roles","scopes"}` | a new email and a password of 8 to 128 characters |
//! | | 429 `TOO_MANY_ATTEMPTS` + `Retry-After` | more than 5 registrations from the client address in 10 minutes (`AUTH_DEMO_REGISTER_LIMIT`), before anything is hashed |
//! | | 422 `INVALID_PASSWORD` | the password is shorter than 8 or longer than 128 characters (the message says which) |
//! | | 422 `INVALID_EMAIL` | the email does not look like `name@domain` |
//! | | 409 `EMAIL_TAKEN` | an account with this email exists, or it is a seeded account's (`demo@example.com`, `AUTH_DEMO_ADMIN_EMAIL`); answered after the same Argon2 hash as a new email, so its timing tells nothing more than its status |
//! | `POST /auth/login` | 200 `{"access_token","token_type":"Bearer","expires_in":900,"refresh_token","refresh_expires_in","scope"}` | right email and password |
//! | | 401 `INVALID_CREDENTIALS` | wrong password **or** unknown email (the same body, and the same Argon2 work) |
//! | | 401 `MFA_REQUIRED` + `{"mfa_token","methods":["totp","recovery_code"]}` | right password for an account with TOTP: no tokens; `POST /auth/mfa/verify` finishes the login (see [`crate::mfa`]) |
//! | | 429 `TOO_MANY_ATTEMPTS` + `Retry-After` | the brute-force policy refused the attempt |
//! | both | 400 / 415 / 422 `INVALID_REQUEST` | not a JSON `{"email","password"}` body sent as `application/json` (not counted as a login failure) |
//! | both | 503 `AUTH_BACKEND_UNAVAILABLE` + `Retry-After: 1` | password hashing is busy: every slot (`AUTH_PASSWORD_MAX_CONCURRENT`) stayed taken for `AUTH_PASSWORD_MAX_WAIT_MS` |
//! | both | 503 `AUTH_BACKEND_UNAVAILABLE` | a store failed, or (login) the demo has only a public key and cannot sign tokens |
//!
//! **Account existence.** The 409 says an email is taken: registration is an account oracle by
//! design (the trade-off of telling a user their email is already registered). What it no
//! longer does is answer a taken email faster than a new one: both cost one Argon2 hash, and
//! the per-client limit (5 per 10 minutes) bounds how many emails anyone can test. Login never
//! tells them apart (same 401, same work).
//!
//! Passwords are hashed with Argon2id at OWASP's parameters (19 MiB, 2 iterations, 1 lane), off
//! the async runtime, at most `AUTH_PASSWORD_MAX_CONCURRENT` at once (default: the number of
//! CPUs) in as many reused 19 MiB buffers, so a flood of logins or registrations cannot grow
//! memory (see [`crate::limits`] and `auth_core::password`). Registration is limited per client
//! address like login (the same `BruteForceLayer`, its own policy and keys,
//! [`RegistrationKey`]; trusted proxies as for login). Emails are trimmed and lower-cased. An unknown email still costs one
//! Argon2 verification against a dummy hash, so timing does not tell it from a wrong password.
//! The login handler reports every attempt to `BruteForceLayer` as a [`LoginAttempt`] response
//! extension, for unknown emails too. A right password is a success even when the second factor
//! is still to come (`MFA_REQUIRED`): the password limiter guards the password, which was right,
//! and the second factor has a throttle of its own (per account, every client). Neither passwords nor hashes nor tokens are ever logged
//! or echoed in an error.
//!
//! One account is seeded: `demo@example.com` (subject `demo-user`) with the password from
//! `AUTH_DEMO_PASSWORD`, default [`DEFAULT_DEMO_PASSWORD`]; with `AUTH_DEMO_ADMIN_EMAIL` and
//! `AUTH_DEMO_ADMIN_PASSWORD`, the admin account too (subject `demo-admin`). A registered account
//! is always a `user`: roles follow the subject, never the email (see [`crate::roles`]).

use std::sync::Arc;

use auth_axum_extractors::openapi::{self, Access, SecuredRoutes};
use auth_core::audit::Method;
use auth_core::brute_force::{ClientKey, LoginAttempt};
use auth_core::clock::Clock as _;
use auth_core::mfa::AuthContext;
use auth_core::{AuthError, ConfigError};
use auth_tower::brute_force::{BruteForceLayer, KeyExtractor, PeerIp};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::Demo;
use crate::limits::BUSY_RETRY_AFTER_SECS;
use crate::tokens::{Tokens, error, json_body, no_store, rejection};
use crate::users::{Account, AuthenticateError, RegisterError, normalize_email};

pub use crate::users::{DEFAULT_DEMO_PASSWORD, DEMO_EMAIL, DemoPassword};

/// The body of both routes.
#[derive(Deserialize)]
pub(crate) struct Credentials {
    pub(crate) email: String,
    pub(crate) password: String,
}

pub(crate) const CREDENTIALS_SHAPE: &str = r#"{"email":"...","password":"..."}"#;

/// A `BruteForceLayer` over the demo's limiter and trusted proxies.
///
/// # Errors
///
/// When the layer's configuration is invalid.
pub fn brute_force_layer(demo: &Demo) -> Result<BruteForceLayer, ConfigError> {
    BruteForceLayer::builder(demo.brute_force.clone())
        .trusted_proxies(demo.trusted_proxies.clone())
        .build()
}

/// The client key of a registration: the client's address as for login ([`PeerIp`], trusted
/// proxies honoured), named `register:<address>` so that registrations and logins keep separate
/// counters even in one attempt store (registering never uses up login attempts, nor the
/// reverse).
#[derive(Clone, Debug)]
pub struct RegistrationKey(PeerIp);

impl RegistrationKey {
    /// Keys by the address `peer` finds.
    #[must_use]
    pub fn new(peer: PeerIp) -> Self {
        Self(peer)
    }
}

impl KeyExtractor for RegistrationKey {
    fn extract<B>(&self, request: &Request<B>) -> Option<ClientKey> {
        let client = self.0.extract(request)?;
        Some(ClientKey::named(format!("register:{client}")))
    }
}

/// A `BruteForceLayer` that limits registrations per client address
/// ([`Demo::registrations`], [`RegistrationKey`]).
///
/// # Errors
///
/// When the layer's configuration is invalid.
pub fn registration_layer(demo: &Demo) -> Result<BruteForceLayer<RegistrationKey>, ConfigError> {
    let key = RegistrationKey::new(PeerIp::new().trusted_proxies(demo.trusted_proxies.clone()));
    Ok(BruteForceLayer::builder(demo.registrations.clone())
        .build()?
        .key_extractor(key))
}

/// `POST /auth/login` behind a `BruteForceLayer`, and `POST /auth/register` behind the
/// per-client registration limit.
///
/// # Errors
///
/// When the layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    Ok(SecuredRoutes::new()
        .route(
            "/auth/login",
            openapi::post(login)
                .route_layer(crate::audit::layer(demo, Method::Login))
                .route_layer(brute_force_layer(demo)?),
            Access::public(),
        )?
        .route(
            "/auth/register",
            openapi::post(register).route_layer(registration_layer(demo)?),
            Access::public(),
        )?
        .with_state(Arc::new(Tokens::of(demo))))
}

/// 503 `AUTH_BACKEND_UNAVAILABLE` with `Retry-After`: password hashing is busy.
pub(crate) fn busy() -> Response {
    tracing::warn!(target: "demo::login", "password hashing busy; answered 503");
    let mut res = rejection(AuthError::BackendUnavailable(
        "password hashing busy".into(),
    ));
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(BUSY_RETRY_AFTER_SECS),
    );
    res
}

/// Checks the credentials in `body`. `Err` is the whole answer: malformed body (not counted by
/// the brute-force layer as a failure), a failed store (neutral) or 401 with a failure
/// [`LoginAttempt`]. `Ok` carries the account and the success attempt to attach to the answer.
pub(crate) async fn check_credentials(
    tokens: &Tokens,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<(Account, LoginAttempt), Box<Response>> {
    // Not a credential check: the layer counts it towards the rate limit only.
    let body = json_body(body, CREDENTIALS_SHAPE)?;
    let email = normalize_email(&body.email);
    match tokens.users.authenticate(&email, body.password).await {
        Ok(Some(account)) => Ok((account, LoginAttempt::success(email))),
        Ok(None) => Err(Box::new(
            (
                Extension(LoginAttempt::failure(email)),
                rejection(AuthError::InvalidCredentials),
            )
                .into_response(),
        )),
        Err(AuthenticateError::Busy) => Err(Box::new(busy())),
        Err(e) => {
            tracing::error!(target: "demo::login", error = %e, "password check failed");
            Err(Box::new(rejection(AuthError::BackendUnavailable(
                "password check failed".into(),
            ))))
        }
    }
}

async fn login(
    State(tokens): State<Arc<Tokens>>,
    headers: HeaderMap,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Response {
    let issuer = match tokens.issuer() {
        Ok(i) => i.clone(),
        Err(res) => return *res,
    };
    // A DPoP proof binds the token to its key (checked before the password, so a bad proof
    // costs no hashing and is not a failed login).
    let jkt = match tokens.resource.login_binding(&headers).await {
        Ok(jkt) => jkt,
        Err(res) => return *res,
    };
    let (account, attempt) = match check_credentials(&tokens, body).await {
        Ok(ok) => ok,
        Err(res) => return *res,
    };
    match crate::mfa::challenge(&tokens, &account, crate::mfa::API_LOGIN).await {
        Ok(None) => {}
        // The password was right: the brute-force layer forgets the account's failures.
        Ok(Some(challenge)) => return (Extension(attempt), challenge).into_response(),
        Err(e) => return rejection(e),
    }
    let context = AuthContext::password(tokens.clock.now());
    match tokens.start_bound(&issuer, &account, &context, jkt).await {
        Ok(pair) => (Extension(attempt), pair.response()).into_response(),
        Err(e) => rejection(e),
    }
}

async fn register(
    State(tokens): State<Arc<Tokens>>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Response {
    let body = match json_body(body, CREDENTIALS_SHAPE) {
        Ok(b) => b,
        Err(res) => return *res,
    };
    match tokens.users.register(&body.email, body.password).await {
        Ok(account) => {
            let role = tokens.roles.role_of(&account.subject);
            tracing::info!(target: "demo::login", subject = account.subject.as_str(), "account registered");
            no_store(
                (
                    StatusCode::CREATED,
                    Json(json!({
                        "sub": account.subject,
                        "email": account.email,
                        "roles": [role.as_str()],
                        "scopes": role.default_scopes(),
                    })),
                )
                    .into_response(),
            )
        }
        Err(e @ RegisterError::InvalidEmail) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_EMAIL",
            &e.to_string(),
        ),
        Err(e @ RegisterError::InvalidPassword(_)) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_PASSWORD",
            &e.to_string(),
        ),
        Err(e @ RegisterError::EmailTaken) => {
            error(StatusCode::CONFLICT, "EMAIL_TAKEN", &e.to_string())
        }
        Err(RegisterError::Busy) => busy(),
        Err(e) => {
            tracing::error!(target: "demo::login", error = %e, "registration failed");
            rejection(AuthError::BackendUnavailable("registration failed".into()))
        }
    }
}
