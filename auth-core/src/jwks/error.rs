//! [`FetchError`]: why a key set could not be refreshed.

use std::fmt;

use super::http::HttpError;

/// Why fetching a key set failed. The cache keeps serving its last good keys (within the
/// stale window) whatever the reason; the reason goes to logs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchError {
    /// The HTTP exchange failed.
    Http {
        /// The URL fetched.
        url: String,
        /// What went wrong.
        error: HttpError,
    },
    /// The server answered with a status other than 200.
    Status {
        /// The URL fetched.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body is not a JWK Set (not JSON, or no `keys` array).
    Document {
        /// The URL fetched.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The JWK Set has no key this verifier can use (each was skipped; see the logs).
    NoUsableKeys {
        /// The URL fetched.
        url: String,
        /// How many JWKs were skipped.
        skipped: usize,
    },
    /// OpenID Connect discovery failed (wrong `issuer`, no acceptable `jwks_uri`, ...).
    Discovery {
        /// The configured issuer.
        issuer: String,
        /// What went wrong.
        reason: String,
    },
    /// The key source was dropped while the fetch ran.
    SourceDropped,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http { url, error } => write!(f, "fetching {url} failed: {error}"),
            Self::Status { url, status } => write!(f, "{url} answered http {status}"),
            Self::Document { url, reason } => write!(f, "{url} is not a jwk set: {reason}"),
            Self::NoUsableKeys { url, skipped } => {
                write!(f, "{url} has no usable key ({skipped} skipped)")
            }
            Self::Discovery { issuer, reason } => {
                write!(f, "openid discovery for `{issuer}` failed: {reason}")
            }
            Self::SourceDropped => f.write_str("the key source was dropped"),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http { error, .. } => Some(error),
            _ => None,
        }
    }
}
