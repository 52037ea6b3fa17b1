//! Entry points into private parsers for the fuzz targets in `fuzz/` and the conformance
//! harness in `tests/`: a fetched JWK Set, a login provider's discovery document, the PKCE
//! `S256` transform. Everything else they exercise is public API.
//!
//! Hidden, behind the `fuzzing` feature; not a public API and free to change.

/// The usable keys of a fetched JWK Set (every algorithm allowed), as `JwksSource` reads it;
/// the unusable ones are skipped, each with a reason.
///
/// # Errors
///
/// `"not json"` or `"no keys array"` when the whole document is refused.
#[cfg(feature = "jwks")]
pub fn jwk_set(
    body: &[u8],
) -> Result<(Vec<crate::jwt::VerificationKey>, Vec<String>), &'static str> {
    use crate::jwks::document::{DocumentError, parse};
    match parse(body, &crate::jwt::Algorithm::ALL) {
        Ok(p) => Ok((p.keys, p.skipped.into_iter().map(|s| s.reason).collect())),
        Err(DocumentError::NotJson) => Err("not json"),
        Err(DocumentError::NoKeysArray) => Err("no keys array"),
    }
}

/// A login provider's discovery document checked for `issuer`: its issuer, authorization
/// endpoint and token endpoint.
///
/// # Errors
///
/// Why the document is refused (not a JSON object, another issuer, an endpoint that is not
/// https, no `S256`, ...).
#[cfg(feature = "oidc-login")]
pub fn login_metadata(issuer: &str, body: &[u8]) -> Result<[String; 3], String> {
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice(body) else {
        return Err("not a json object".into());
    };
    let m = crate::oidc_login::metadata::parse(issuer, &doc)?;
    Ok([m.issuer, m.authorization_endpoint, m.token_endpoint])
}

/// The PKCE `S256` code challenge of `verifier` (RFC 7636 section 4.2), as a login sends it.
#[cfg(feature = "oidc-login")]
#[must_use]
pub fn pkce_s256(verifier: &str) -> String {
    crate::oidc_login::transaction::s256(verifier)
}
