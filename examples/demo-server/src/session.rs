//! Browser sessions: the same tokens, in cookies.
//!
//! | route | request | answer |
//! |---|---|---|
//! | `POST /auth/session/login` | `{"email","password"}` (brute-force protected, as `/auth/login`) | 200 `{"sub","expires_in","refresh_expires_in","scope"}` and three cookies; 401 `INVALID_CREDENTIALS`; 429; 503 |
//! | `POST /auth/session/refresh` | the refresh cookie, `X-CSRF-Token` | 200 as login, with new cookies; 401 `REFRESH_TOKEN_REUSED` / `REFRESH_TOKEN_EXPIRED` / `INVALID_REFRESH_TOKEN` (and the cookies cleared); 403 `CSRF_REJECTED` |
//! | `POST /auth/session/logout` | the access cookie, `X-CSRF-Token` | 204: the access token and its session are revoked, all three cookies cleared; 403 `CSRF_REJECTED` |
//!
//! The cookies ([`SessionCookies`](auth_tower::cookies::SessionCookies)):
//!
//! | cookie | attributes | lifetime |
//! |---|---|---|
//! | `access_token` | `HttpOnly; Secure; SameSite=Lax; Path=/` | 15 minutes |
//! | `refresh_token` | `HttpOnly; Secure; SameSite=Strict; Path=/auth/session/refresh` | 30 days |
//! | `csrf_token` | `Secure; SameSite=Lax; Path=/` (readable by the page's script) | 30 days |
//!
//! Every protected route reads the access token from the `access_token` cookie when no
//! `Authorization` header is sent. Unsafe requests (`POST`, `PUT`, `PATCH`, `DELETE`) that
//! carry the access cookie (or, at `/auth/session/refresh`, the refresh cookie) must echo the
//! `csrf_token` cookie in the `X-CSRF-Token` header, and, when `AUTH_DEMO_ALLOWED_ORIGINS` is
//! set, come from one of those origins; otherwise 403 `CSRF_REJECTED`. Requests authenticated
//! by a header (`Authorization`, `X-API-Key`) are not subject to the check.
//!
//! # Security considerations
//!
//! - Page scripts cannot read the tokens (`HttpOnly`); an XSS can still *use* the session
//!   while the page is open, as with any cookie session.
//! - `Secure` is always set. Browsers keep `Secure` cookies from `http://localhost` and
//!   `http://127.0.0.1` (potentially trustworthy origins); anywhere else, serve HTTPS.
//! - Cookies are scoped to a host, not a port: another service on the same host can read the
//!   `csrf_token` cookie. It still cannot send it in `X-CSRF-Token` cross-origin (the custom
//!   header needs a CORS preflight, which the demo never grants), and `AUTH_DEMO_ALLOWED_ORIGINS`
//!   adds an `Origin` check that does not depend on the cookie's secrecy.
//! - Login is not CSRF-checked (there is no session yet); its JSON body needs
//!   `Content-Type: application/json`, which other origins can only send after a CORS
//!   preflight the demo never grants.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{AuthError, ConfigError};
use auth_tower::csrf::generate_token;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};

use crate::login::{Credentials, brute_force_layer, check_credentials};
use crate::tokens::{TokenPair, Tokens, no_store, rejection, session_body};
use crate::{Demo, SESSION_REFRESH_PATH};

/// `POST /auth/session/login`, `/auth/session/refresh` and `/auth/session/logout`.
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<Router, ConfigError> {
    let state = Arc::new(Tokens::of(demo));
    Ok(Router::new()
        .route(
            "/auth/session/login",
            post(login).route_layer(brute_force_layer(demo)?),
        )
        .route(
            SESSION_REFRESH_PATH,
            post(refresh).route_layer(demo.csrf(&[demo.cookies.refresh_name()])?),
        )
        .route(
            "/auth/session/logout",
            post(logout).route_layer(
                demo.csrf(&[demo.cookies.access_name(), demo.cookies.refresh_name()])?,
            ),
        )
        .with_state(state))
}

/// The value of cookie `name`, or `None` when it is absent, empty or sent more than once.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(s) = value.to_str() else { continue };
        for pair in s.split(';') {
            let Some((n, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if n == name {
                if found.is_some() {
                    return None;
                }
                found = Some(v);
            }
        }
    }
    found.filter(|v| !v.is_empty())
}

/// The answer that carries a pair in cookies: the session body and three `Set-Cookie`s.
fn with_cookies(tokens: &Tokens, pair: &TokenPair, csrf: &str) -> Response {
    let c = &tokens.cookies;
    let refresh_life = pair.refresh.lifetime();
    let set = [
        c.access(pair.access.as_str(), pair.access.expires_in()),
        c.refresh(pair.refresh.token().as_str(), refresh_life),
        c.csrf(csrf, refresh_life),
    ];
    let mut res = no_store(Json(session_body(pair)).into_response());
    for value in set {
        match value {
            Ok(v) => {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            Err(e) => {
                tracing::error!(target: "demo::session", error = %e, "building a cookie failed");
                return rejection(AuthError::BackendUnavailable("cookie".into()));
            }
        }
    }
    res
}

/// Adds the three clearing `Set-Cookie`s.
fn clearing(tokens: &Tokens, mut res: Response) -> Response {
    for v in tokens.cookies.clear_all() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn new_csrf_token() -> Result<String, Box<Response>> {
    generate_token().map_err(|e| {
        tracing::error!(target: "demo::session", error = %e, "csrf token generation failed");
        Box::new(rejection(AuthError::BackendUnavailable(
            "random source".into(),
        )))
    })
}

async fn login(
    State(tokens): State<Arc<Tokens>>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Response {
    let issuer = match tokens.issuer() {
        Ok(i) => i.clone(),
        Err(res) => return *res,
    };
    let (account, attempt) = match check_credentials(&tokens, body).await {
        Ok(ok) => ok,
        Err(res) => return *res,
    };
    let csrf = match new_csrf_token() {
        Ok(t) => t,
        Err(res) => return *res,
    };
    match tokens.start(&issuer, &account).await {
        Ok(pair) => (Extension(attempt), with_cookies(&tokens, &pair, &csrf)).into_response(),
        Err(e) => rejection(e),
    }
}

async fn refresh(State(tokens): State<Arc<Tokens>>, headers: HeaderMap) -> Response {
    let issuer = match tokens.issuer() {
        Ok(i) => i.clone(),
        Err(res) => return *res,
    };
    let Some(presented) = cookie(&headers, tokens.cookies.refresh_name()) else {
        return clearing(&tokens, rejection(AuthError::InvalidRefreshToken));
    };
    // The session keeps its CSRF token (the page holds it); a missing one is replaced.
    let csrf = match cookie(&headers, tokens.cookies.csrf_name()) {
        Some(t) if tokens.cookies.csrf(t, Duration::from_secs(1)).is_ok() => t.to_owned(),
        _ => match new_csrf_token() {
            Ok(t) => t,
            Err(res) => return *res,
        },
    };
    match tokens.rotate(&issuer, presented).await {
        Ok(pair) => with_cookies(&tokens, &pair, &csrf),
        Err(e @ AuthError::BackendUnavailable(_)) => rejection(e),
        Err(e) => clearing(&tokens, rejection(e)),
    }
}

async fn logout(State(tokens): State<Arc<Tokens>>, headers: HeaderMap) -> Response {
    // An expired or otherwise invalid access cookie cannot say which session to end, but the
    // cookies are cleared all the same.
    if let Some(token) = cookie(&headers, tokens.cookies.access_name()) {
        match tokens.verifier.verify(token).await {
            Ok(principal) => {
                if let Err(e) = tokens.end_session(&principal, None).await {
                    return rejection(e);
                }
            }
            Err(e) => {
                tracing::debug!(target: "demo::session", code = %e.code(), "logout with an unusable access cookie");
            }
        }
    }
    clearing(&tokens, StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn cookies_are_read_across_headers_and_duplicates_count_as_missing() {
        let h = headers(&["a=1; refresh_token=xyz", "b=2"]);
        assert_eq!(cookie(&h, "refresh_token"), Some("xyz"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        let h = headers(&["t=1", "t=2"]);
        assert_eq!(cookie(&h, "t"), None);
        assert_eq!(cookie(&headers(&["t="]), "t"), None);
    }
}
