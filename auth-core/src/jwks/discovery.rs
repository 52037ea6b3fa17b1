//! OpenID Connect Discovery 1.0: an issuer's `jwks_uri`.

use std::time::Duration;

use serde_json::Value;

use super::error::FetchError;
use super::http::{FetchRequest, HttpClient};
use super::url;

/// The parts of an OpenID Provider's metadata a resource server needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The provider's `issuer`, equal to the one asked for.
    pub issuer: String,
    /// Where the provider publishes its signing keys.
    pub jwks_uri: String,
}

/// Reads `issuer`'s `/.well-known/openid-configuration` and returns its `jwks_uri`.
///
/// The document's `issuer` must equal `issuer` exactly (OpenID Connect Discovery 1.0
/// section 4.3, which protects against one provider impersonating another), and `jwks_uri`
/// must be `https` (or `http` to a loopback host).
///
/// [`JwksSource::from_oidc_issuer`](super::JwksSource::from_oidc_issuer) does this itself,
/// lazily, on its first fetch; call this to fail fast at start-up instead.
///
/// # Errors
///
/// [`FetchError::Http`] or [`FetchError::Status`] when the document cannot be fetched,
/// [`FetchError::Discovery`] when it is not JSON, names another issuer or has no acceptable
/// `jwks_uri`.
pub async fn discover(
    client: &dyn HttpClient,
    issuer: &str,
    timeout: Duration,
) -> Result<ProviderMetadata, FetchError> {
    discover_with(
        client,
        issuer,
        timeout,
        super::DEFAULT_MAX_BODY_BYTES,
        false,
    )
    .await
}

pub(crate) async fn discover_with(
    client: &dyn HttpClient,
    issuer: &str,
    timeout: Duration,
    max_body_bytes: usize,
    allow_plain_http: bool,
) -> Result<ProviderMetadata, FetchError> {
    let fail = |reason: String| FetchError::Discovery {
        issuer: issuer.to_owned(),
        reason,
    };
    let doc =
        openid_configuration(client, issuer, timeout, max_body_bytes, allow_plain_http).await?;
    let jwks_uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("metadata has no jwks_uri".into()))?;
    url::check(jwks_uri, allow_plain_http).map_err(|e| fail(e.to_string()))?;
    Ok(ProviderMetadata {
        issuer: issuer.to_owned(),
        jwks_uri: jwks_uri.to_owned(),
    })
}

/// Fetches `issuer`'s OpenID Connect discovery document
/// (`{issuer}/.well-known/openid-configuration`) and checks it as [`metadata`] does.
pub(crate) async fn openid_configuration(
    client: &dyn HttpClient,
    issuer: &str,
    timeout: Duration,
    max_body_bytes: usize,
    allow_plain_http: bool,
) -> Result<serde_json::Map<String, Value>, FetchError> {
    let metadata_url = url::discovery_url(issuer);
    metadata(
        client,
        issuer,
        &metadata_url,
        timeout,
        max_body_bytes,
        allow_plain_http,
    )
    .await
}

/// Fetches the metadata document at `metadata_url` (OpenID Connect Discovery or RFC 8414) and
/// checks that it is a JSON object whose `issuer` equals `issuer` exactly.
pub(crate) async fn metadata(
    client: &dyn HttpClient,
    issuer: &str,
    metadata_url: &str,
    timeout: Duration,
    max_body_bytes: usize,
    allow_plain_http: bool,
) -> Result<serde_json::Map<String, Value>, FetchError> {
    let fail = |reason: String| FetchError::Discovery {
        issuer: issuer.to_owned(),
        reason,
    };
    url::check(issuer, allow_plain_http).map_err(|e| fail(e.to_string()))?;
    let response = client
        .get(FetchRequest::new(metadata_url, timeout, max_body_bytes))
        .await
        .map_err(|error| FetchError::Http {
            url: metadata_url.to_owned(),
            error,
        })?;
    if response.status != 200 {
        return Err(FetchError::Status {
            url: metadata_url.to_owned(),
            status: response.status,
        });
    }
    let Ok(Value::Object(doc)) = serde_json::from_slice(&response.body) else {
        return Err(fail("metadata is not a json object".into()));
    };
    let found = doc
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("metadata has no issuer".into()))?;
    if found != issuer {
        return Err(fail(format!(
            "metadata names issuer `{found}`, not the configured one"
        )));
    }
    Ok(doc)
}
