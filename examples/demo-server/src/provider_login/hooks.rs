//! What the demo does around a provider login ([`LoginHooks`]): who is signed in (for
//! `?link=true`), and, after a verified callback, the account, the link or the session.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_axum_extractors::oidc_login::{LoginHooks, error_response};
use auth_core::clock::Clock as _;
use auth_core::mfa::MfaChallenge;
use auth_core::oidc_login::{CompletedLogin, IdentityStore, SignIn, link_identity, sign_in};
use auth_core::revocation::TokenRef;
use auth_core::{AuthError, ConfigError, ErrorCode};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{MFA_LOGIN_COOKIE, PROVIDER_SESSION_LOGIN, external_context};
use crate::Demo;
use crate::session::{Session, add_session_cookies, cookie, new_csrf_token};
use crate::tokens::{no_store, rejection};
use crate::users::{Account, new_user_id};

const TARGET: &str = "demo::provider_login";

/// The demo's [`LoginHooks`]: the session routes' state and the identity store.
#[derive(Clone)]
pub(crate) struct Hooks {
    session: Session,
    identities: Arc<dyn IdentityStore>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("identities", &self.identities)
            .finish_non_exhaustive()
    }
}

impl Hooks {
    pub(crate) fn of(demo: &Demo) -> Result<Self, ConfigError> {
        Ok(Self {
            session: Session::of(demo)?,
            identities: Arc::clone(&demo.identities),
        })
    }

    /// The account of the browser session on `parts`: its access cookie verified as the bearer
    /// layer verifies it (signature, claims, revocation), and a token of the demo's own.
    async fn signed_in(&self, parts: &Parts) -> Option<String> {
        let tokens = &self.session.tokens;
        let token = cookie(&parts.headers, tokens.cookies.access_name())?;
        let principal = match tokens.verifier.verify(token).await {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(target: TARGET, code = %e.code(), "access cookie refused");
                return None;
            }
        };
        if !tokens.accounts.is_local(&principal) {
            return None;
        }
        let now = tokens.clock.now();
        match tokens
            .revoker
            .store()
            .is_revoked(TokenRef::of(&principal), now)
            .await
        {
            Ok(false) => Some(principal.subject().to_owned()),
            Ok(true) => {
                tracing::debug!(target: TARGET, "access cookie revoked");
                None
            }
            Err(e) => {
                tracing::error!(target: TARGET, error = %e, "revocation store failed");
                None
            }
        }
    }

    /// Links the login's identity to `account`, the account that started the link, if this
    /// browser is still signed in to it.
    async fn link(&self, login: &CompletedLogin, account: &str, parts: &Parts) -> Response {
        if self.signed_in(parts).await.as_deref() != Some(account) {
            tracing::info!(
                target: TARGET,
                provider = login.provider(),
                "link refused: the session that started it is gone"
            );
            return error_response(ErrorCode::LoginStateInvalid, None);
        }
        match link_identity(&*self.identities, login, account).await {
            Ok(_) => {
                tracing::info!(
                    target: TARGET,
                    provider = login.provider(),
                    account,
                    "provider identity linked"
                );
                see_other(login.return_to())
            }
            Err(e) => {
                tracing::info!(target: TARGET, provider = login.provider(), account, error = %e, "link refused");
                error_response(e.code(), None)
            }
        }
    }

    /// The local account of the login: linked, or created now for a first sign-in.
    async fn account(&self, login: &CompletedLogin) -> Result<Account, AuthError> {
        let users = &self.session.tokens.users;
        let fresh = new_user_id().map_err(AuthError::BackendUnavailable)?;
        let signed = sign_in(&*self.identities, login, &fresh)
            .await
            .map_err(|e| backend("identity store", &e))?;
        let subject = signed.account();
        if let Some(account) = users
            .by_subject(subject)
            .await
            .map_err(|e| backend("user store", &e))?
        {
            return Ok(account);
        }
        // The account of a first sign-in, or of an earlier one that linked the identity but
        // stopped before creating it (only ids this route makes: never a seeded account).
        let ours = matches!(signed, SignIn::Created(_)) || subject.starts_with("usr_");
        if !ours {
            tracing::error!(target: TARGET, account = subject, "linked account does not exist");
            return Err(AuthError::BackendUnavailable(
                "linked account missing".into(),
            ));
        }
        let account = users
            .create_without_password(subject, login.email())
            .await
            .map_err(|e| backend("user store", &e))?;
        tracing::info!(target: TARGET, provider = login.provider(), account = subject, "account created by a provider sign-in");
        Ok(account)
    }

    /// Signs the login's account in: a cookie session as `POST /auth/session/login` starts one,
    /// or the second step when the account has TOTP.
    async fn sign_in(&self, login: &CompletedLogin) -> Response {
        let tokens = &self.session.tokens;
        let issuer = match tokens.issuer() {
            Ok(i) => i.clone(),
            Err(res) => return *res,
        };
        let account = match self.account(login).await {
            Ok(a) => a,
            Err(e) => return rejection(e),
        };
        match tokens
            .mfa
            .begin_login(&account.subject, PROVIDER_SESSION_LOGIN)
            .await
        {
            Ok(None) => {}
            Ok(Some(challenge)) => {
                tracing::info!(target: TARGET, provider = login.provider(), account = account.subject.as_str(), "provider sign-in needs the second factor");
                return second_step(&challenge);
            }
            Err(e) => return rejection(e),
        }
        let csrf = match new_csrf_token() {
            Ok(t) => t,
            Err(res) => return *res,
        };
        let context = external_context(login.completed_at());
        match tokens.start(&issuer, &account, &context).await {
            Ok(pair) => {
                tracing::info!(target: TARGET, provider = login.provider(), account = account.subject.as_str(), "signed in with a provider");
                add_session_cookies(&self.session, &pair, &csrf, see_other(login.return_to()))
            }
            Err(e) => rejection(e),
        }
    }
}

impl LoginHooks for Hooks {
    async fn current_account(&self, parts: &Parts) -> Option<String> {
        self.signed_in(parts).await
    }

    async fn completed(&self, login: CompletedLogin, parts: Parts) -> Response {
        match login.link_to() {
            Some(account) => self.link(&login, account, &parts).await,
            None => self.sign_in(&login).await,
        }
    }
}

/// 303 to `path` (a sanitised same-origin path), `Cache-Control: no-store`.
fn see_other(path: &str) -> Response {
    let location = HeaderValue::try_from(path).unwrap_or(HeaderValue::from_static("/"));
    no_store((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

/// 303 to `/` with the `mfa_token` in a cookie the page's script reads (and removes), to ask
/// for the second factor; no session cookie.
fn second_step(challenge: &MfaChallenge) -> Response {
    let max_age = challenge
        .expires_in()
        .min(Duration::from_secs(300))
        .as_secs();
    let value = format!(
        "{MFA_LOGIN_COOKIE}={}; Path=/; Max-Age={max_age}; SameSite=Lax; Secure",
        challenge.token()
    );
    let mut res = see_other("/");
    match HeaderValue::try_from(value) {
        Ok(v) => {
            res.headers_mut().append(header::SET_COOKIE, v);
            res
        }
        Err(_) => rejection(AuthError::BackendUnavailable("mfa cookie".into())),
    }
}

fn backend(what: &str, e: &dyn fmt::Display) -> AuthError {
    tracing::error!(target: TARGET, error = %e, "{what} failed");
    AuthError::BackendUnavailable(what.to_owned())
}
