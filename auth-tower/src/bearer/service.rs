use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::{AuthError, Principal};
use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::BearerConfig;
use crate::credentials;
use crate::rejection::{Rejection, Schemes, is_grpc};
use crate::response::RejectionResponse;

/// Middleware that authenticates requests with JWT bearer tokens; see
/// [`BearerLayer`](super::BearerLayer).
#[derive(Clone, Debug)]
pub struct Bearer<S, R> {
    inner: S,
    config: Arc<BearerConfig>,
    responder: R,
}

impl<S, R> Bearer<S, R> {
    pub(crate) fn from_parts(inner: S, config: Arc<BearerConfig>, responder: R) -> Self {
        Self {
            inner,
            config,
            responder,
        }
    }

    define_inner_service_accessors!();
}

/// Finishes a successful verification: extensions and the decision event.
pub(crate) fn accept<B>(
    config: &BearerConfig,
    principal: Principal,
    req: &mut Request<B>,
) -> Result<(), AuthError> {
    if let Some(insert) = config.insert_claims {
        insert(&principal, req.extensions_mut())?;
    }
    tracing::debug!(
        target: "auth::decision",
        outcome = "accept",
        method = "bearer",
        subject = principal.subject(),
        path = req.uri().path(),
    );
    req.extensions_mut().insert(principal);
    Ok(())
}

/// Builds the rejection and emits the decision event (reason, never the token).
pub(crate) fn reject<B>(config: &BearerConfig, error: AuthError, req: &Request<B>) -> Rejection {
    tracing::debug!(
        target: "auth::decision",
        outcome = "reject",
        method = "bearer",
        code = error.code().as_str(),
        reason = %error,
        path = req.uri().path(),
    );
    Rejection::new(error, config.realm.clone(), is_grpc(req.headers()))
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for Bearer<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        credentials::mark_sensitive(req.headers_mut());
        let config = &*self.config;
        let token = match credentials::bearer_from_header(req.headers()) {
            Ok(None) => match config.cookie.as_deref() {
                Some(name) => credentials::cookie(req.headers(), name),
                None => Ok(None),
            },
            other => other,
        };
        let verify = match token {
            Ok(Some(token)) => config.verifier.verify(token),
            Ok(None) if config.optional => {
                tracing::debug!(
                    target: "auth::decision",
                    outcome = "anonymous",
                    method = "bearer",
                    path = req.uri().path(),
                );
                // Lets extractors answer "credentials required" with this layer's challenge
                // (merged with the marker of another optional layer, e.g. an ApiKeyLayer).
                let grpc = is_grpc(req.headers());
                Rejection::merge_missing(
                    req.extensions_mut(),
                    &config.realm,
                    Schemes::BEARER,
                    grpc,
                );
                return ResponseFuture::future(self.inner.call(req));
            }
            Ok(None) => {
                let rejection = reject(config, AuthError::MissingCredentials, &req);
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
            Err(e) => {
                let rejection = reject(config, e, &req);
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
        };
        match verify.into_ready() {
            Ok(result) => match result.and_then(|p| accept(config, p, &mut req)) {
                Ok(()) => ResponseFuture::future(self.inner.call(req)),
                Err(e) => {
                    let rejection = reject(config, e, &req);
                    ResponseFuture::rejected(&mut self.responder, rejection)
                }
            },
            Err(pending) => {
                // The key must be fetched first. The ready inner service goes into the future;
                // this service keeps a fresh clone that must be polled ready again.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::verifying(
                    pending,
                    inner,
                    req,
                    Arc::clone(&self.config),
                    self.responder.clone(),
                )
            }
        }
    }
}
