use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use auth_core::jwt::BoxFuture;
use auth_core::oauth_client::{BearerToken, RenewOn, TokenError};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response};
use pin_project::pin_project;
use tower_service::Service;

use super::body::ReplayBody;
use super::error::OutboundError;
use super::layer::Shared;

type TokenFuture = BoxFuture<'static, Result<BearerToken, TokenError>>;

/// Response future of [`AccessToken`](super::AccessToken).
#[pin_project]
pub struct ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    #[pin]
    kind: Kind<S, B>,
    shared: Arc<Shared>,
}

#[pin_project(project = KindProj)]
enum Kind<S, B>
where
    S: Service<Request<B>>,
{
    /// No cached token: waiting for one before anything is sent.
    Acquire {
        token: TokenFuture,
        svc: Option<S>,
        req: Option<Request<B>>,
    },
    /// The request is out with `token`; `replay` is its copy for one retry.
    First {
        #[pin]
        future: S::Future,
        svc: Option<S>,
        token: Option<BearerToken>,
        replay: Option<Request<B>>,
    },
    /// A `401` came back; waiting for the renewed token (or the reason there is none).
    Renew {
        token: TokenFuture,
        svc: Option<S>,
        rejected: Option<BearerToken>,
        replay: Option<Request<B>>,
        response: Option<S::Response>,
    },
    /// Waiting for the inner service to be ready for the retry.
    Ready {
        svc: Option<S>,
        req: Option<Request<B>>,
    },
    /// The retry is out; its answer is final.
    Retry {
        #[pin]
        future: S::Future,
    },
    /// The request failed before it was sent.
    Failed { error: Option<TokenError> },
}

impl<S, B> std::fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// The request with `Authorization: Bearer <token>` (replacing any), marked sensitive.
fn authorize<B>(req: &mut Request<B>, token: &BearerToken) -> Result<(), TokenError> {
    let mut value = HeaderValue::from_str(token.authorization())
        .map_err(|_| TokenError::Malformed("access token is not a valid header value".into()))?;
    value.set_sensitive(true);
    req.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

/// A copy of `req` for a retry, when its body can be replayed.
fn replay_of<B: ReplayBody>(req: &Request<B>) -> Option<Request<B>> {
    let body = req.body().try_replay()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    Some(copy)
}

impl<S, B> Kind<S, B>
where
    S: Service<Request<B>>,
    B: ReplayBody,
{
    /// Sends `req` with `token` through the ready `svc`.
    fn first(mut svc: S, mut req: Request<B>, token: BearerToken, shared: &Shared) -> Self {
        if let Err(error) = authorize(&mut req, &token) {
            return Self::Failed { error: Some(error) };
        }
        let replay = match shared.renew_on {
            RenewOn::Never => None,
            _ => replay_of(&req),
        };
        let future = svc.call(req);
        Self::First {
            future,
            svc: Some(svc),
            token: Some(token),
            replay,
        }
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
    B: ReplayBody,
{
    pub(crate) fn send(svc: S, req: Request<B>, token: BearerToken, shared: Arc<Shared>) -> Self {
        Self {
            kind: Kind::first(svc, req, token, &shared),
            shared,
        }
    }

    pub(crate) fn acquire(
        svc: S,
        req: Request<B>,
        token: TokenFuture,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            kind: Kind::Acquire {
                token,
                svc: Some(svc),
                req: Some(req),
            },
            shared,
        }
    }
}

const POLLED_AFTER_COMPLETION: &str = "ResponseFuture polled after completion";

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    B: ReplayBody,
{
    type Output = Result<Response<ResBody>, OutboundError<S::Error>>;

    #[allow(clippy::expect_used)] // only "polled after completion", as futures do
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let shared: &Shared = this.shared;
        let client_id = shared.tokens.client_id();
        loop {
            let next = match this.kind.as_mut().project() {
                KindProj::Acquire { token, svc, req } => match ready!(token.as_mut().poll(cx)) {
                    Ok(token) => {
                        let svc = svc.take().expect(POLLED_AFTER_COMPLETION);
                        let req = req.take().expect(POLLED_AFTER_COMPLETION);
                        Kind::first(svc, req, token, shared)
                    }
                    Err(error) => {
                        tracing::warn!(
                            target: "auth::oauth_client",
                            client_id,
                            outcome = "not_sent",
                            reason = error.class(),
                            "outbound request not sent: no access token",
                        );
                        return Poll::Ready(Err(OutboundError::Token(error)));
                    }
                },
                KindProj::Failed { error } => {
                    let error = error.take().expect(POLLED_AFTER_COMPLETION);
                    return Poll::Ready(Err(OutboundError::Token(error)));
                }
                KindProj::First {
                    future,
                    svc,
                    token,
                    replay,
                } => {
                    let response = ready!(future.poll(cx)).map_err(OutboundError::Service)?;
                    let challenges = response
                        .headers()
                        .get_all(WWW_AUTHENTICATE)
                        .iter()
                        .filter_map(|v| v.to_str().ok());
                    if !shared
                        .renew_on
                        .should_renew(response.status().as_u16(), challenges)
                    {
                        return Poll::Ready(Ok(response));
                    }
                    let rejected = token.take().expect(POLLED_AFTER_COMPLETION);
                    let renewal = shared.tokens.renew_rejected(&rejected);
                    let Some(replay) = replay.take() else {
                        // The renewal (if one started) runs on without us; the next request
                        // gets the new token.
                        tracing::debug!(
                            target: "auth::oauth_client",
                            client_id,
                            outcome = "not_retried",
                            reason = "body_not_replayable",
                            "downstream answered 401; the request body cannot be sent again, so the 401 is returned",
                        );
                        return Poll::Ready(Ok(response));
                    };
                    Kind::Renew {
                        token: Box::pin(renewal),
                        svc: svc.take(),
                        rejected: Some(rejected),
                        replay: Some(replay),
                        response: Some(response),
                    }
                }
                KindProj::Renew {
                    token,
                    svc,
                    rejected,
                    replay,
                    response,
                } => {
                    let renewed = ready!(token.as_mut().poll(cx));
                    let response = response.take().expect(POLLED_AFTER_COMPLETION);
                    let rejected = rejected.take().expect(POLLED_AFTER_COMPLETION);
                    let new = match renewed {
                        Ok(new) if !new.same_token(&rejected) => new,
                        Ok(_) => {
                            tracing::debug!(
                                target: "auth::oauth_client",
                                client_id,
                                outcome = "not_retried",
                                reason = "not_renewed_within_cooldown",
                                "downstream answered 401 again soon after a renewal; the 401 is returned",
                            );
                            return Poll::Ready(Ok(response));
                        }
                        Err(error) => {
                            tracing::warn!(
                                target: "auth::oauth_client",
                                client_id,
                                outcome = "not_retried",
                                reason = error.class(),
                                "downstream answered 401 and no new token could be had; the 401 is returned",
                            );
                            return Poll::Ready(Ok(response));
                        }
                    };
                    let mut req = replay.take().expect(POLLED_AFTER_COMPLETION);
                    if let Err(error) = authorize(&mut req, &new) {
                        return Poll::Ready(Err(OutboundError::Token(error)));
                    }
                    tracing::info!(
                        target: "auth::oauth_client",
                        client_id,
                        outcome = "retry",
                        reason = "rejected_downstream",
                        "downstream answered 401; retrying once with the renewed token",
                    );
                    drop(response);
                    Kind::Ready {
                        svc: svc.take(),
                        req: Some(req),
                    }
                }
                KindProj::Ready { svc, req } => {
                    let inner = svc.as_mut().expect(POLLED_AFTER_COMPLETION);
                    ready!(inner.poll_ready(cx)).map_err(OutboundError::Service)?;
                    let req = req.take().expect(POLLED_AFTER_COMPLETION);
                    Kind::Retry {
                        future: inner.call(req),
                    }
                }
                KindProj::Retry { future } => {
                    // A second 401 (or anything else) is the answer.
                    return future.poll(cx).map_err(OutboundError::Service);
                }
            };
            this.kind.set(next);
        }
    }
}
