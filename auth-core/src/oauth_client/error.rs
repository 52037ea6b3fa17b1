//! [`TokenError`]: why no access token could be obtained.

use std::fmt;

/// Why the token endpoint gave no usable access token.
///
/// `Display` is for logs: it names the reason and the server's `error_description` (bounded,
/// control characters removed), never a secret, an assertion or a token.
/// [`class`](Self::class) is a short, stable name of the reason, safe to show to callers.
///
/// ```
/// use auth_core::oauth_client::TokenError;
///
/// let e = TokenError::Timeout;
/// assert_eq!(e.class(), "timeout");
/// assert!(e.is_retryable());
/// assert_eq!(TokenError::CODE, "OUTBOUND_TOKEN_UNAVAILABLE");
/// assert_eq!(TokenError::HTTP_STATUS, 503);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// `invalid_client`: the server does not accept the client's credentials (wrong secret,
    /// unknown client, bad assertion, or an authentication method it does not allow).
    InvalidClient {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// `invalid_scope`: a requested scope is unknown or not allowed for this client.
    InvalidScope {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// `unauthorized_client`: the client may not use the client-credentials grant.
    UnauthorizedClient {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// Another OAuth error (`invalid_request`, `invalid_grant`, `invalid_target`,
    /// `unsupported_grant_type`, ...).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The `error` code.
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The token endpoint answered a status that is neither 200 nor an OAuth error (a `5xx`,
    /// a redirect, `404`, `429`, ...). `5xx` is retried.
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// Connecting, TLS or the exchange failed. Retried.
    Transport(String),
    /// The exchange did not finish in time. Retried.
    Timeout,
    /// The answer is not a usable token response (not JSON, no `access_token`, a token with
    /// characters not allowed in a header, a body over the limit, ...).
    Malformed(String),
    /// `token_type` is not `Bearer` (or is missing); the value received, if any.
    UnsupportedTokenType(Option<String>),
    /// The token endpoint could not be discovered from the issuer's metadata.
    Discovery(String),
    /// The `private_key_jwt` assertion could not be made.
    ClientAssertion(String),
}

impl TokenError {
    /// The stable code of the answer a server gives its own caller when an outbound call
    /// cannot get a token (see the crate README): `OUTBOUND_TOKEN_UNAVAILABLE`.
    pub const CODE: &'static str = "OUTBOUND_TOKEN_UNAVAILABLE";
    /// The HTTP status of that answer: 503.
    pub const HTTP_STATUS: u16 = 503;

    /// A short, stable name of the reason: `invalid_client`, `invalid_scope`,
    /// `unauthorized_client`, `token_request_rejected`, `server_error` (a `5xx`),
    /// `unexpected_status`, `transport`, `timeout`, `malformed_response`,
    /// `unsupported_token_type`, `discovery` or `client_assertion`. Contains nothing secret.
    #[must_use]
    pub fn class(&self) -> &'static str {
        match self {
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidScope { .. } => "invalid_scope",
            Self::UnauthorizedClient { .. } => "unauthorized_client",
            Self::Rejected { .. } => "token_request_rejected",
            Self::Status { status } if *status >= 500 => "server_error",
            Self::Status { .. } => "unexpected_status",
            Self::Transport(_) => "transport",
            Self::Timeout => "timeout",
            Self::Malformed(_) => "malformed_response",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::Discovery(_) => "discovery",
            Self::ClientAssertion(_) => "client_assertion",
        }
    }

    /// Whether trying again at once may help: transport errors, timeouts and `5xx` answers.
    /// The token manager retries these a bounded number of times within one token request.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Timeout => true,
            Self::Status { status } => *status >= 500,
            _ => false,
        }
    }
}

fn description(f: &mut fmt::Formatter<'_>, d: Option<&String>) -> fmt::Result {
    match d {
        Some(d) => write!(f, ": {d}"),
        None => Ok(()),
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidClient { description: d } => {
                f.write_str("token endpoint refused the client credentials (invalid_client)")?;
                description(f, d.as_ref())
            }
            Self::InvalidScope { description: d } => {
                f.write_str("token endpoint refused the requested scope (invalid_scope)")?;
                description(f, d.as_ref())
            }
            Self::UnauthorizedClient { description: d } => {
                f.write_str(
                    "client may not use the client-credentials grant (unauthorized_client)",
                )?;
                description(f, d.as_ref())
            }
            Self::Rejected {
                status,
                error,
                description: d,
            } => {
                write!(f, "token endpoint answered {status} {error}")?;
                description(f, d.as_ref())
            }
            Self::Status { status } => write!(f, "token endpoint answered http {status}"),
            Self::Transport(m) => write!(f, "token request failed: {m}"),
            Self::Timeout => f.write_str("token request timed out"),
            Self::Malformed(m) => write!(f, "token response is malformed: {m}"),
            Self::UnsupportedTokenType(Some(t)) => write!(
                f,
                "token_type `{}` is not supported (only Bearer is)",
                t.escape_debug()
            ),
            Self::UnsupportedTokenType(None) => {
                f.write_str("token response has no token_type (only Bearer is supported)")
            }
            Self::Discovery(m) => write!(f, "token endpoint discovery failed: {m}"),
            Self::ClientAssertion(m) => write!(f, "client assertion could not be signed: {m}"),
        }
    }
}

impl std::error::Error for TokenError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_timeouts_and_5xx_are_retryable_and_oauth_errors_are_not() {
        assert!(TokenError::Transport("refused".into()).is_retryable());
        assert!(TokenError::Timeout.is_retryable());
        assert!(TokenError::Status { status: 503 }.is_retryable());
        assert!(!TokenError::Status { status: 429 }.is_retryable());
        assert!(!TokenError::InvalidClient { description: None }.is_retryable());
        assert!(!TokenError::Malformed("x".into()).is_retryable());
    }

    #[test]
    fn classes_are_stable_names() {
        assert_eq!(TokenError::Status { status: 502 }.class(), "server_error");
        assert_eq!(
            TokenError::Status { status: 404 }.class(),
            "unexpected_status"
        );
        assert_eq!(
            TokenError::UnsupportedTokenType(Some("DPoP".into())).to_string(),
            "token_type `DPoP` is not supported (only Bearer is)"
        );
    }
}
