//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells clients which
//! authorization servers issue tokens for this API, which scopes it knows and how tokens are
//! presented, and the `resource_metadata` attribute of every `401` challenge pointing at it.
//!
//! Describe the API with a [`ProtectedResource`] and give it to
//! [`BearerLayerBuilder::protected_resource`](crate::bearer::BearerLayerBuilder::protected_resource);
//! the layer's challenges then carry `resource_metadata="<url>"`, and
//! [`BearerLayer::resource_metadata`](crate::bearer::BearerLayer::resource_metadata) gives the
//! [`ResourceMetadata`] service that serves the document at that very URL's path. Both come
//! from [`ProtectedResource::metadata_url`], so they cannot disagree; the document's
//! `dpop_signing_alg_values_supported` and `dpop_bound_access_tokens_required` come from the
//! layer's DPoP settings, its `authorization_servers` (unless set) from the verifier's issuers.
//!
//! # Path insertion (RFC 9728 section 3.1)
//!
//! The well-known path goes between the host and the resource's path: the metadata of
//! `https://api.example/orders` is at `https://api.example/.well-known/oauth-protected-resource/orders`,
//! that of `https://api.example` at `https://api.example/.well-known/oauth-protected-resource`.
//!
//! # Example
//!
//! ```
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_tower::bearer::BearerLayer;
//! use auth_tower::resource_metadata::ProtectedResource;
//! use bytes::Bytes;
//! use http::{Request, StatusCode, header};
//! use http_body_util::{BodyExt as _, Full};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, [7u8; 32])?)
//!     .issuer("https://as.example")
//!     .audience("https://api.example/orders")
//!     .build()?;
//! let layer = BearerLayer::builder(verifier)
//!     .protected_resource(ProtectedResource::new("https://api.example/orders")?.scopes(["read:orders"]))
//!     .build()?;
//!
//! // Every 401 points at the document ...
//! let api = ServiceBuilder::new().layer(layer.clone()).service(service_fn(|_: Request<Full<Bytes>>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(Full::<Bytes>::default()))
//! }));
//! let res = api.oneshot(Request::get("/orders").body(Full::default())?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     res.headers()[header::WWW_AUTHENTICATE],
//!     "Bearer realm=\"api\", resource_metadata=\"https://api.example/.well-known/oauth-protected-resource/orders\""
//! );
//!
//! // ... which the layer's metadata service serves at that path.
//! let metadata = layer.resource_metadata().expect("a protected resource is configured");
//! assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/orders");
//! let req = Request::get(metadata.path()).body(Full::<Bytes>::default())?;
//! let res = metadata.clone().oneshot(req).await?;
//! let doc: serde_json::Value = serde_json::from_slice(&res.into_body().collect().await?.to_bytes())?;
//! assert_eq!(doc["resource"], "https://api.example/orders");
//! assert_eq!(doc["authorization_servers"][0], "https://as.example");
//! assert_eq!(doc["scopes_supported"][0], "read:orders");
//! # Ok(())
//! # }
//! ```

mod service;

pub(crate) use service::DpopFacts;
pub use service::ResourceMetadata;

use auth_core::ConfigError;

/// The well-known path of protected resource metadata (RFC 9728 section 3).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// A protected resource (this API) as RFC 9728 describes it: its identifier, and what the
/// layer's configuration does not say by itself (authorization servers, when they are not the
/// verifier's issuers; the scopes it knows).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ProtectedResource {
    pub(crate) resource: String,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) name: Option<String>,
}

impl ProtectedResource {
    /// The resource identifier: an `https` URL (or `http` to a loopback host, for tests and
    /// demos) without query or fragment, e.g. `https://api.example/orders`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] otherwise, or when a character could not go inside a
    /// challenge's quoted string.
    pub fn new(resource: impl Into<String>) -> Result<Self, ConfigError> {
        let resource = resource.into();
        let bad = |why: &str| {
            ConfigError::InvalidUrl(format!(
                "protected resource `{}` {why}",
                resource.escape_debug()
            ))
        };
        let rest = if let Some(rest) = resource.strip_prefix("https://") {
            rest
        } else if let Some(rest) = resource.strip_prefix("http://") {
            let authority = rest.split('/').next().unwrap_or("");
            let host = match authority.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(""),
                None => authority.split(':').next().unwrap_or(""),
            };
            if !matches!(host, "127.0.0.1" | "localhost" | "::1") {
                return Err(bad("must be https (http only to a loopback host)"));
            }
            rest
        } else {
            return Err(bad("must be an https url"));
        };
        if rest.is_empty() || rest.starts_with('/') || rest.contains('@') {
            return Err(bad("has no host or carries user info"));
        }
        if resource.contains(['?', '#']) {
            return Err(bad("must not have a query or fragment"));
        }
        if !resource
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(bad("has characters a url cannot hold unencoded"));
        }
        Ok(Self {
            resource,
            authorization_servers: Vec::new(),
            scopes: Vec::new(),
            name: None,
        })
    }

    /// Adds an authorization server (its issuer URL). Without any, the verifier's issuers are
    /// listed.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes this resource knows (`scopes_supported`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// A human-readable name (`resource_name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The resource identifier.
    #[must_use]
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The URL of this resource's metadata document: see [`metadata_url`].
    #[must_use]
    pub fn metadata_url(&self) -> String {
        metadata_url(&self.resource)
    }

    /// The path of that URL, where [`ResourceMetadata`] answers.
    #[must_use]
    pub fn metadata_path(&self) -> String {
        let (_, path) = split(&self.resource);
        let mut out = String::with_capacity(WELL_KNOWN_PATH.len() + path.len());
        out.push_str(WELL_KNOWN_PATH);
        if path != "/" {
            out.push_str(path);
        }
        out
    }
}

/// `(scheme://authority, path)` of a URL (the path `/` when it has none).
fn split(url: &str) -> (&str, &str) {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url.get(start..).and_then(|rest| rest.find('/')) {
        Some(i) => url.split_at(start + i),
        None => (url, "/"),
    }
}

/// The URL of the metadata of `resource` by RFC 9728's path insertion: the well-known path
/// between the authority and the resource's path (a path of just `/` inserts nothing). The one
/// function behind both the challenges' `resource_metadata` and the path the document is
/// served at.
///
/// ```
/// use auth_tower::resource_metadata::metadata_url;
///
/// assert_eq!(metadata_url("https://h"), "https://h/.well-known/oauth-protected-resource");
/// assert_eq!(metadata_url("https://h/"), "https://h/.well-known/oauth-protected-resource");
/// assert_eq!(metadata_url("https://h/api"), "https://h/.well-known/oauth-protected-resource/api");
/// assert_eq!(
///     metadata_url("https://h:8443/a/b"),
///     "https://h:8443/.well-known/oauth-protected-resource/a/b"
/// );
/// ```
#[must_use]
pub fn metadata_url(resource: &str) -> String {
    let (origin, path) = split(resource);
    let mut out = String::with_capacity(resource.len() + WELL_KNOWN_PATH.len());
    out.push_str(origin);
    out.push_str(WELL_KNOWN_PATH);
    if path != "/" {
        out.push_str(path);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 20: the URL and the served path come from the same split, for root and nested
    // resources alike.
    #[test]
    fn the_metadata_path_is_the_path_of_the_metadata_url() {
        for resource in [
            "https://h",
            "https://h/",
            "https://h/api",
            "https://h/api/v1",
            "http://127.0.0.1:3000/api",
        ] {
            let r = ProtectedResource::new(resource).unwrap();
            let url = r.metadata_url();
            assert!(url.ends_with(&r.metadata_path()), "{resource}: {url}");
            assert!(r.metadata_path().starts_with(WELL_KNOWN_PATH));
        }
        assert_eq!(
            ProtectedResource::new("https://h/api/v1")
                .unwrap()
                .metadata_path(),
            "/.well-known/oauth-protected-resource/api/v1"
        );
    }

    #[test]
    fn resources_must_be_https_urls_without_query() {
        for bad in [
            "api.example",
            "ftp://h",
            "http://api.example/x",
            "https://h/x?y",
            "https://h/#f",
            "https://u@h/",
            "https:///x",
            "https://h/\"x",
        ] {
            assert!(ProtectedResource::new(bad).is_err(), "{bad}");
        }
        assert!(ProtectedResource::new("http://localhost:8080/api").is_ok());
    }
}
