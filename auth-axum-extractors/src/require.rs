use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use auth_core::AuthError;
use auth_core::scope::Requirement;
use auth_tower::Rejection;
use axum_core::extract::FromRequestParts;
use http::request::Parts;

use crate::principal::{missing_credentials, principal_from_parts};
use crate::rejection::{Forbidden, RequireScopeRejection};

/// A set of scopes a handler requires, declared as a type. Write one with [`scopes!`](crate::scopes).
pub trait ScopeSpec: Send + Sync + 'static {
    /// Every scope in this list is required.
    const SCOPES: &'static [&'static str];
}

/// Declares a [`ScopeSpec`] marker type.
///
/// ```
/// auth_axum_extractors::scopes! {
///     /// Reading orders.
///     pub struct ReadOrders = ["read:orders"];
/// }
/// # use auth_axum_extractors::ScopeSpec;
/// assert_eq!(ReadOrders::SCOPES, ["read:orders"]);
/// ```
#[macro_export]
macro_rules! scopes {
    ($(#[$m:meta])* $vis:vis struct $name:ident = [$($scope:literal),+ $(,)?];) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::ScopeSpec for $name {
            const SCOPES: &'static [&'static str] = &[$($scope),+];
        }
    };
}

/// Extracts the principal only if it holds every scope of `S`, so the requirement shows up in
/// the handler's signature. Rejects like `ScopeLayer`: 401 without a principal, 403
/// `INSUFFICIENT_SCOPE` (with `required` and the RFC 6750 `scope` attribute) without the scopes.
///
/// ```
/// use auth_axum_extractors::{RequireScope, scopes};
///
/// scopes! {
///     /// Reading orders.
///     pub struct ReadOrders = ["read:orders"];
/// }
///
/// async fn list_orders(RequireScope(principal, ..): RequireScope<ReadOrders>) -> String {
///     format!("orders of {}", principal.subject())
/// }
/// # let _: axum::Router = axum::Router::new().route("/orders", axum::routing::get(list_orders));
/// ```
pub struct RequireScope<S: ScopeSpec>(pub auth_core::Principal, pub PhantomData<fn() -> S>);

impl<S: ScopeSpec> RequireScope<S> {
    /// The principal.
    #[must_use]
    pub fn into_inner(self) -> auth_core::Principal {
        self.0
    }
}

impl<S: ScopeSpec> Clone for RequireScope<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<S: ScopeSpec> fmt::Debug for RequireScope<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RequireScope")
            .field(&self.0)
            .field(&S::SCOPES)
            .finish()
    }
}

impl<S: ScopeSpec> Deref for RequireScope<S> {
    type Target = auth_core::Principal;

    fn deref(&self) -> &auth_core::Principal {
        &self.0
    }
}

impl<St: Send + Sync, S: ScopeSpec> FromRequestParts<St> for RequireScope<S> {
    type Rejection = RequireScopeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        let principal = match principal_from_parts(parts) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(missing_credentials(parts).into()),
            Err(e) => return Err(e.into()),
        };
        if S::SCOPES.iter().all(|s| principal.has_scope(s)) {
            return Ok(Self(principal, PhantomData));
        }
        tracing::debug!(
            target: "auth::decision",
            outcome = "deny",
            method = "extractor",
            code = "INSUFFICIENT_SCOPE",
            subject = principal.subject(),
            path = parts.uri.path(),
            required = ?S::SCOPES,
            held_scopes = ?principal.scopes(),
        );
        // The same description ScopeLayer would give for `Requirement::all_scopes(S::SCOPES)`.
        let required = Requirement::all_scopes(S::SCOPES.iter().copied()).required_access();
        Err(
            Forbidden(Rejection::from_error(AuthError::InsufficientScope {
                required,
            }))
            .into(),
        )
    }
}
