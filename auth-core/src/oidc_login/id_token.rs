//! ID-token validation (OpenID Connect Core section 3.1.3.7): the signature, algorithm, `iss`,
//! `aud`, `exp` and `iat` through [`JwtVerifier`] on the provider's JWK Set, then what only a
//! relying party can check: `azp` and the transaction's `nonce`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::error::LoginError;
use super::metadata::Metadata;
use super::provider::ProviderConfig;
use crate::AuthError;
use crate::clock::Clock;
use crate::constant_time::secrets_equal;
use crate::jwks::HttpClient;
use crate::jwks::JwksSource;
use crate::jwt::JwtVerifier;

/// ID tokens larger than this are refused before decoding.
const MAX_ID_TOKEN_LEN: usize = 16 * 1024;

/// Claim names the verifier must never interpret as scopes or roles in an ID token (an ID
/// token grants nothing; an unusual `roles` claim must not make it invalid either).
const UNUSED_SCOPE: &str = "urn:auth-core:oidc-login:no-scope";
const UNUSED_SCP: &str = "urn:auth-core:oidc-login:no-scp";
const UNUSED_ROLES: &str = "urn:auth-core:oidc-login:no-roles";

/// The verifier for `config`'s ID tokens: keys from the discovered `jwks_uri` only, for the
/// configured algorithms or else the asymmetric ones the provider advertises; `iss` must be
/// the issuer and `aud` must contain the client id. The keys are fetched once here, so a
/// token with an algorithm the source never fetches for (`HS256`) is judged against loaded
/// keys (invalid) rather than against none (unavailable).
pub(crate) async fn verifier(
    config: &ProviderConfig,
    metadata: &Metadata,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
) -> Result<JwtVerifier, String> {
    let algorithms = match &config.algorithms {
        Some(algs) => algs.clone(),
        None => metadata.id_token_algorithms.clone(),
    };
    if algorithms.is_empty() {
        return Err(
            "the provider advertises no supported asymmetric id token algorithm; configure \
             id_token_algorithms"
                .into(),
        );
    }
    let keys = JwksSource::from_jwks_uri(&metadata.jwks_uri)
        .http_client(http)
        .clock(clock.clone())
        .algorithms(algorithms)
        .build()
        .map_err(|e| e.to_string())?;
    keys.refresh_now().await.map_err(|e| e.to_string())?;
    JwtVerifier::builder()
        .key_resolver(keys)
        .issuer(&metadata.issuer)
        .audience(&config.client_id)
        .leeway(leeway)
        .max_token_len(MAX_ID_TOKEN_LEN)
        .scope_claim(UNUSED_SCOPE)
        .scp_claim(UNUSED_SCP)
        .roles_claim(UNUSED_ROLES)
        .clock(clock)
        .build()
        .map_err(|e| e.to_string())
}

/// Validates `id_token`; returns its `(sub, claims)`.
pub(crate) async fn validate(
    verifier: &JwtVerifier,
    id_token: &str,
    client_id: &str,
    nonce: &str,
) -> Result<(String, Map<String, Value>), LoginError> {
    let principal = verifier.verify(id_token).await.map_err(|e| match e {
        AuthError::BackendUnavailable(why) => LoginError::Backend(why),
        other => LoginError::IdToken(other.to_string()),
    })?;
    let bad = |why: &str| LoginError::IdToken(why.to_owned());
    let claims = principal
        .claims()
        .cloned()
        .ok_or_else(|| bad("claims unreadable"))?;
    // Required by OpenID Connect Core section 2 (the verifier checked it is not in the future).
    if principal.issued_at().is_none() {
        return Err(bad("iat is missing"));
    }
    let several_audiences = claims
        .get("aud")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() > 1);
    match claims.get("azp") {
        Some(Value::String(azp)) if azp == client_id => {}
        Some(_) => return Err(bad("azp is not this client")),
        None if several_audiences => return Err(bad("several audiences and no azp")),
        None => {}
    }
    match claims.get("nonce") {
        Some(Value::String(n)) if secrets_equal(n.as_bytes(), nonce.as_bytes()) => {}
        Some(_) => return Err(bad("nonce does not match the login transaction")),
        None => return Err(bad("nonce is missing")),
    }
    Ok((principal.subject().to_owned(), claims))
}
