use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::audit::Method as AuditMethod;
use auth_core::constant_time::secrets_equal;
use auth_core::{AuthError, CsrfFailure};
use http::header::ORIGIN;
use http::{Method, Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::CsrfConfig;
use crate::CredentialSource;
use crate::credentials;
use crate::rejection::{Realm, Rejection, is_grpc};
use crate::response::{RejectionResponse, render};

/// Middleware that protects cookie-authenticated unsafe requests against CSRF; see
/// [`CsrfLayer`](super::CsrfLayer).
#[derive(Clone, Debug)]
pub struct Csrf<S, R> {
    inner: S,
    config: Arc<CsrfConfig>,
    responder: R,
}

impl<S, R> Csrf<S, R> {
    pub(crate) fn from_parts(inner: S, config: Arc<CsrfConfig>, responder: R) -> Self {
        Self {
            inner,
            config,
            responder,
        }
    }

    define_inner_service_accessors!();
}

/// Why a request is not subject to the check, or `None` when it is.
///
/// Never decided by which headers are present: a request carrying both the session cookie and
/// an `Authorization` header the authentication layer did not accept (e.g. `Basic`) was
/// authenticated by the cookie.
fn exemption<B>(config: &CsrfConfig, req: &Request<B>) -> Option<&'static str> {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Some("safe_method");
    }
    match req.extensions().get::<CredentialSource>() {
        // A header credential authenticated it: a cross-site page cannot make the browser
        // send that header without CORS allowing it.
        Some(CredentialSource::Header) => return Some("header_authenticated"),
        // A cookie (or the query string) authenticated it.
        Some(_) => return None,
        // No authentication layer ran before this one, or the request is anonymous.
        None => {}
    }
    let headers = req.headers();
    // A cookie sent twice counts as present: the request is checked.
    let carries_session = config
        .session_cookies
        .iter()
        .any(|name| matches!(credentials::cookie(headers, name), Ok(Some(_)) | Err(_)));
    if !config.session_cookies.is_empty() && !carries_session {
        return Some("no_session_cookie");
    }
    None
}

/// The checks themselves: `Origin` against the allow-list, then the double-submit token.
pub(crate) fn check<B>(config: &CsrfConfig, req: &Request<B>) -> Result<(), CsrfFailure> {
    let headers = req.headers();
    if !config.origins.is_empty() {
        match headers.get(ORIGIN) {
            Some(origin) => {
                let allowed = origin
                    .to_str()
                    .is_ok_and(|o| config.origins.iter().any(|a| **a == *o));
                if !allowed {
                    return Err(CsrfFailure::OriginNotAllowed);
                }
            }
            None if config.double_submit.is_none() => return Err(CsrfFailure::MissingOrigin),
            None => {}
        }
    }
    if let Some((cookie, header)) = &config.double_submit {
        let cookie = match credentials::cookie(headers, cookie) {
            Ok(Some(v)) => v,
            // Absent, or sent twice (cookie tossing): no usable value.
            Ok(None) | Err(_) => return Err(CsrfFailure::MissingCookie),
        };
        let mut echoed = headers.get_all(header).iter();
        let (Some(echoed), None) = (echoed.next(), echoed.next()) else {
            return Err(CsrfFailure::MissingHeader);
        };
        if echoed.is_empty() {
            return Err(CsrfFailure::MissingHeader);
        }
        if !secrets_equal(cookie.as_bytes(), echoed.as_bytes()) {
            return Err(CsrfFailure::TokenMismatch);
        }
    }
    Ok(())
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for Csrf<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = &*self.config;
        if let Some(reason) = exemption(config, &req) {
            tracing::trace!(target: "auth::decision", outcome = "csrf_exempt", reason, path = req.uri().path());
            return ResponseFuture::future(self.inner.call(req));
        }
        match check(config, &req) {
            Ok(()) => {
                tracing::trace!(target: "auth::decision", outcome = "csrf_pass", path = req.uri().path());
                let principal = req.extensions().get::<auth_core::Principal>();
                crate::audit::authorization(&req, AuditMethod::Csrf, principal, Ok(()));
                ResponseFuture::future(self.inner.call(req))
            }
            Err(failure) => {
                tracing::debug!(
                    target: "auth::decision",
                    outcome = "reject",
                    method = "csrf",
                    code = "CSRF_REJECTED",
                    reason = %failure,
                    path = req.uri().path(),
                );
                let error = AuthError::CsrfRejected(failure);
                let principal = req.extensions().get::<auth_core::Principal>();
                crate::audit::authorization(&req, AuditMethod::Csrf, principal, Err(error.code()));
                let rejection = Rejection::new(error, Realm::default(), is_grpc(req.headers()));
                ResponseFuture::rejected(render(&mut self.responder, rejection))
            }
        }
    }
}
