//! [`ConfigError`] (a setting of the backend is unusable) and [`Error`] (one store operation
//! failed).

use std::error::Error as StdError;
use std::fmt;

/// A [`RedisBackend`](crate::RedisBackend) setting is invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL does not parse (its password, if any, is redacted here).
    Url {
        /// The URL, password redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The key prefix is unusable.
    Prefix {
        /// The prefix (at most 64 characters of it).
        prefix: String,
        /// Why.
        reason: &'static str,
    },
    /// A duration setting is zero.
    ZeroDuration {
        /// The setting.
        setting: &'static str,
    },
    /// [`RedisBackendBuilder::build`](crate::RedisBackendBuilder::build) ran outside a Tokio
    /// runtime.
    NoRuntime,
    /// A cluster builder was given no seed node.
    NoSeedNodes,
    /// The TLS settings are unusable: a CA or client certificate with a `redis://` URL, a
    /// `rediss://` URL in a build without the `tls` feature, or a certificate or key that does
    /// not parse.
    Tls {
        /// Why.
        reason: String,
    },
    /// A certificate or key file could not be read.
    TlsFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url { url, reason } => write!(f, "invalid redis url `{url}`: {reason}"),
            Self::Prefix { prefix, reason } => {
                write!(f, "invalid redis key prefix `{prefix}`: {reason}")
            }
            Self::ZeroDuration { setting } => write!(f, "redis {setting} must not be zero"),
            Self::NoSeedNodes => f.write_str("a redis cluster needs at least one seed node"),
            Self::Tls { reason } => write!(f, "invalid redis tls settings: {reason}"),
            Self::TlsFile { path, reason } => {
                write!(f, "cannot read redis tls file `{path}`: {reason}")
            }
            Self::NoRuntime => f.write_str(
                "the redis backend must be built inside a tokio runtime (its connection runs \
                 background tasks)",
            ),
        }
    }
}

impl StdError for ConfigError {}

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No answer within the timeout (Redis slow, unreachable, or reconnecting).
    TimedOut,
    /// The connection failed or Redis answered with an error.
    Unavailable,
    /// The TLS handshake failed: the server's certificate is not signed by a trusted CA, does
    /// not name the host connected to, or the server refused the client certificate. Not
    /// retried into success: fix the configuration.
    Tls,
    /// Redis answered something the store cannot read (another program's data under this
    /// prefix, or a version mismatch).
    UnexpectedReply,
}

/// A store operation failed. The stores turn it into their trait's error type, so callers see
/// `AUTH_BACKEND_UNAVAILABLE` (503) or a fail-open pass, never a hang or a panic.
///
/// A timed-out operation is **indeterminate**: its script may still have run on the server.
pub struct Error {
    kind: ErrorKind,
    operation: &'static str,
    detail: Option<String>,
    source: Option<redis::RedisError>,
}

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        operation: &'static str,
        detail: Option<String>,
        source: Option<redis::RedisError>,
    ) -> Self {
        Self {
            kind,
            operation,
            detail,
            source,
        }
    }

    pub(crate) fn unexpected(operation: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::UnexpectedReply,
            operation,
            detail: Some(detail.into()),
            source: None,
        }
    }

    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The store operation that failed, e.g. `"attempts.admit"`.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("operation", &self.operation)
            .field("detail", &self.detail)
            .field("source", &self.source.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::TimedOut => "timed out",
            ErrorKind::Unavailable => "failed",
            ErrorKind::UnexpectedReply => "got an unexpected reply",
            ErrorKind::Tls => "failed its tls handshake",
        };
        write!(f, "redis {} {what}", self.operation)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn StdError + 'static))
    }
}
