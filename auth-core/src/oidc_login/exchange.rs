//! The token request (authorization code + PKCE verifier + client authentication) and the
//! optional userinfo request.

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::{LoginError, clean_error_value};
use super::metadata::Metadata;
use super::provider::ProviderConfig;
use crate::client_auth::Redacted;
use crate::clock::UnixTime;
use crate::form::Form;
use crate::jwks::{HttpClient, HttpRequest, Method};

/// The largest token or userinfo response read.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// What the token endpoint returned that the login needs.
pub(crate) struct Tokens {
    pub(crate) id_token: String,
    pub(crate) access_token: Redacted,
}

fn failed(error: Option<String>, detail: impl Into<String>) -> LoginError {
    LoginError::Exchange {
        error,
        detail: detail.into(),
    }
}

/// Adds the client's authentication to the token request: a public client's `client_id` in
/// the form, or its [`ClientAuth`](crate::client_auth::ClientAuth) (a `private_key_jwt`
/// assertion for `audience`, issued at `now`). Returns the `Authorization` header to send, if
/// any.
fn authenticate(
    config: &ProviderConfig,
    form: &mut Form,
    audience: &str,
    now: UnixTime,
) -> Result<Option<String>, LoginError> {
    match &config.client_auth {
        None => {
            form.pair("client_id", &config.client_id);
            Ok(None)
        }
        Some(auth) => auth
            .apply(form, audience, now)
            .map_err(|why| LoginError::Backend(format!("client assertion: {why}"))),
    }
}

/// Exchanges `code` at the token endpoint (RFC 6749 section 4.1.3, RFC 7636 section 4.5);
/// a `private_key_jwt` assertion is issued at `now` for the provider's issuer.
pub(crate) async fn exchange_code(
    http: &dyn HttpClient,
    metadata: &Metadata,
    config: &ProviderConfig,
    code: &str,
    verifier: &str,
    now: UnixTime,
    timeout: Duration,
) -> Result<Tokens, LoginError> {
    let mut form = Form::default();
    form.pair("grant_type", "authorization_code");
    form.pair("code", code);
    form.pair("redirect_uri", &config.redirect_uri);
    form.pair("code_verifier", verifier);
    let authorization = authenticate(config, &mut form, &metadata.issuer, now)?;
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
        client_auth = config.client_auth.as_ref().map_or("none", |a| a.method().as_str()),
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
        access_token: Redacted::new(access_token),
    })
}

/// Fetches the userinfo endpoint with the access token; its `sub` must be `subject` (OpenID
/// Connect Core section 5.3.2: otherwise the response may belong to someone else).
pub(crate) async fn userinfo(
    http: &dyn HttpClient,
    endpoint: &str,
    access_token: &Redacted,
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

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn config(client_id: &str) -> ProviderConfig {
        ProviderConfig::new(
            "acme",
            "https://idp.example",
            client_id,
            "https://rp.example/cb",
        )
    }

    fn authenticated(config: &ProviderConfig) -> (Option<String>, String) {
        let mut f = Form::default();
        let header = authenticate(
            config,
            &mut f,
            "https://idp.example",
            UnixTime::from_secs(1),
        )
        .unwrap();
        (header, f.as_str().to_owned())
    }

    #[test]
    fn each_method_puts_the_credentials_where_it_should() {
        let (header, form) = authenticated(&config("rp"));
        assert_eq!(header, None);
        assert_eq!(form, "client_id=rp");

        let basic = config("my rp").client_secret_basic("s:e cr+et");
        let (header, form) = authenticated(&basic);
        assert!(form.is_empty());
        let raw = STANDARD
            .decode(header.unwrap().strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(raw, b"my+rp:s%3Ae+cr%2Bet");

        let post = config("rp").client_secret_post("p&q");
        let (header, form) = authenticated(&post);
        assert_eq!(header, None);
        assert_eq!(form, "client_id=rp&client_secret=p%26q");
        assert!(!format!("{post:?}").contains("p&q"));
    }
}
