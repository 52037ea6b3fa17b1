//! [`BearerToken`]: an access token obtained by the token manager, with its times.

use std::fmt;
use std::sync::Arc;

use crate::clock::UnixTime;

/// An access token from the token endpoint, ready for `Authorization: Bearer`.
///
/// Cheap to clone (one reference count). Two clones of the same token are
/// [`same_token`](Self::same_token); a renewed token never is, even if the server returned the
/// same string. `Debug` never shows the token.
#[derive(Clone)]
pub struct BearerToken {
    inner: Arc<Inner>,
}

struct Inner {
    authorization: Box<str>,
    requested_at: UnixTime,
    expires_at: UnixTime,
    renew_at: UnixTime,
    scope: Option<Box<str>>,
}

/// `"Bearer "`, the prefix of [`BearerToken::authorization`].
const PREFIX: &str = "Bearer ";

impl BearerToken {
    pub(crate) fn new(
        token: &str,
        requested_at: UnixTime,
        expires_at: UnixTime,
        renew_at: UnixTime,
        scope: Option<String>,
    ) -> Self {
        let mut authorization = String::with_capacity(PREFIX.len() + token.len());
        authorization.push_str(PREFIX);
        authorization.push_str(token);
        Self {
            inner: Arc::new(Inner {
                authorization: authorization.into_boxed_str(),
                requested_at,
                expires_at,
                renew_at,
                scope: scope.map(String::into_boxed_str),
            }),
        }
    }

    /// The access token itself.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.inner
            .authorization
            .get(PREFIX.len()..)
            .unwrap_or_default()
    }

    /// `Bearer <token>`, the `Authorization` header value (RFC 6750 section 2.1). The token
    /// contains only visible ASCII characters without spaces (checked when it was received).
    #[must_use]
    pub fn authorization(&self) -> &str {
        &self.inner.authorization
    }

    /// When the token request was sent; lifetimes count from here, so the token is considered
    /// expired no later than the server considers it.
    #[must_use]
    pub fn requested_at(&self) -> UnixTime {
        self.inner.requested_at
    }

    /// When the token expires: `requested_at` plus its lifetime (see the module docs for how
    /// the lifetime is read). After this it is never used.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.inner.expires_at
    }

    /// When a renewal starts in the background (the token is still served until it lands).
    #[must_use]
    pub fn renew_at(&self) -> UnixTime {
        self.inner.renew_at
    }

    /// The `scope` the server says it granted, if it said.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.inner.scope.as_deref()
    }

    /// Whether `other` is this very token (a clone of it), not merely equal text.
    #[must_use]
    pub fn same_token(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("token", &"REDACTED")
            .field("requested_at", &self.inner.requested_at)
            .field("expires_at", &self.inner.expires_at)
            .field("renew_at", &self.inner.renew_at)
            .field("scope", &self.inner.scope)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token_and_clones_are_the_same_token() {
        let t = BearerToken::new(
            "abc.def",
            UnixTime::from_secs(1),
            UnixTime::from_secs(2),
            UnixTime::from_secs(2),
            None,
        );
        assert_eq!(t.as_str(), "abc.def");
        assert_eq!(t.authorization(), "Bearer abc.def");
        assert!(!format!("{t:?}").contains("abc.def"));
        assert!(t.same_token(&t.clone()));
        let again = BearerToken::new(
            "abc.def",
            UnixTime::from_secs(1),
            UnixTime::from_secs(2),
            UnixTime::from_secs(2),
            None,
        );
        assert!(!t.same_token(&again));
    }
}
