//! [`OutboundError`]: the error of a request sent through [`AccessTokenLayer`](super::AccessTokenLayer).

use std::fmt;

use auth_core::oauth_client::TokenError;

/// Why an outbound request produced no response: no access token could be had (and so the
/// request was **not sent**), or the inner service (the HTTP client) failed.
///
/// A server that makes the outbound call on behalf of its own caller answers
/// [`Token`](Self::Token) with `503` and the code [`TokenError::CODE`]
/// (`OUTBOUND_TOKEN_UNAVAILABLE`), naming [`TokenError::class`], never the secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum OutboundError<E> {
    /// No access token: nothing was sent downstream.
    Token(TokenError),
    /// The inner service's error.
    Service(E),
}

impl<E> OutboundError<E> {
    /// The token error, if that is what this is.
    #[must_use]
    pub fn token_error(&self) -> Option<&TokenError> {
        match self {
            Self::Token(e) => Some(e),
            Self::Service(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for OutboundError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(e) => write!(f, "no access token for the outbound request: {e}"),
            Self::Service(e) => write!(f, "outbound request failed: {e}"),
        }
    }
}

impl<E> std::error::Error for OutboundError<E>
where
    E: std::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Token(e) => Some(e),
            Self::Service(e) => Some(e),
        }
    }
}
