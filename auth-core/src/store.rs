//! What the storage-backed features share: [`StoreError`] and the optional [`Housekeeping`]
//! trait.
//!
//! Store traits ([`RefreshTokenStore`](crate::refresh::RefreshTokenStore),
//! [`RevocationStore`](crate::revocation::RevocationStore)) are shaped around atomic operations
//! (`rotate`, `revoke_token`) rather than `get` followed by `set`, so an in-memory map (entry
//! API) and a Redis backend (one script per operation) can both implement them without races.
//! Housekeeping is a separate trait: backends with native expiry (Redis TTLs) need none, and the
//! in-memory defaults implement it and run it lazily so their memory stays bounded.
//!
//! # Example
//!
//! ```
//! use auth_core::store::StoreError;
//! use auth_core::{AuthError, ErrorCode};
//!
//! let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "redis timed out");
//! let err = StoreError::with_source("revocation lookup failed", io);
//! assert_eq!(err.to_string(), "revocation lookup failed");
//! assert!(std::error::Error::source(&err).is_some());
//! // Per request, a store failure is a 503, never a silent accept.
//! assert_eq!(AuthError::from(err).code(), ErrorCode::AuthBackendUnavailable);
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::clock::UnixTime;
use crate::error::AuthError;

/// The attribute the store traits are declared with, re-exported so implementations need no
/// direct dependency on `async-trait`: write `#[auth_core::store::async_trait]` on the `impl`.
#[cfg(any(
    feature = "refresh",
    feature = "revocation",
    feature = "mfa",
    feature = "oidc-login"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "refresh",
        feature = "revocation",
        feature = "mfa",
        feature = "oidc-login"
    )))
)]
pub use async_trait::async_trait;

/// A storage backend failed (unreachable, timed out, refused the operation).
///
/// Per request this becomes [`AuthError::BackendUnavailable`] (503): a store that cannot answer
/// never lets a request through.
#[derive(Clone)]
pub struct StoreError {
    message: Box<str>,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl StoreError {
    /// An error with a message (for logs; never shown to clients).
    ///
    /// ```
    /// let e = auth_core::store::StoreError::new("capacity reached");
    /// assert_eq!(e.to_string(), "capacity reached");
    /// ```
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into().into_boxed_str(),
            source: None,
        }
    }

    /// An error with a message and the underlying cause.
    ///
    /// ```
    /// let io = std::io::Error::other("connection reset");
    /// let e = auth_core::store::StoreError::with_source("refresh store", io);
    /// assert!(std::error::Error::source(&e).is_some());
    /// ```
    #[must_use]
    pub fn with_source(
        message: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into().into_boxed_str(),
            source: Some(Arc::new(source)),
        }
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreError")
            .field("message", &self.message)
            .field("source", &self.source.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        let detail = match &e.source {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        };
        Self::BackendUnavailable(detail)
    }
}

/// Housekeeping of a store that keeps expiring entries itself (the in-memory defaults).
///
/// The in-memory stores call [`purge_expired`](Self::purge_expired) lazily from their own
/// operations (at most once per purge interval), so nobody has to run a sweeper; the trait lets
/// tests and operators trigger and observe it.
///
/// ```
/// # #[cfg(feature = "revocation")] {
/// use auth_core::clock::UnixTime;
/// use auth_core::revocation::MemoryRevocationStore;
/// use auth_core::store::Housekeeping;
///
/// let store = MemoryRevocationStore::new();
/// assert!(store.is_empty());
/// assert_eq!(store.purge_expired(UnixTime::from_secs(10)), 0);
/// # }
/// ```
pub trait Housekeeping {
    /// Removes every entry that has expired at `now`; returns how many were removed.
    fn purge_expired(&self, now: UnixTime) -> usize;

    /// The number of entries held (expired ones included until purged).
    fn len(&self) -> usize;

    /// Whether the store holds no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decides when a lazily-purging store runs its purge: at most once per interval, by exactly one
/// caller (compare-and-swap on the next due time).
#[cfg(any(
    feature = "refresh",
    feature = "revocation",
    feature = "oidc-login",
    all(feature = "mfa", feature = "memory-store")
))]
#[derive(Debug)]
pub(crate) struct LazyPurge {
    next_due_nanos: std::sync::atomic::AtomicU64,
    interval: std::time::Duration,
}

#[cfg(any(
    feature = "refresh",
    feature = "revocation",
    feature = "oidc-login",
    all(feature = "mfa", feature = "memory-store")
))]
impl LazyPurge {
    pub(crate) fn new(interval: std::time::Duration) -> Self {
        Self {
            next_due_nanos: std::sync::atomic::AtomicU64::new(0),
            interval,
        }
    }

    /// Whether the caller should purge now; true for at most one caller per interval.
    pub(crate) fn due(&self, now: UnixTime) -> bool {
        use std::sync::atomic::Ordering;
        let due = self.next_due_nanos.load(Ordering::Relaxed);
        if now.as_nanos() < due {
            return false;
        }
        let next = now.saturating_add(self.interval).as_nanos();
        self.next_due_nanos
            .compare_exchange(due, next, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
}

#[cfg(all(test, any(feature = "refresh", feature = "revocation")))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lazy_purge_is_due_once_per_interval() {
        let p = LazyPurge::new(Duration::from_secs(60));
        let t = UnixTime::from_secs(1_000);
        assert!(p.due(t));
        assert!(!p.due(t));
        assert!(!p.due(t.saturating_add(Duration::from_secs(59))));
        assert!(p.due(t.saturating_add(Duration::from_secs(60))));
    }
}
