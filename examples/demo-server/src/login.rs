//! `POST /auth/login`: email and password in, a 15-minute access token out, behind
//! `BruteForceLayer`.
//!
//! | answer | when |
//! |---|---|
//! | 200 `{"access_token","token_type":"Bearer","expires_in":900}` | right email and password |
//! | 401 `INVALID_CREDENTIALS` | wrong password **or** unknown email (the same body, and the same Argon2 work) |
//! | 429 `TOO_MANY_ATTEMPTS` + `Retry-After` | the brute-force policy refused the attempt |
//! | 503 `AUTH_BACKEND_UNAVAILABLE` | the demo only has a public key, so it cannot sign tokens |
//! | 400 / 415 / 422 | not a JSON `{"email","password"}` body (not counted as a failure) |
//!
//! One account is seeded: `demo@example.com` (subject `demo-user`, role `user`, scope
//! `read:orders`) with the password from `AUTH_DEMO_PASSWORD`, default
//! [`DEFAULT_DEMO_PASSWORD`]. Passwords are hashed with Argon2id at OWASP's parameters
//! (19 MiB, 2 iterations, 1 lane), off the async runtime. The handler reports every attempt to
//! the layer as a [`LoginAttempt`] response extension, with the email trimmed and lower-cased,
//! for unknown emails too.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use auth_core::brute_force::LoginAttempt;
use auth_core::clock::Clock;
use auth_core::password::Passwords;
use auth_core::{AuthError, ConfigError};
use auth_tower::Rejection;
use auth_tower::brute_force::BruteForceLayer;
use auth_tower::response::{JsonRejection, RejectionResponse};
use axum::extract::State;
use axum::extract::rejection::JsonRejection as BodyRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::Demo;
use crate::config::{Config, KeySource};

/// The seeded account's email.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The seeded account's password when `AUTH_DEMO_PASSWORD` is not set. Public: change it
/// anywhere but on your own machine.
pub const DEFAULT_DEMO_PASSWORD: &str = "demo-password";
/// Lifetime of the access tokens `/auth/login` issues.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(900);

/// A password held only until it is hashed; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DemoPassword(String);

impl DemoPassword {
    /// Wraps a password.
    #[must_use]
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }
}

impl fmt::Debug for DemoPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DemoPassword(REDACTED)")
    }
}

/// The HS256 secret `/auth/login` signs tokens with; never printed.
#[derive(Clone)]
pub struct SigningSecret(Arc<[u8]>);

impl SigningSecret {
    /// Wraps secret bytes (the same secret the verifier checks tokens with).
    #[must_use]
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(Arc::from(secret.into()))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(REDACTED)")
    }
}

/// One account: who it is once logged in.
#[derive(Clone, Debug)]
struct Account {
    phc: String,
    subject: &'static str,
    roles: &'static [&'static str],
    scope: &'static str,
}

#[derive(Debug)]
struct Hashed {
    by_email: HashMap<String, Account>,
    /// Argon2id at OWASP's parameters; verifies unknown emails against a dummy hash.
    passwords: Passwords,
}

/// The demo's in-memory accounts. Hashing happens on first use (off the async runtime), so
/// building a [`Demo`] stays cheap.
#[derive(Clone)]
pub struct Accounts {
    seed: Arc<Mutex<Option<DemoPassword>>>,
    hashed: Arc<OnceLock<Result<Hashed, String>>>,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("emails", &[DEMO_EMAIL])
            .field("hashed", &self.hashed.get().is_some())
            .finish()
    }
}

impl Accounts {
    /// `demo@example.com` with `password`.
    #[must_use]
    pub fn demo(password: DemoPassword) -> Self {
        Self {
            seed: Arc::new(Mutex::new(Some(password))),
            hashed: Arc::new(OnceLock::new()),
        }
    }

    fn hashed(&self) -> Result<&Hashed, String> {
        self.hashed
            .get_or_init(|| {
                let password = self
                    .seed
                    .lock()
                    .map_err(|_| "account seed lock poisoned".to_owned())?
                    .take()
                    .ok_or_else(|| "account seed already used".to_owned())?;
                let passwords = Passwords::owasp();
                let account = Account {
                    phc: passwords.hash(&password.0).map_err(|e| e.to_string())?,
                    subject: "demo-user",
                    roles: &["user"],
                    scope: "read:orders",
                };
                Ok(Hashed {
                    by_email: HashMap::from([(DEMO_EMAIL.to_owned(), account)]),
                    passwords,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The account for `email` if `password` is right. Unknown emails run one verification
    /// against a dummy hash, so both failures take the same time. Blocking: call it off the
    /// async runtime.
    fn verify(&self, email: &str, password: &str) -> Result<Option<Account>, String> {
        let hashed = self.hashed()?;
        let account = hashed.by_email.get(email);
        let ok = hashed
            .passwords
            .verify(account.map(|a| a.phc.as_str()), password)
            .map_err(|e| e.to_string())?;
        Ok(account.filter(|_| ok).cloned())
    }
}

impl Default for Accounts {
    fn default() -> Self {
        Self::demo(DemoPassword::new(DEFAULT_DEMO_PASSWORD))
    }
}

/// Applies the login settings of `config` to `demo`: the account password, the signing secret
/// (only for HS256 secrets; with a public key `/auth/login` answers 503), the token issuer and
/// audience, and the trusted proxies.
pub fn configure(demo: &mut Demo, config: &Config) {
    demo.accounts = Accounts::demo(config.demo_password.clone());
    demo.signing_secret = match &config.key {
        KeySource::Secret(s) | KeySource::Ephemeral(s) => Some(SigningSecret::new(s.clone())),
        KeySource::PublicKey(..) => None,
    };
    demo.token_issuer.clone_from(&config.issuer);
    demo.token_audience.clone_from(&config.audience);
    demo.trusted_proxies = config.trusted_proxies.clone();
}

#[derive(Clone)]
struct LoginState {
    accounts: Accounts,
    secret: Option<SigningSecret>,
    issuer: Arc<str>,
    audience: Arc<str>,
    clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct LoginRequest {
    email: String,
    password: String,
}

/// `POST /auth/login` behind a `BruteForceLayer` over the demo's limiter and trusted proxies.
///
/// # Errors
///
/// When the layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<Router, ConfigError> {
    let layer = BruteForceLayer::builder(demo.brute_force.clone())
        .trusted_proxies(demo.trusted_proxies.clone())
        .build()?;
    let state = LoginState {
        accounts: demo.accounts.clone(),
        secret: demo.signing_secret.clone(),
        issuer: Arc::from(demo.token_issuer.as_str()),
        audience: Arc::from(demo.token_audience.as_str()),
        clock: Arc::clone(demo.verifier.clock()),
    };
    Ok(Router::new()
        .route("/auth/login", post(login).route_layer(layer))
        .with_state(state))
}

fn rejection(error: AuthError) -> Response {
    let rejection = Rejection::from_error(error);
    let mut res: Response = JsonRejection.response(&rejection);
    res.extensions_mut().insert(rejection);
    res
}

async fn login(
    State(state): State<LoginState>,
    body: Result<Json<LoginRequest>, BodyRejection>,
) -> Response {
    // Not a credential check: the layer counts it towards the rate limit only.
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(secret) = state.secret.clone() else {
        tracing::error!(
            target: "demo::login",
            "cannot issue tokens: the demo verifies with a public key; set AUTH_JWT_SECRET"
        );
        let body = json!({"error": {
            "code": "AUTH_BACKEND_UNAVAILABLE",
            "message": "this server verifies tokens with a public key and cannot issue them; \
                        set AUTH_JWT_SECRET to enable /auth/login",
        }});
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    };
    let email = body.email.trim().to_lowercase();
    let accounts = state.accounts.clone();
    let (checked_email, password) = (email.clone(), body.password);
    let verified =
        tokio::task::spawn_blocking(move || accounts.verify(&checked_email, &password)).await;
    let account = match verified {
        Ok(Ok(account)) => account,
        Ok(Err(e)) => {
            tracing::error!(target: "demo::login", error = %e, "password hashing failed");
            return rejection(AuthError::BackendUnavailable(e));
        }
        Err(e) => {
            tracing::error!(target: "demo::login", error = %e, "password check task failed");
            return rejection(AuthError::BackendUnavailable(e.to_string()));
        }
    };
    let Some(account) = account else {
        return (
            Extension(LoginAttempt::failure(email)),
            rejection(AuthError::InvalidCredentials),
        )
            .into_response();
    };
    match issue_token(&state, &secret, &account) {
        Ok(token) => {
            let mut res = Json(json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL.as_secs(),
            }))
            .into_response();
            // RFC 6749 section 5.1: token responses must not be cached.
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            (Extension(LoginAttempt::success(email)), res).into_response()
        }
        Err(e) => {
            tracing::error!(target: "demo::login", error = %e, "signing the token failed");
            rejection(AuthError::BackendUnavailable(e))
        }
    }
}

fn issue_token(
    state: &LoginState,
    secret: &SigningSecret,
    account: &Account,
) -> Result<String, String> {
    let now = state.clock.now().as_secs();
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| e.to_string())?;
    let jti: String = jti.iter().map(|b| format!("{b:02x}")).collect();
    let claims = json!({
        "sub": account.subject,
        "iss": &*state.issuer,
        "aud": &*state.audience,
        "iat": now,
        "exp": now + ACCESS_TOKEN_TTL.as_secs(),
        "jti": jti,
        "roles": account.roles,
        "scope": account.scope,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret.0),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        assert_eq!(
            format!("{:?}", DemoPassword::new("hunter2")),
            "DemoPassword(REDACTED)"
        );
        assert_eq!(
            format!("{:?}", SigningSecret::new(b"k".to_vec())),
            "SigningSecret(REDACTED)"
        );
        assert!(!format!("{:?}", Accounts::default()).contains(DEFAULT_DEMO_PASSWORD));
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let passwords = Passwords::owasp();
        let phc = passwords.hash("password1").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(passwords.verify(Some(&phc), "password1").unwrap());
        assert!(!passwords.verify(Some(&phc), "passworD1").unwrap());
    }

    #[test]
    fn unknown_and_wrong_both_fail_and_the_right_password_passes() {
        let accounts = Accounts::demo(DemoPassword::new("s3cret-password"));
        assert!(accounts.verify(DEMO_EMAIL, "nope").unwrap().is_none());
        assert!(
            accounts
                .verify("who@example.com", "s3cret-password")
                .unwrap()
                .is_none()
        );
        let a = accounts
            .verify(DEMO_EMAIL, "s3cret-password")
            .unwrap()
            .unwrap();
        assert_eq!(a.subject, "demo-user");
    }
}
