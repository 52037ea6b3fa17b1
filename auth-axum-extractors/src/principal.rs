use std::ops::Deref;

use auth_tower::Rejection;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use crate::rejection::{MissingAuthLayer, PrincipalRejection, Unauthenticated};

/// Extracts the authenticated [`auth_core::Principal`] that an auth layer put into the request.
///
/// - Layer ran and authenticated: the principal.
/// - Optional-mode layer ran, no credentials were sent: [`Unauthenticated`] (401 with the
///   layer's challenge). Use `Option<Authenticated>` to accept anonymous callers instead.
/// - No auth layer ran: [`MissingAuthLayer`], a 500 that says how to fix the router, never a
///   401 that would hide the misconfiguration.
///
/// Never reads the body. It dereferences to the [`auth_core::Principal`] (`p.subject()`,
/// `p.scopes()`, ...); [`into_inner`](Self::into_inner) or `.0` gives the principal itself.
///
/// # Why it is not called `Principal`
///
/// The type the layers insert and handlers read is [`auth_core::Principal`]. An extractor must
/// be a type of this crate (axum's traits cannot be implemented here for a type of
/// `auth-core`), and implementing them in `auth-core` would give that framework-free crate an
/// axum dependency. So the extractor is a wrapper, and it has its own name, so that a file
/// importing both never has two different `Principal`s: `Authenticated` is the extractor,
/// `Principal` always means `auth_core::Principal`.
///
/// ```
/// use auth_axum_extractors::Authenticated;
///
/// async fn me(principal: Authenticated) -> String {
///     format!("hello {}", principal.subject())
/// }
///
/// async fn hello(principal: Option<Authenticated>) -> String {
///     match principal {
///         Some(p) => format!("hello {}", p.subject()),
///         None => "hello anonymous".to_owned(),
///     }
/// }
/// # let _: axum::Router = axum::Router::new()
/// #     .route("/me", axum::routing::get(me))
/// #     .route("/hello", axum::routing::get(hello));
/// ```
#[derive(Clone, Debug)]
pub struct Authenticated(pub auth_core::Principal);

impl Authenticated {
    /// The inner principal.
    #[must_use]
    pub fn into_inner(self) -> auth_core::Principal {
        self.0
    }
}

impl Deref for Authenticated {
    type Target = auth_core::Principal;

    fn deref(&self) -> &auth_core::Principal {
        &self.0
    }
}

pub(crate) fn principal_from_parts(
    parts: &Parts,
) -> Result<Option<auth_core::Principal>, PrincipalRejection> {
    if let Some(p) = parts.extensions.get::<auth_core::Principal>() {
        return Ok(Some(p.clone()));
    }
    if parts.extensions.get::<Rejection>().is_some() {
        return Ok(None);
    }
    Err(MissingAuthLayer.into())
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = PrincipalRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match principal_from_parts(parts)? {
            Some(p) => Ok(Self(p)),
            None => Err(missing_credentials(parts).into()),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Authenticated {
    type Rejection = PrincipalRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(principal_from_parts(parts)?.map(Self))
    }
}

/// The optional-mode layer's own "credentials required" rejection.
pub(crate) fn missing_credentials(parts: &Parts) -> Unauthenticated {
    let r = parts
        .extensions
        .get::<Rejection>()
        .cloned()
        .unwrap_or_else(|| Rejection::from_error(auth_core::AuthError::MissingCredentials));
    Unauthenticated(r)
}
