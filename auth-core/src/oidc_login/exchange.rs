//! The token request (authorization code + PKCE verifier + client authentication) and the
//! optional userinfo request.

use std::time::Duration;

use serde_json::{Map, Value};

use super::client_auth::Secret;
use super::error::{LoginError, clean_error_value};
use super::metadata::Metadata;
use super::provider::ProviderConfig;
use crate::form::Form;
use crate::jwks::{HttpClient, HttpRequest, Method};

/// The largest token or userinfo response read.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// What the token endpoint returned that the login needs.
pub(crate) struct Tokens {
    pub(crate) id_token: String,
    pub(crate) access_token: Secret,
}

fn failed(error: Option<String>, detail: impl Into<String>) -> LoginError {
    LoginError::Exchange {
        error,
        detail: detail.into(),
    }
}

/// Exchanges `code` at the token endpoint (RFC 6749 section 4.1.3, RFC 7636 section 4.5).
pub(crate) async fn exchange_code(
    http: &dyn HttpClient,
    metadata: &Metadata,
    config: &ProviderConfig,
    code: &str,
    verifier: &str,
    timeout: Duration,
) -> Result<Tokens, LoginError> {
    let mut form = Form::default();
    form.pair("grant_type", "authorization_code");
    form.pair("code", code);
    form.pair("redirect_uri", &config.redirect_uri);
    form.pair("code_verifier", verifier);
    let authorization = config.credentials.apply(&config.client_id, &mut form);
    let mut request = HttpRequest::new(
        Method::Post,
        &metadata.token_endpoint,
        timeout,
        MAX_RESPONSE_BYTES,
    )
    .header("accept", "application/json")
    .form_body(form.into_bytes());
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    tracing::debug!(
        target: "auth::oidc_login",
        provider = %config.name,
        client_auth = config.credentials.method(),
        "exchanging the authorization code",
    );
    let response = http
        .send(request)
        .await
        .map_err(|e| failed(None, format!("token endpoint: {e}")))?;
    let body: Option<Map<String, Value>> = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| v.as_object().cloned());
    if response.status != 200 {
        let error = body
            .as_ref()
            .and_then(|b| b.get("error"))
            .and_then(Value::as_str)
            .map(clean_error_value);
        return Err(failed(
            error,
            format!("token endpoint answered http {}", response.status),
        ));
    }
    let body = body.ok_or_else(|| failed(None, "token response is not a json object"))?;
    let token_type = body.get("token_type").and_then(Value::as_str);
    if !token_type.is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
        return Err(failed(None, "token_type is not bearer"));
    }
    let access_token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| failed(None, "token response has no access_token"))?;
    let id_token = body
        .get("id_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| failed(None, "token response has no id_token"))?;
    Ok(Tokens {
        id_token: id_token.to_owned(),
        access_token: Secret::new(access_token),
    })
}

/// Fetches the userinfo endpoint with the access token; its `sub` must be `subject` (OpenID
/// Connect Core section 5.3.2: otherwise the response may belong to someone else).
pub(crate) async fn userinfo(
    http: &dyn HttpClient,
    endpoint: &str,
    access_token: &Secret,
    subject: &str,
    timeout: Duration,
) -> Result<Map<String, Value>, LoginError> {
    let request = HttpRequest::new(Method::Get, endpoint, timeout, MAX_RESPONSE_BYTES)
        .header("accept", "application/json")
        .header("authorization", format!("Bearer {}", access_token.expose()));
    let response = http
        .send(request)
        .await
        .map_err(|e| LoginError::Userinfo(e.to_string()))?;
    if response.status != 200 {
        return Err(LoginError::Userinfo(format!(
            "userinfo answered http {}",
            response.status
        )));
    }
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&response.body) else {
        return Err(LoginError::Userinfo(
            "userinfo is not a json object (signed userinfo is not supported)".into(),
        ));
    };
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if sub == subject => Ok(claims),
        _ => Err(LoginError::Userinfo(
            "userinfo sub is not the id token's".into(),
        )),
    }
}
