//! Where verification keys come from.
//!
//! Key lookup is synchronous in the common case (keys already in memory) and may become
//! asynchronous when a resolver has to learn a key it does not know yet (a JWKS fetch: see
//! `JwksSource` in the `jwks` module, behind the `jwks` feature). The [`KeyResolver`] trait has both halves, so new sources plug in without
//! changing [`JwtVerifier`](super::JwtVerifier)'s API.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::algorithm::Algorithm;
use super::key_set::KeySet;
use crate::error::AuthError;

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of verification keys.
pub trait KeyResolver: fmt::Debug + Send + Sync + 'static {
    /// The keys usable right now without waiting, or `None` when none are loaded yet.
    fn current(&self) -> Option<Arc<KeySet>>;

    /// Called when [`current`](Self::current) had no key for a token's `kid` and `alg` (or no
    /// keys at all). A resolver that can learn keys returns a future yielding a fresh set;
    /// the default returns `None`, meaning "the token's key is unknown".
    ///
    /// Implementations must rate-limit themselves: this is reachable by unauthenticated input.
    fn refresh(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Option<BoxFuture<'static, Result<Arc<KeySet>, AuthError>>> {
        let _ = (kid, alg);
        None
    }
}

/// A shared resolver is a resolver (e.g. one `Arc<dyn KeyResolver>` for several verifiers).
impl<T: KeyResolver + ?Sized> KeyResolver for Arc<T> {
    fn current(&self) -> Option<Arc<KeySet>> {
        (**self).current()
    }

    fn refresh(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Option<BoxFuture<'static, Result<Arc<KeySet>, AuthError>>> {
        (**self).refresh(kid, alg)
    }
}

/// A fixed key set, configured once.
#[derive(Clone, Debug)]
pub struct StaticKeys(Arc<KeySet>);

impl StaticKeys {
    /// Wraps a key set.
    #[must_use]
    pub fn new(keys: KeySet) -> Self {
        Self(Arc::new(keys))
    }
}

impl KeyResolver for StaticKeys {
    fn current(&self) -> Option<Arc<KeySet>> {
        Some(Arc::clone(&self.0))
    }
}
