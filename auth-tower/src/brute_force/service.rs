use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use auth_core::AuthError;
use auth_core::brute_force::{AttemptOutcome, AttemptStoreError, Blocked, ClientKey, LoginAttempt};
use http::{Request, Response};
use tower_service::Service;

use super::future::{AuditFacts, Ctx, ResponseFuture};
use super::key::KeyExtractor;
use super::layer::BruteForceConfig;
use crate::rejection::{Realm, Rejection, is_grpc};
use crate::response::RejectionResponse;

/// Middleware that protects login-like endpoints; see
/// [`BruteForceLayer`](super::BruteForceLayer).
#[derive(Clone, Debug)]
pub struct BruteForce<S, K, R> {
    inner: S,
    config: Arc<BruteForceConfig>,
    key: K,
    responder: R,
}

impl<S, K, R> BruteForce<S, K, R> {
    pub(crate) fn from_parts(
        inner: S,
        config: Arc<BruteForceConfig>,
        key: K,
        responder: R,
    ) -> Self {
        Self {
            inner,
            config,
            key,
            responder,
        }
    }

    define_inner_service_accessors!();
}

/// The 429 for a refusal.
pub(crate) fn too_many(blocked: &Blocked, grpc: bool) -> Rejection {
    // The store already rounds the strict way; never advertise less than a second.
    let retry_after = blocked.retry_after().max(Duration::from_secs(1));
    Rejection::new(
        AuthError::TooManyAttempts { retry_after },
        Realm::default(),
        grpc,
    )
}

/// The 503 when the store failed (or no client key could be derived).
pub(crate) fn unavailable(detail: String, grpc: bool) -> Rejection {
    Rejection::new(
        AuthError::BackendUnavailable(detail),
        Realm::default(),
        grpc,
    )
}

pub(crate) fn log_store_error(err: &AttemptStoreError, client: &ClientKey, fail_open: bool) {
    tracing::error!(
        target: "auth::brute_force",
        client = %client,
        error = %err,
        fail_open,
        "attempt store failed"
    );
}

/// What the handler said about the attempt: its [`LoginAttempt`] extension, or else the
/// response's status (`grpc-status` for trailers-only gRPC answers).
pub(crate) fn attempt_of<B>(res: &Response<B>) -> LoginAttempt {
    if let Some(attempt) = res.extensions().get::<LoginAttempt>() {
        return attempt.clone();
    }
    let outcome = match res
        .headers()
        .get("grpc-status")
        .map(http::HeaderValue::as_bytes)
    {
        Some(b"0") => AttemptOutcome::Success,
        // UNAUTHENTICATED, PERMISSION_DENIED
        Some(b"16" | b"7") => AttemptOutcome::Failure,
        Some(_) => AttemptOutcome::Neutral,
        None => match res.status().as_u16() {
            200..=299 => AttemptOutcome::Success,
            401 | 403 => AttemptOutcome::Failure,
            _ => AttemptOutcome::Neutral,
        },
    };
    LoginAttempt::new(None, outcome)
}

impl<S, K, R, ReqBody, ResBody> Service<Request<ReqBody>> for BruteForce<S, K, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    K: KeyExtractor,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let grpc = is_grpc(req.headers());
        let Some(client) = self.key.extract(&req) else {
            tracing::error!(
                target: "auth::brute_force",
                path = req.uri().path(),
                "no client key for this request: serve with a peer address (axum: \
                 `into_make_service_with_connect_info::<SocketAddr>()` and the \
                 `axum-connect-info` feature; hyper: insert `ClientAddr`), or make the key \
                 extractor return a key for every request"
            );
            let rejection = unavailable("no client key".to_owned(), grpc);
            return ResponseFuture::rejected(&mut self.responder, rejection);
        };
        // The store is asynchronous: the ready inner service goes into the future, this service
        // keeps a fresh clone that must be polled ready again.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        // Layers and handlers further in report this client in their audit events.
        req.extensions_mut().insert(client.clone());
        let ctx = Ctx {
            client,
            grpc,
            config: Arc::clone(&self.config),
            responder: self.responder.clone(),
            audit: AuditFacts::of(&req),
        };
        ResponseFuture::checking(inner, req, ctx)
    }
}
