use std::ops::Deref;

use auth_core::VerifiedClaims;
use auth_tower::Rejection;
use axum_core::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::principal::{missing_credentials, principal_from_parts};
use crate::rejection::{ClaimsRejection, Unauthenticated};

/// Extracts the verified token's claims as an application type `C`.
///
/// Uses the [`VerifiedClaims<C>`] a layer built with `with_claims::<C>()` inserted; otherwise
/// deserializes them from the [`auth_core::Principal`]'s verified claims. Claims that do not
/// fit `C` are rejected as `INVALID_TOKEN`, as the layer would.
///
/// ```
/// use auth_axum_extractors::Claims;
/// use serde::Deserialize;
///
/// #[derive(Clone, Deserialize)]
/// struct MyClaims {
///     sub: String,
///     tenant: String,
/// }
///
/// async fn handler(Claims(c): Claims<MyClaims>) -> String {
///     format!("{} of {}", c.sub, c.tenant)
/// }
/// # let _: axum::Router = axum::Router::new().route("/", axum::routing::get(handler));
/// ```
#[derive(Clone, Debug)]
pub struct Claims<C>(pub C);

impl<C> Deref for Claims<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.0
    }
}

impl<S, C> FromRequestParts<S> for Claims<C>
where
    S: Send + Sync,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<VerifiedClaims<C>>() {
            return Ok(Self(C::clone(c)));
        }
        let Some(principal) = principal_from_parts(parts)? else {
            return Err(missing_credentials(parts).into());
        };
        principal
            .verified_claims::<C>()
            .map(|c| Self(c.into_inner()))
            .map_err(|e| Unauthenticated(Rejection::from_error(e)).into())
    }
}
