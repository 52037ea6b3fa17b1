use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::audit::Method;
use auth_core::{AuthError, AuthMethod, Principal};
use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::StepUpConfig;
use crate::rejection::{Rejection, Schemes, is_grpc};
use crate::response::{RejectionResponse, render};

/// Middleware that checks how the principal authenticated; see
/// [`StepUpLayer`](super::StepUpLayer).
#[derive(Clone, Debug)]
pub struct StepUp<S, R> {
    inner: S,
    config: Arc<StepUpConfig>,
    responder: R,
}

impl<S, R> StepUp<S, R> {
    pub(crate) fn from_parts(inner: S, config: Arc<StepUpConfig>, responder: R) -> Self {
        Self {
            inner,
            config,
            responder,
        }
    }

    define_inner_service_accessors!();
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for StepUp<S, R>
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
                method = "step_up",
                code = rejection.code().as_str(),
                reason = "no principal",
                path = req.uri().path(),
            );
            crate::audit::authorization(&req, Method::StepUp, None, Err(rejection.code()));
            return ResponseFuture::rejected(render(&mut self.responder, rejection));
        };
        let unmet = match config
            .requirement
            .check(principal.claims(), config.clock.now())
        {
            Ok(()) => {
                crate::audit::authorization(&req, Method::StepUp, Some(principal), Ok(()));
                return ResponseFuture::future(self.inner.call(req));
            }
            Err(unmet) => unmet,
        };
        tracing::debug!(
            target: "auth::decision",
            outcome = "deny",
            method = "step_up",
            code = "INSUFFICIENT_USER_AUTHENTICATION",
            subject = principal.subject(),
            path = req.uri().path(),
            required = %config.requirement,
            reason = %unmet,
        );
        let schemes = match principal.auth_method() {
            AuthMethod::ApiKey { .. } => Schemes {
                bearer: false,
                api_key: true,
                dpop: false,
            },
            _ => Schemes::BEARER,
        };
        let error = config.requirement.error();
        crate::audit::authorization(&req, Method::StepUp, Some(principal), Err(error.code()));
        let rejection = Rejection::new(error, config.realm.clone(), is_grpc(req.headers()))
            .with_schemes(schemes);
        ResponseFuture::rejected(render(&mut self.responder, rejection))
    }
}
