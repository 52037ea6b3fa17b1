use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::oauth_client::TokenManager;
use http::{Request, Response};
use tower_service::Service;

use super::body::ReplayBody;
use super::error::OutboundError;
use super::future::ResponseFuture;
use super::layer::{AccessTokenLayer, Shared};

/// Middleware that adds `Authorization: Bearer <token>` to every request and, on a `401` for
/// that token, renews it and retries once. Created by [`AccessTokenLayer`].
#[derive(Clone, Debug)]
pub struct AccessToken<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> AccessToken<S> {
    /// Wraps `inner` with tokens from `tokens` (default renewal policy).
    pub fn new(inner: S, tokens: TokenManager) -> Self {
        use tower_layer::Layer as _;
        AccessTokenLayer::new(tokens).layer(inner)
    }

    pub(crate) fn from_parts(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// Returns a new [`Layer`](tower_layer::Layer) that wraps services with an
    /// [`AccessToken`] middleware.
    pub fn layer(tokens: TokenManager) -> AccessTokenLayer {
        AccessTokenLayer::new(tokens)
    }

    define_inner_service_accessors!();
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AccessToken<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ReqBody: ReplayBody,
{
    type Response = Response<ResBody>;
    type Error = OutboundError<S::Error>;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(OutboundError::Service)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The ready instance goes into the future (it may wait for a token first).
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        match shared.tokens.cached_token() {
            Some(token) => ResponseFuture::send(ready, req, token, shared),
            None => {
                let token = Box::pin(shared.tokens.access_token());
                ResponseFuture::acquire(ready, req, token, shared)
            }
        }
    }
}
