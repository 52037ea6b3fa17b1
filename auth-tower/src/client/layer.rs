use std::sync::Arc;

use auth_core::oauth_client::{RenewOn, TokenManager};
use tower_layer::Layer;

use super::service::AccessToken;

/// What every [`AccessToken`] service of one layer shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) tokens: TokenManager,
    pub(crate) renew_on: RenewOn,
}

/// Layer that authenticates outgoing requests with client-credentials access tokens. See the
/// [module docs](super).
#[derive(Clone, Debug)]
#[must_use]
pub struct AccessTokenLayer {
    shared: Arc<Shared>,
}

impl AccessTokenLayer {
    /// A layer that takes its tokens from `tokens` and renews on a `401` as
    /// [`RenewOn::default`] says (`error="invalid_token"`, or no `error` attribute).
    pub fn new(tokens: TokenManager) -> Self {
        Self {
            shared: Arc::new(Shared {
                tokens,
                renew_on: RenewOn::default(),
            }),
        }
    }

    /// Which downstream `401`s make it renew the token and retry (see [`RenewOn`]).
    pub fn renew_on(self, renew_on: RenewOn) -> Self {
        Self {
            shared: Arc::new(Shared {
                tokens: self.shared.tokens.clone(),
                renew_on,
            }),
        }
    }

    /// The token manager.
    #[must_use]
    pub fn tokens(&self) -> &TokenManager {
        &self.shared.tokens
    }
}

impl<S> Layer<S> for AccessTokenLayer {
    type Service = AccessToken<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessToken::from_parts(inner, Arc::clone(&self.shared))
    }
}
