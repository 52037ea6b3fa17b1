//! Enrolment, confirmation, disabling and recovery-code regeneration: the routes a logged-in
//! user manages their second factor with.

use std::borrow::Cow;

use auth_axum_extractors::Authenticated;
use auth_core::AuthError;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::session::Session;
use crate::tokens::{json_body, no_store, rejection};

#[derive(Deserialize)]
pub(super) struct ConfirmBody {
    code: String,
}

/// The account whose second factor `p` manages: the subject of the demo's own tokens, the
/// issuer-qualified key of another issuer's (as every per-user record, see
/// [`crate::issuers`]).
fn account<'p>(session: &Session, p: &'p Authenticated) -> Cow<'p, str> {
    session.tokens.accounts.key(p)
}

/// What the authenticator app shows beside the issuer: the account's email, or the account key
/// when the demo has no account for it (another issuer's user).
async fn label(session: &Session, account: &str) -> Result<String, AuthError> {
    match session.tokens.users.by_subject(account).await {
        Ok(found) => Ok(found
            .and_then(|a| a.email)
            .unwrap_or_else(|| account.to_owned())),
        Err(e) => {
            tracing::error!(target: "demo::mfa", error = %e, "user store failed");
            Err(AuthError::BackendUnavailable("user store".into()))
        }
    }
}

/// `POST /auth/mfa/totp/enroll`.
pub(super) async fn enroll(State(session): State<Session>, p: Authenticated) -> Response {
    let account = account(&session, &p);
    let label = match label(&session, &account).await {
        Ok(l) => l,
        Err(e) => return rejection(e),
    };
    match session.tokens.mfa.enroll(&account, &label).await {
        Ok(e) => no_store(
            Json(json!({
                "secret": e.secret_base32(),
                "otpauth_uri": e.otpauth_uri(),
                "qr_svg": e.qr_svg(),
            }))
            .into_response(),
        ),
        Err(e) => rejection(e),
    }
}

/// `POST /auth/mfa/totp/confirm`. A wrong code is 400 here (the request is wrong, the session
/// is fine), not the 401 of the shared code table.
pub(super) async fn confirm(
    State(session): State<Session>,
    p: Authenticated,
    body: Result<Json<ConfirmBody>, JsonRejection>,
) -> Response {
    let body = match json_body(body, r#"{"code":"123456"}"#) {
        Ok(b) => b,
        Err(res) => return *res,
    };
    match session
        .tokens
        .mfa
        .confirm(&account(&session, &p), &body.code)
        .await
    {
        Ok(codes) => recovery_codes(codes.as_slice()),
        Err(e @ AuthError::InvalidOtp) => {
            let mut res = rejection(e);
            *res.status_mut() = StatusCode::BAD_REQUEST;
            res
        }
        Err(e) => rejection(e),
    }
}

/// `POST /auth/mfa/totp/disable` (behind step-up).
pub(super) async fn disable(State(session): State<Session>, p: Authenticated) -> Response {
    match session.tokens.mfa.disable(&account(&session, &p)).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => rejection(AuthError::MfaNotEnabled),
        Err(e) => rejection(e),
    }
}

/// `POST /auth/mfa/recovery-codes` (behind step-up).
pub(super) async fn regenerate(State(session): State<Session>, p: Authenticated) -> Response {
    match session
        .tokens
        .mfa
        .regenerate_recovery_codes(&account(&session, &p))
        .await
    {
        Ok(codes) => recovery_codes(codes.as_slice()),
        Err(e) => rejection(e),
    }
}

fn recovery_codes(codes: &[String]) -> Response {
    no_store(Json(json!({ "recovery_codes": codes })).into_response())
}
