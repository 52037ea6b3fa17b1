//! Browser sessions: the same tokens, in cookies.
//!
//! | route | request | answer |
//! |---|---|---|
//! | `POST /auth/session/login` | `{"email","password"}` (brute-force protected, as `/auth/login`) | 200 `{"sub","expires_in","refresh_expires_in","scope"}` and three cookies; 401 `INVALID_CREDENTIALS`; 401 `MFA_REQUIRED` without cookies for an account with TOTP (`POST /auth/mfa/verify` then answers as this route would have, see [`crate::mfa`]); 429; 503 |
//! | `POST /auth/session/refresh` | the refresh cookie, `X-CSRF-Token` | 200 as login, with new cookies; 401 `REFRESH_TOKEN_REUSED` / `REFRESH_TOKEN_EXPIRED` / `INVALID_REFRESH_TOKEN` (and the cookies cleared); 403 `CSRF_REJECTED` |
//! | `POST /auth/session/logout` | the access and/or refresh cookie, `X-CSRF-Token` | 204: the session is revoked (the access token and its refresh family, and the refresh cookie's family, whatever the access cookie's state: valid, expired, revoked or missing), all three cookies cleared; 403 `CSRF_REJECTED` |
//!
//! The cookies ([`SessionCookies`]):
//!
//! | cookie | attributes | lifetime |
//! |---|---|---|
//! | `access_token` | `HttpOnly; Secure; SameSite=Lax; Path=/` | `AUTH_ACCESS_TOKEN_TTL` (15 minutes) |
//! | `refresh_token` | `HttpOnly; Secure; SameSite=Strict; Path=/auth/session` | `AUTH_REFRESH_TOKEN_TTL` (30 days) |
//! | `csrf_token` | `Secure; SameSite=Lax; Path=/` (readable by the page's script) | `AUTH_REFRESH_TOKEN_TTL` (30 days) |
//!
//! The refresh cookie is scoped to the session routes (`/auth/session`), not to the refresh
//! route alone: logout must see it, or a logout after the access cookie expired would leave the
//! 30-day refresh token working. (Answers that set or clear the cookies also clear a refresh
//! cookie left on the old path, `/auth/session/refresh`.)
//!
//! Every protected route reads the access token from the `access_token` cookie when no
//! `Authorization` header is sent. Unsafe requests (`POST`, `PUT`, `PATCH`, `DELETE`) that
//! carry the access cookie, and at `/auth/session/refresh` and `/auth/session/logout` those
//! that carry the refresh cookie, must echo the `csrf_token` cookie in the `X-CSRF-Token`
//! header, and, when `AUTH_DEMO_ALLOWED_ORIGINS` is set, come from one of those origins;
//! otherwise 403 `CSRF_REJECTED`. Requests authenticated by a header (`Authorization`,
//! `X-API-Key`) are not subject to the check.
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

use auth_axum_extractors::openapi::{self, Access, Scheme, SecuredRoutes};
use auth_core::audit::Method;
use auth_core::clock::Clock as _;
use auth_core::mfa::AuthContext;
use auth_core::{AuthError, ConfigError};
use auth_tower::cookies::SessionCookies;
use auth_tower::csrf::generate_token;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::login::{Credentials, brute_force_layer, check_credentials};
use crate::tokens::{TokenPair, Tokens, no_store, rejection, session_body};
use crate::{Demo, LEGACY_REFRESH_COOKIE_PATH, SESSION_REFRESH_PATH};

/// What the session routes share: the token routes' state, and the `Set-Cookie` that clears a
/// refresh cookie left on [`LEGACY_REFRESH_COOKIE_PATH`].
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) tokens: Arc<Tokens>,
    clear_legacy_refresh: HeaderValue,
}

impl Session {
    pub(crate) fn of(demo: &Demo) -> Result<Self, ConfigError> {
        let legacy = SessionCookies::builder()
            .access_name(demo.cookies.access_name())
            .refresh_name(demo.cookies.refresh_name())
            .csrf_name(demo.cookies.csrf_name())
            .refresh_path(LEGACY_REFRESH_COOKIE_PATH)
            .build()?;
        Ok(Self {
            tokens: Arc::new(Tokens::of(demo)),
            clear_legacy_refresh: legacy.clear_refresh(),
        })
    }
}

/// `POST /auth/session/login`, `/auth/session/refresh` and `/auth/session/logout`.
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let state = Session::of(demo)?;
    let refresh_cookie = Scheme::named(crate::openapi::REFRESH_COOKIE);
    Ok(SecuredRoutes::new()
        .route(
            "/auth/session/login",
            openapi::post(login)
                .route_layer(crate::audit::layer(demo, Method::Login))
                .route_layer(brute_force_layer(demo)?),
            Access::public(),
        )?
        .route(
            SESSION_REFRESH_PATH,
            openapi::post(refresh)
                .route_layer(crate::audit::layer(demo, Method::Refresh))
                .route_layer(demo.csrf(&[demo.cookies.refresh_name()])?),
            Access::checked_by_handler([refresh_cookie.clone()]),
        )?
        // Either cookie makes a logout cookie-authenticated: each layer checks requests that
        // carry its cookie (one check when only one cookie is sent; the same check twice when
        // both are).
        // Without a cookie there is no session to end: 204 all the same.
        .route(
            "/auth/session/logout",
            openapi::post(logout)
                .route_layer(crate::audit::layer(demo, Method::Logout))
                .route_layer(
                    demo.csrf(&[demo.cookies.access_name(), demo.cookies.refresh_name()])?,
                ),
            Access::optional([Scheme::SESSION_COOKIE, refresh_cookie]),
        )?
        .with_state(state))
}

/// The value of cookie `name`, or `None` when it is absent, empty or sent more than once.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
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

/// The answer that carries a pair in cookies: the session body and three `Set-Cookie`s (and
/// the clearing of a refresh cookie on the old path).
pub(crate) fn with_cookies(session: &Session, pair: &TokenPair, csrf: &str) -> Response {
    let res = no_store(Json(session_body(pair)).into_response());
    add_session_cookies(session, pair, csrf, res)
}

/// `res` with the session's three `Set-Cookie`s (and the clearing of a refresh cookie on the
/// old path), as every answer that starts or renews a cookie session sends them.
pub(crate) fn add_session_cookies(
    session: &Session,
    pair: &TokenPair,
    csrf: &str,
    mut res: Response,
) -> Response {
    let c = &session.tokens.cookies;
    let refresh_life = pair.refresh.lifetime();
    let set = [
        c.access(pair.access.as_str(), pair.access.expires_in()),
        c.refresh(pair.refresh.token().as_str(), refresh_life),
        c.csrf(csrf, refresh_life),
    ];
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
    res.headers_mut()
        .append(header::SET_COOKIE, session.clear_legacy_refresh.clone());
    res
}

/// Adds the clearing `Set-Cookie`s (the three cookies, and a refresh cookie on the old path).
fn clearing(session: &Session, mut res: Response) -> Response {
    for v in session.tokens.cookies.clear_all() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res.headers_mut()
        .append(header::SET_COOKIE, session.clear_legacy_refresh.clone());
    res
}

pub(crate) fn new_csrf_token() -> Result<String, Box<Response>> {
    generate_token().map_err(|e| {
        tracing::error!(target: "demo::session", error = %e, "csrf token generation failed");
        Box::new(rejection(AuthError::BackendUnavailable(
            "random source".into(),
        )))
    })
}

async fn login(
    State(session): State<Session>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Response {
    let tokens = &session.tokens;
    let issuer = match tokens.issuer() {
        Ok(i) => i.clone(),
        Err(res) => return *res,
    };
    let (account, attempt) = match check_credentials(tokens, body).await {
        Ok(ok) => ok,
        Err(res) => return *res,
    };
    match crate::mfa::challenge(tokens, &account, crate::mfa::SESSION_LOGIN).await {
        Ok(None) => {}
        // The password was right: the brute-force layer forgets the account's failures.
        Ok(Some(challenge)) => return (Extension(attempt), challenge).into_response(),
        Err(e) => return rejection(e),
    }
    let csrf = match new_csrf_token() {
        Ok(t) => t,
        Err(res) => return *res,
    };
    let context = AuthContext::password(tokens.clock.now());
    match tokens.start(&issuer, &account, &context).await {
        Ok(pair) => (Extension(attempt), with_cookies(&session, &pair, &csrf)).into_response(),
        Err(e) => rejection(e),
    }
}

async fn refresh(State(session): State<Session>, headers: HeaderMap) -> Response {
    let tokens = &session.tokens;
    let issuer = match tokens.issuer() {
        Ok(i) => i.clone(),
        Err(res) => return *res,
    };
    let Some(presented) = cookie(&headers, tokens.cookies.refresh_name()) else {
        return clearing(&session, rejection(AuthError::InvalidRefreshToken));
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
        Ok(pair) => with_cookies(&session, &pair, &csrf),
        Err(e @ AuthError::BackendUnavailable(_)) => rejection(e),
        Err(e) => clearing(&session, rejection(e)),
    }
}

async fn logout(State(session): State<Session>, headers: HeaderMap) -> Response {
    let tokens = &session.tokens;
    let refresh = cookie(&headers, tokens.cookies.refresh_name());
    // A valid access cookie names its session (`sid`); the refresh cookie names it whatever
    // the access cookie's state (expired, revoked, missing), so both are used.
    let principal = match cookie(&headers, tokens.cookies.access_name()) {
        Some(token) => match tokens.verifier.verify(token).await {
            Ok(principal) => Some(principal),
            Err(e) => {
                tracing::debug!(target: "demo::session", code = %e.code(), "logout with an unusable access cookie");
                None
            }
        },
        None => None,
    };
    let ended = match (&principal, refresh) {
        (Some(principal), refresh) => tokens.end_session(principal, refresh).await,
        (None, Some(refresh)) => match tokens.refresh.revoke(refresh).await {
            Ok(family) => {
                tracing::info!(
                    target: "demo::session",
                    session_found = family.is_some(),
                    "logged out by the refresh cookie"
                );
                match family {
                    Some(family) => tokens.forget_context(&family).await,
                    None => Ok(()),
                }
            }
            Err(e) => Err(e),
        },
        (None, None) => Ok(()),
    };
    match ended {
        Ok(()) => clearing(&session, StatusCode::NO_CONTENT.into_response()),
        // The session may still be alive: no clearing, so the client can try again.
        Err(e) => rejection(e),
    }
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
