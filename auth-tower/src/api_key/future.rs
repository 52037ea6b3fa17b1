use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use auth_core::api_key::Verify;
use http::{Request, Response};
use pin_project::pin_project;
use tower_service::Service;

use super::layer::ApiKeyConfig;
use super::service::{accept, reject};
use crate::rejection::{Rejection, Schemes};
use crate::response::{RejectionResponse, render};

/// Response future of [`ApiKey`](super::ApiKey).
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
    /// The store is being asked; the ready inner service waits here for the request.
    Authorize {
        #[pin]
        check: Verify,
        inner: S,
        request: Option<Request<ReqBody>>,
        config: Arc<ApiKeyConfig>,
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

    pub(crate) fn authorize(
        check: Verify,
        inner: S,
        request: Request<ReqBody>,
        config: Arc<ApiKeyConfig>,
        responder: R,
    ) -> Self {
        Self {
            kind: Kind::Authorize {
                check,
                inner,
                request: Some(request),
                config,
                responder,
            },
        }
    }
}

impl<S, ReqBody, ResBody, R> Future for ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
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
                KindProj::Authorize {
                    check,
                    inner,
                    request,
                    config,
                    responder,
                } => {
                    let result = ready!(check.poll(cx));
                    #[allow(clippy::expect_used)]
                    let mut req = request.take().expect("future polled after completion");
                    match result.and_then(|verified| accept(config, verified, &mut req)) {
                        Ok(()) => Kind::Future {
                            future: inner.call(req),
                        },
                        Err(e) => {
                            let schemes = Schemes::for_error(&e, Schemes::API_KEY);
                            let rejection = reject(config, e, &req, schemes);
                            Kind::Rejected {
                                response: Some(render(responder, rejection)),
                            }
                        }
                    }
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
            Kind::Authorize { .. } => "Authorize",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
