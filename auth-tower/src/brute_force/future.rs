use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use auth_core::ErrorCode;
use auth_core::audit::{AuditEvent, Method};
use auth_core::brute_force::{Admission, AttemptStoreError, ClientKey, Verdict};
use http::{Request, Response};
use pin_project::pin_project;
use tower_service::Service;

use super::layer::BruteForceConfig;
use super::service::{attempt_of, log_store_error, too_many, unavailable};
use crate::rejection::Rejection;
use crate::response::{RejectionResponse, render};

type StoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, AttemptStoreError>> + Send>>;

/// What the future needs besides the request: who is asking and how to answer.
pub(crate) struct Ctx<R> {
    pub(crate) client: ClientKey,
    pub(crate) grpc: bool,
    pub(crate) config: Arc<BruteForceConfig>,
    pub(crate) responder: R,
    /// The route template and request id, for the audit event of a block.
    pub(crate) audit: AuditFacts,
}

/// What the audit event of a block needs from a request that may be gone by then.
#[derive(Debug, Default)]
pub(crate) struct AuditFacts {
    pub(crate) route: Option<String>,
    pub(crate) request_id: Option<String>,
}

impl AuditFacts {
    pub(crate) fn of<B>(req: &Request<B>) -> Self {
        let ctx = crate::audit::AuditContext::of(req.headers(), req.extensions());
        Self {
            route: ctx.route().map(str::to_owned),
            request_id: ctx.request_id().map(str::to_owned),
        }
    }
}

/// The audit event (and metric) of a refused attempt.
fn audit_block<R>(ctx: &Ctx<R>) {
    let mut event =
        AuditEvent::failure(Method::BruteForce, ErrorCode::TooManyAttempts).client(&ctx.client);
    if let Some(route) = &ctx.audit.route {
        event = event.route(route);
    }
    if let Some(id) = &ctx.audit.request_id {
        event = event.request_id(id);
    }
    event.emit();
    auth_core::metrics::brute_force_block();
}

/// Response future of [`BruteForce`](super::BruteForce).
///
/// Checks the store, then (if admitted) calls the inner service, then records the outcome and
/// possibly replaces the response with a refusal.
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
    Rejected {
        response: Option<Response<ResBody>>,
    },
    Checking {
        check: StoreFuture<Admission>,
        inner: S,
        request: Option<Request<ReqBody>>,
        ctx: Option<Ctx<R>>,
    },
    Calling {
        #[pin]
        future: S::Future,
        ctx: Option<Ctx<R>>,
    },
    Recording {
        record: StoreFuture<Verdict>,
        response: Option<Response<ResBody>>,
        ctx: Option<Ctx<R>>,
    },
}

impl<S, ReqBody, ResBody, R> ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
    R: RejectionResponse<ResBody>,
{
    pub(crate) fn rejected(responder: &mut R, rejection: Rejection) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(render(responder, rejection)),
            },
        }
    }

    pub(crate) fn checking(inner: S, request: Request<ReqBody>, ctx: Ctx<R>) -> Self {
        let limiter = ctx.config.limiter.clone();
        let client = ctx.client.clone();
        Self {
            kind: Kind::Checking {
                check: Box::pin(async move { limiter.check(&client).await }),
                inner,
                request: Some(request),
                ctx: Some(ctx),
            },
        }
    }
}

fn recording<S, ReqBody, ResBody, R>(
    response: Response<ResBody>,
    ctx: Ctx<R>,
) -> Kind<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    let attempt = attempt_of(&response);
    let limiter = ctx.config.limiter.clone();
    let client = ctx.client.clone();
    Kind::Recording {
        record: Box::pin(async move { limiter.record(&client, &attempt).await }),
        response: Some(response),
        ctx: Some(ctx),
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
                KindProj::Rejected { response } => {
                    #[allow(clippy::expect_used)]
                    let response = response.take().expect("future polled after completion");
                    return Poll::Ready(Ok(response));
                }
                KindProj::Checking {
                    check,
                    inner,
                    request,
                    ctx,
                } => {
                    let result = ready!(check.as_mut().poll(cx));
                    #[allow(clippy::expect_used)]
                    let (req, mut ctx) = request
                        .take()
                        .zip(ctx.take())
                        .expect("future polled after completion");
                    match result {
                        Ok(Admission::Admitted) => Kind::Calling {
                            future: inner.call(req),
                            ctx: Some(ctx),
                        },
                        // Refused before the handler: no password hashing for the attacker.
                        Ok(Admission::Blocked(blocked)) => {
                            audit_block(&ctx);
                            Kind::Rejected {
                                response: Some(render(
                                    &mut ctx.responder,
                                    too_many(&blocked, ctx.grpc),
                                )),
                            }
                        }
                        Err(e) => {
                            log_store_error(&e, &ctx.client, ctx.config.fail_open);
                            if ctx.config.fail_open {
                                Kind::Calling {
                                    future: inner.call(req),
                                    ctx: Some(ctx),
                                }
                            } else {
                                Kind::Rejected {
                                    response: Some(render(
                                        &mut ctx.responder,
                                        unavailable(e.to_string(), ctx.grpc),
                                    )),
                                }
                            }
                        }
                    }
                }
                KindProj::Calling { future, ctx } => {
                    let response = ready!(future.poll(cx))?;
                    #[allow(clippy::expect_used)]
                    let ctx = ctx.take().expect("future polled after completion");
                    recording(response, ctx)
                }
                KindProj::Recording {
                    record,
                    response,
                    ctx,
                } => {
                    let result = ready!(record.as_mut().poll(cx));
                    #[allow(clippy::expect_used)]
                    let (response, mut ctx) = response
                        .take()
                        .zip(ctx.take())
                        .expect("future polled after completion");
                    let out = match result {
                        Ok(Verdict::Recorded(_)) => response,
                        // The account is locked for this client: whatever the handler said
                        // (even a success) is replaced, so guesses reveal nothing.
                        Ok(Verdict::Blocked(blocked)) => {
                            audit_block(&ctx);
                            render(&mut ctx.responder, too_many(&blocked, ctx.grpc))
                        }
                        Err(e) => {
                            log_store_error(&e, &ctx.client, ctx.config.fail_open);
                            if ctx.config.fail_open {
                                response
                            } else {
                                render(&mut ctx.responder, unavailable(e.to_string(), ctx.grpc))
                            }
                        }
                    };
                    return Poll::Ready(Ok(out));
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
            Kind::Rejected { .. } => "Rejected",
            Kind::Checking { .. } => "Checking",
            Kind::Calling { .. } => "Calling",
            Kind::Recording { .. } => "Recording",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
