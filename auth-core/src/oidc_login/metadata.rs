//! The parts of an OpenID Provider's discovery document the login flow needs.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::jwks::discovery::openid_configuration;
use crate::jwks::url;
use crate::jwks::{FetchError, HttpClient};
use crate::jwt::Algorithm;

/// Endpoints and capabilities read from `{issuer}/.well-known/openid-configuration`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Metadata {
    pub(crate) issuer: String,
    pub(crate) authorization_endpoint: String,
    pub(crate) token_endpoint: String,
    pub(crate) userinfo_endpoint: Option<String>,
    pub(crate) jwks_uri: String,
    /// `authorization_response_iss_parameter_supported` (RFC 9207): `iss` is then required.
    pub(crate) iss_parameter_supported: bool,
    /// The asymmetric algorithms of `id_token_signing_alg_values_supported` we support.
    pub(crate) id_token_algorithms: Vec<Algorithm>,
}

fn string(doc: &Map<String, Value>, name: &str) -> Option<String> {
    doc.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn strings(doc: &Map<String, Value>, name: &str) -> Option<Vec<String>> {
    doc.get(name).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

/// Fetches the discovery document of `issuer` (the shared OpenID Connect Discovery fetch,
/// which checks that it names exactly this issuer: section 4.3) and reads the login's fields.
pub(crate) async fn discover(
    client: &dyn HttpClient,
    issuer: &str,
    timeout: Duration,
    max_body_bytes: usize,
) -> Result<Metadata, FetchError> {
    let doc = openid_configuration(client, issuer, timeout, max_body_bytes, false).await?;
    parse(issuer, &doc).map_err(|reason| FetchError::Discovery {
        issuer: issuer.to_owned(),
        reason,
    })
}

/// Reads the fields of a document already found to be `issuer`'s: acceptable endpoint URLs,
/// `code` among the response types and `S256` among the PKCE methods when the provider lists
/// them, and the usable ID-token algorithms.
pub(crate) fn parse(issuer: &str, doc: &Map<String, Value>) -> Result<Metadata, String> {
    let endpoint = |name: &'static str| -> Result<String, String> {
        let u = string(doc, name).ok_or_else(|| format!("metadata has no {name}"))?;
        url::check(&u, false).map_err(|e| format!("{name}: {e}"))?;
        Ok(u)
    };
    let authorization_endpoint = endpoint("authorization_endpoint")?;
    let token_endpoint = endpoint("token_endpoint")?;
    let jwks_uri = endpoint("jwks_uri")?;
    let userinfo_endpoint = match doc.get("userinfo_endpoint") {
        None => None,
        Some(_) => Some(endpoint("userinfo_endpoint")?),
    };
    if let Some(types) = strings(doc, "response_types_supported")
        && !types.iter().any(|t| t == "code")
    {
        return Err("the provider does not support response_type=code".into());
    }
    if let Some(methods) = strings(doc, "code_challenge_methods_supported")
        && !methods.iter().any(|m| m == "S256")
    {
        return Err("the provider does not support pkce with S256".into());
    }
    let id_token_algorithms: Vec<Algorithm> = strings(doc, "id_token_signing_alg_values_supported")
        .unwrap_or_default()
        .iter()
        .filter_map(|name| Algorithm::from_name(name))
        .filter(|a| a.hmac_algorithm().is_none())
        .collect();
    let iss_parameter_supported = doc
        .get("authorization_response_iss_parameter_supported")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(Metadata {
        issuer: issuer.to_owned(),
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        jwks_uri,
        iss_parameter_supported,
        id_token_algorithms,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jwks::{FetchRequest, HttpError, HttpResponse};
    use crate::jwt::BoxFuture;

    fn doc(extra: Value) -> Map<String, Value> {
        let mut d = json!({
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/auth",
            "token_endpoint": "https://idp.example/token",
            "jwks_uri": "https://idp.example/jwks",
            "response_types_supported": ["code", "id_token"],
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none", "EdDSA"],
        });
        if let (Value::Object(d), Value::Object(e)) = (&mut d, extra) {
            d.extend(e);
        }
        match d {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn only_asymmetric_id_token_algorithms_are_taken_from_discovery() {
        let m = parse("https://idp.example", &doc(json!({}))).unwrap();
        assert_eq!(m.id_token_algorithms, [Algorithm::RS256, Algorithm::EdDSA]);
        assert!(!m.iss_parameter_supported);
        assert_eq!(m.userinfo_endpoint, None);
    }

    /// Serves `doc` for every URL.
    #[derive(Debug)]
    struct Serves(Map<String, Value>);

    impl HttpClient for Serves {
        fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
            let body = Value::Object(self.0.clone()).to_string();
            Box::pin(async move { Ok(HttpResponse::new(200, body)) })
        }
    }

    async fn discovered(issuer: &str, served: Map<String, Value>) -> Result<Metadata, FetchError> {
        discover(&Serves(served), issuer, Duration::from_secs(1), 64 * 1024).await
    }

    #[tokio::test]
    async fn a_document_for_another_issuer_or_without_s256_or_with_plain_http_is_refused() {
        assert!(
            discovered("https://other.example", doc(json!({})))
                .await
                .is_err()
        );
        let m = discovered("https://idp.example", doc(json!({})))
            .await
            .unwrap();
        assert_eq!(m.issuer, "https://idp.example");
        assert_eq!(m.jwks_uri, "https://idp.example/jwks");
        let no_s256 = doc(json!({"code_challenge_methods_supported": ["plain"]}));
        assert!(parse("https://idp.example", &no_s256).is_err());
        let no_code = doc(json!({"response_types_supported": ["id_token"]}));
        assert!(parse("https://idp.example", &no_code).is_err());
        let http_token = doc(json!({"token_endpoint": "http://idp.example/token"}));
        assert!(parse("https://idp.example", &http_token).is_err());
        let iss = doc(
            json!({"authorization_response_iss_parameter_supported": true,
                              "userinfo_endpoint": "https://idp.example/me"}),
        );
        let m = parse("https://idp.example", &iss).unwrap();
        assert!(m.iss_parameter_supported);
        assert_eq!(
            m.userinfo_endpoint.as_deref(),
            Some("https://idp.example/me")
        );
    }
}
