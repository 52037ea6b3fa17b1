use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use auth_core::jwt::Verify;
use http::{Request, Response};
use pin_project::pin_project;
use tower_service::Service;

use super::layer::BearerConfig;
use super::service::{accept, reject};
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
        config: Arc<BearerConfig>,
        responder: R,
    ) -> Self {
        Self {
            kind: Kind::Verifying {
                verify,
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
                KindProj::Verifying {
                    verify,
                    inner,
                    request,
                    config,
                    responder,
                } => {
                    let result = ready!(verify.poll(cx));
                    #[allow(clippy::expect_used)]
                    let mut req = request.take().expect("future polled after completion");
                    match result.and_then(|p| accept(config, p, &mut req)) {
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
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
