//! Errors: [`ConfigError`] (building a backend) and [`Error`] (one failed store operation,
//! which the store traits report as a backend failure: 503 `AUTH_BACKEND_UNAVAILABLE`).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A [`PgBackend`](crate::PgBackend) could not be built from its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(String);

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid postgres configuration: {}", self.0)
    }
}

impl StdError for ConfigError {}

/// What went wrong in one store operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The database refused the operation, or the connection failed.
    Database,
    /// The operation took longer than the backend's time limit.
    Timeout,
    /// The database answered with something this crate did not write (a corrupt row).
    Unexpected,
}

/// A store operation failed. Stores turn it into their trait's error (a backend failure:
/// 503 `AUTH_BACKEND_UNAVAILABLE` per request); the detail is for logs only.
#[derive(Clone, Debug)]
pub struct Error {
    kind: ErrorKind,
    op: &'static str,
    detail: String,
    source: Option<Arc<sqlx::Error>>,
}

impl Error {
    pub(crate) fn database(op: &'static str, e: sqlx::Error) -> Self {
        Self {
            kind: ErrorKind::Database,
            op,
            detail: String::new(),
            source: Some(Arc::new(e)),
        }
    }

    pub(crate) fn timeout(op: &'static str, limit: Duration) -> Self {
        Self {
            kind: ErrorKind::Timeout,
            op,
            detail: format!("no answer within {} ms", limit.as_millis()),
            source: None,
        }
    }

    pub(crate) fn unexpected(op: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Unexpected,
            op,
            detail: detail.into(),
            source: None,
        }
    }

    /// What kind of failure it was.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The operation that failed (e.g. `api_key.find_by_hash`).
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.op
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.source) {
            (ErrorKind::Database, Some(e)) => write!(f, "postgres {}: {e}", self.op),
            (ErrorKind::Database, None) => write!(f, "postgres {}: database error", self.op),
            (ErrorKind::Timeout, _) => write!(f, "postgres {} timed out: {}", self.op, self.detail),
            (ErrorKind::Unexpected, _) => {
                write!(f, "postgres {}: unexpected data: {}", self.op, self.detail)
            }
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<Error> for auth_core::store::StoreError {
    fn from(e: Error) -> Self {
        Self::with_source(format!("postgres {} failed", e.op), e)
    }
}

impl From<Error> for auth_core::api_key::StoreError {
    fn from(e: Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}
