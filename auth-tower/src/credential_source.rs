//! [`CredentialSource`]: where the credential that authenticated a request was found.

/// Where the credential that authenticated a request was found.
///
/// [`BearerLayer`](crate::bearer::BearerLayer) and `ApiKeyLayer` insert it into the request's
/// extensions next to the [`Principal`](auth_core::Principal) when they authenticate a request
/// (never for anonymous ones), and [`CsrfLayer`](crate::csrf::CsrfLayer) reads it: only a
/// request that a *header* credential authenticated is exempt from the CSRF check, since a
/// browser attaches cookies to cross-site requests by itself but `Authorization` or custom
/// headers only where CORS allowed them. A custom authentication layer that reads a header
/// credential can insert [`CredentialSource::Header`] the same way.
///
/// ```
/// use auth_tower::CredentialSource;
///
/// let mut ext = http::Extensions::new();
/// ext.insert(CredentialSource::Cookie);
/// assert_eq!(ext.get::<CredentialSource>(), Some(&CredentialSource::Cookie));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialSource {
    /// A request header: `Authorization: Bearer ..`, the API-key header.
    Header,
    /// A cookie (the access-token cookie of `BearerLayerBuilder::cookie`): sent by browsers on
    /// cross-site requests too, so subject to the CSRF check.
    Cookie,
    /// The URL query string (an API key allowed there by
    /// `ApiKeyLayerBuilder::dangerous_allow_query_param`). Not exempt from the CSRF check: only
    /// header credentials are.
    Query,
}
