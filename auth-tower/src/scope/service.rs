use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::audit::Method;
use auth_core::{AuthError, AuthMethod, ErrorCode, Principal};
use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::ScopeConfig;
use crate::rejection::{Rejection, Schemes, is_grpc};
use crate::response::{RejectionResponse, render};

/// Middleware that checks the principal against a requirement; see
/// [`ScopeLayer`](super::ScopeLayer).
#[derive(Clone, Debug)]
pub struct Scope<S, R> {
    inner: S,
    config: Arc<ScopeConfig>,
    responder: R,
}

impl<S, R> Scope<S, R> {
    pub(crate) fn from_parts(inner: S, config: Arc<ScopeConfig>, responder: R) -> Self {
        Self {
            inner,
            config,
            responder,
        }
    }

    define_inner_service_accessors!();
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for Scope<S, R>
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
        let Some(principal) = req.extensions().get::<Principal>() else {
            // Answer as the (optional) authentication layers would have.
            let rejection = match req.extensions().get::<Rejection>() {
                Some(missing) => missing.clone(),
                None => Rejection::new(
                    AuthError::MissingCredentials,
                    config.realm.clone(),
                    is_grpc(req.headers()),
                ),
            };
            tracing::debug!(
                target: "auth::decision",
                outcome = "reject",
                method = "scope",
                code = rejection.code().as_str(),
                reason = "no principal",
                path = req.uri().path(),
            );
            crate::audit::authorization(&req, Method::Scope, None, Err(rejection.code()));
            return ResponseFuture::rejected(render(&mut self.responder, rejection));
        };
        let rule = config.rules.for_request(req.method(), req.uri().path());
        if rule.requirement.is_satisfied_by(principal, &config.policy) {
            crate::audit::authorization(&req, Method::Scope, Some(principal), Ok(()));
            return ResponseFuture::future(self.inner.call(req));
        }
        tracing::debug!(
            target: "auth::decision",
            outcome = "deny",
            method = "scope",
            code = "INSUFFICIENT_SCOPE",
            subject = principal.subject(),
            path = req.uri().path(),
            required = %rule.requirement,
            held_scopes = ?principal.scopes(),
            held_roles = ?principal.roles(),
        );
        crate::audit::authorization(
            &req,
            Method::Scope,
            Some(principal),
            Err(ErrorCode::InsufficientScope),
        );
        let schemes = match principal.auth_method() {
            AuthMethod::ApiKey { .. } => Schemes {
                bearer: false,
                api_key: true,
                dpop: false,
            },
            _ => Schemes::BEARER,
        };
        let rejection = Rejection::new(
            AuthError::InsufficientScope {
                required: rule.required.clone(),
            },
            config.realm.clone(),
            is_grpc(req.headers()),
        )
        .with_schemes(schemes);
        ResponseFuture::rejected(render(&mut self.responder, rejection))
    }
}
