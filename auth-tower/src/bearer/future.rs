use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use auth_core::jwt::Verify;
use auth_core::{AuthError, Principal};
use http::{Request, Response};
use pin_project::pin_project;
use tower_service::Service;

use super::layer::BearerConfig;
#[cfg(any(feature = "revocation", feature = "dpop"))]
use super::service::RevocationFuture;
use super::service::{Revocation, accept, after_verify, reject};
use crate::CredentialSource;
use crate::rejection::Rejection;
use crate::response::{RejectionResponse, render};

/// Response future of [`Bearer`](super::Bearer).
#[pin_project]
pub struct ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    #[pin]
    kind: Kind<S, ReqBody, ResBody, R>,
}

#[pin_project(project = KindProj)]
enum Kind<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    Future {
        #[pin]
        future: S::Future,
    },
    Rejected {
        response: Option<Response<ResBody>>,
    },
    Verifying {
        #[pin]
        verify: Verify,
        inner: S,
        request: Option<Request<ReqBody>>,
        source: CredentialSource,
        config: Arc<BearerConfig>,
        responder: R,
    },
    #[cfg(any(feature = "revocation", feature = "dpop"))]
    Authorize {
        #[pin]
        check: RevocationFuture,
        inner: S,
        request: Option<Request<ReqBody>>,
        source: CredentialSource,
        config: Arc<BearerConfig>,
        responder: R,
    },
}

impl<S, ReqBody, ResBody, R> ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
    R: RejectionResponse<ResBody>,
{
    pub(crate) fn future(future: S::Future) -> Self {
        Self {
            kind: Kind::Future { future },
        }
    }

    pub(crate) fn rejected(responder: &mut R, rejection: Rejection) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(render(responder, rejection)),
            },
        }
    }

    pub(crate) fn verifying(
        verify: Verify,
        inner: S,
        request: Request<ReqBody>,
        source: CredentialSource,
        config: Arc<BearerConfig>,
        responder: R,
    ) -> Self {
        Self {
            kind: Kind::Verifying {
                verify,
                inner,
                request: Some(request),
                source,
                config,
                responder,
            },
        }
    }
}

impl<S, ReqBody, ResBody, R> ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    #[cfg(any(feature = "revocation", feature = "dpop"))]
    pub(crate) fn authorizing(
        check: RevocationFuture,
        inner: S,
        request: Request<ReqBody>,
        source: CredentialSource,
        config: Arc<BearerConfig>,
        responder: R,
    ) -> Self {
        Self {
            kind: Kind::Authorize {
                check,
                inner,
                request: Some(request),
                source,
                config,
                responder,
            },
        }
    }
}

/// The state after a principal was verified and cleared: call the inner service, or render
/// the rejection.
fn proceed<S, ReqBody, ResBody, R>(
    result: Result<Principal, AuthError>,
    inner: &mut S,
    mut req: Request<ReqBody>,
    source: CredentialSource,
    config: &BearerConfig,
    responder: &mut R,
) -> Kind<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: RejectionResponse<ResBody>,
{
    match result.and_then(|p| accept(config, p, source, &mut req)) {
        Ok(()) => Kind::Future {
            future: inner.call(req),
        },
        Err(e) => {
            let rejection = reject(config, e, &req);
            Kind::Rejected {
                response: Some(render(responder, rejection)),
            }
        }
    }
}

impl<S, ReqBody, ResBody, R> Future for ResponseFuture<S, ReqBody, ResBody, R>
where
    // `Clone` only moves the ready inner service between states (never calls a clone).
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    R: RejectionResponse<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.kind.as_mut().project() {
                KindProj::Future { future } => return future.poll(cx),
                KindProj::Rejected { response } => {
                    #[allow(clippy::expect_used)]
                    let response = response.take().expect("future polled after completion");
                    return Poll::Ready(Ok(response));
                }
                KindProj::Verifying {
                    verify,
                    inner,
                    request,
                    source,
                    config,
                    responder,
                } => {
                    let result = ready!(verify.poll(cx));
                    #[allow(clippy::expect_used)]
                    let req = request.take().expect("future polled after completion");
                    let source = *source;
                    match result.map(|p| after_verify(config, p, &req)) {
                        Ok(Revocation::Clear(p)) => {
                            proceed(Ok(p), inner, req, source, config, responder)
                        }
                        Ok(Revocation::Refused(e)) | Err(e) => {
                            proceed(Err(e), inner, req, source, config, responder)
                        }
                        #[cfg(any(feature = "revocation", feature = "dpop"))]
                        Ok(Revocation::Pending(check)) => {
                            // Move the ready inner service on; the clone left behind is
                            // dropped with this state.
                            let clone = inner.clone();
                            Kind::Authorize {
                                check,
                                inner: std::mem::replace(inner, clone),
                                request: Some(req),
                                source,
                                config: Arc::clone(config),
                                responder: responder.clone(),
                            }
                        }
                    }
                }
                #[cfg(any(feature = "revocation", feature = "dpop"))]
                KindProj::Authorize {
                    check,
                    inner,
                    request,
                    source,
                    config,
                    responder,
                } => {
                    let result = ready!(check.poll(cx));
                    #[allow(clippy::expect_used)]
                    let req = request.take().expect("future polled after completion");
                    proceed(result, inner, req, *source, config, responder)
                }
            };
            this.kind.set(next);
        }
    }
}

impl<S, ReqBody, ResBody, R> fmt::Debug for ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Future { .. } => "Future",
            Kind::Rejected { .. } => "Rejected",
            Kind::Verifying { .. } => "Verifying",
            #[cfg(any(feature = "revocation", feature = "dpop"))]
            Kind::Authorize { .. } => "Authorize",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
