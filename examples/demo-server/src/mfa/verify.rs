//! `POST /auth/mfa/verify`: the second step of a login.

use auth_core::AuthError;
use auth_core::brute_force::LoginAttempt;
use auth_core::mfa::SecondFactor;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::{API_LOGIN, SESSION_LOGIN};
use crate::provider_login::{PROVIDER_SESSION_LOGIN, external_second_factor_context};
use crate::session::{Session, new_csrf_token, with_cookies};
use crate::tokens::{error, json_body, rejection};

const SHAPE: &str =
    r#"{"mfa_token":"...","code":"123456"} or {"mfa_token":"...","recovery_code":"..."}"#;

#[derive(Deserialize)]
pub(super) struct VerifyBody {
    mfa_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// Completes the login the `mfa_token` stands for and answers as that login would have.
///
/// Failures carry no `LoginAttempt` (the account stays unknown to the client): the
/// brute-force layer counts each 401 against the client address. The account itself is
/// throttled by `auth_core::mfa`. A success reports the account as the password login did,
/// so its failures are forgotten.
pub(super) async fn verify(
    State(session): State<Session>,
    body: Result<Json<VerifyBody>, JsonRejection>,
) -> Response {
    let body = match json_body(body, SHAPE) {
        Ok(b) => b,
        Err(res) => return *res,
    };
    let factor = match (&body.code, &body.recovery_code) {
        (Some(code), None) => SecondFactor::Totp(code),
        (None, Some(code)) => SecondFactor::RecoveryCode(code),
        _ => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_REQUEST",
                &format!("the body must be one of {SHAPE}"),
            );
        }
    };
    let tokens = &session.tokens;
    // Before the token is used up: a verify-only demo can never finish the login.
    let issuer = match tokens.issuer() {
        Ok(i) => i.clone(),
        Err(res) => return *res,
    };
    let done = match tokens.mfa.complete_login(&body.mfa_token, factor).await {
        Ok(done) => done,
        Err(e) => return rejection(e),
    };
    let account = match tokens.users.by_subject(done.subject()).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            tracing::warn!(target: "demo::mfa", subject = done.subject(), "account gone during an mfa login");
            return rejection(AuthError::InvalidMfaToken);
        }
        Err(e) => {
            tracing::error!(target: "demo::mfa", error = %e, "user store failed");
            return rejection(AuthError::BackendUnavailable("user store".into()));
        }
    };
    let attempt = LoginAttempt::success(
        account
            .email
            .clone()
            .unwrap_or_else(|| account.subject.clone()),
    );
    let answer = match done.binding() {
        SESSION_LOGIN => {
            let csrf = match new_csrf_token() {
                Ok(t) => t,
                Err(res) => return *res,
            };
            match tokens.start(&issuer, &account, done.context()).await {
                Ok(pair) => with_cookies(&session, &pair, &csrf),
                Err(e) => return rejection(e),
            }
        }
        // A provider sign-in: its session says `ext`, not `pwd` (no password was asked).
        PROVIDER_SESSION_LOGIN => {
            let csrf = match new_csrf_token() {
                Ok(t) => t,
                Err(res) => return *res,
            };
            let context = external_second_factor_context(done.context());
            match tokens.start(&issuer, &account, &context).await {
                Ok(pair) => with_cookies(&session, &pair, &csrf),
                Err(e) => return rejection(e),
            }
        }
        API_LOGIN => match tokens.start(&issuer, &account, done.context()).await {
            Ok(pair) => pair.response(),
            Err(e) => return rejection(e),
        },
        other => {
            tracing::error!(target: "demo::mfa", binding = other, "mfa login of an unknown kind");
            return rejection(AuthError::BackendUnavailable("mfa login kind".into()));
        }
    };
    (Extension(attempt), answer).into_response()
}
