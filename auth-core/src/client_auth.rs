//! [`ClientAuth`]: how a client proves its identity at an authorization server's token
//! endpoint (`client_secret_basic`, `client_secret_post`, `private_key_jwt`), for the OAuth
//! client's token requests (`oauth_client`, feature `oauth-client`) and the OpenID login's code
//! exchange (`oidc_login`, feature `oidc-login`).
//!
//! Secrets and keys are redacted in `Debug` and never logged.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::clock::UnixTime;
use crate::error::ConfigError;
use crate::form::{self, Form};
use crate::jwt::{Algorithm, SigningKey};

/// `client_assertion_type` of RFC 7523 section 2.2.
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Lifetime of a `private_key_jwt` client assertion: `exp` is `iat` plus this (60 s).
pub const ASSERTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60);

/// A string that must not reach logs: a client secret, or the access token an OpenID login
/// obtained. `Debug` prints `REDACTED`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Redacted(Arc<str>);

impl Redacted {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }

    /// The value itself, for the one request that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

/// A client secret. `Debug` prints `REDACTED`; there is no `Display`, so it cannot end up in a
/// log line by accident.
///
/// ```
/// use auth_core::client_auth::ClientSecret;
///
/// let secret = ClientSecret::new("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "ClientSecret(REDACTED)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSecret(Redacted);

impl ClientSecret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Redacted::new(secret))
    }

    /// The secret itself; only the token request reads it.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// The token endpoint authentication methods (the `token_endpoint_auth_method` values of RFC
/// 7591) a [`ClientAuth`] can use.
///
/// Parses from those names, so a configuration value maps to it directly:
///
/// ```
/// use auth_core::client_auth::ClientAuthMethod;
///
/// let m: ClientAuthMethod = "client_secret_post".parse()?;
/// assert_eq!(m, ClientAuthMethod::ClientSecretPost);
/// assert_eq!(m.as_str(), "client_secret_post");
/// assert!("none".parse::<ClientAuthMethod>().is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 section 2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 section 2.3.1).
    ClientSecretPost,
    /// A JWT signed with the client's private key (RFC 7523, OpenID Connect Core section 9).
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    /// The registered name, e.g. `"client_secret_basic"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

impl fmt::Display for ClientAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientAuthMethod {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "private_key_jwt" => Ok(Self::PrivateKeyJwt),
            other => Err(ConfigError::Input(format!(
                "unknown client authentication method `{}` (expected client_secret_basic, \
                 client_secret_post or private_key_jwt)",
                other.escape_debug()
            ))),
        }
    }
}

#[derive(Clone)]
enum Method {
    Basic(ClientSecret),
    Post(ClientSecret),
    PrivateKeyJwt(SigningKey),
}

/// How a client authenticates to the token endpoint: its `client_id` and a secret or a private
/// key.
///
/// - [`client_secret_basic`](Self::client_secret_basic): `Authorization: Basic` with the id
///   and secret each form-urlencoded first, as RFC 6749 section 2.3.1 requires (so a secret
///   with `:`, `+`, `%`, spaces or non-ASCII characters reaches the server intact);
/// - [`client_secret_post`](Self::client_secret_post): `client_id` and `client_secret` in the
///   form body;
/// - [`private_key_jwt`](Self::private_key_jwt): a fresh RFC 7523 assertion per request
///   (`iss` = `sub` = the client id, `aud` the issuer or the token endpoint, a 128-bit random
///   `jti`, `exp` 60 s after `iat`), signed with an asymmetric [`SigningKey`].
///
/// `Debug` shows the client id and the method, never the secret or key.
///
/// ```
/// use auth_core::jwt::{Algorithm, SigningKey};
/// use auth_core::client_auth::{ClientAuth, ClientAuthMethod};
///
/// let basic = ClientAuth::client_secret_basic("reports", "s3cr3t:+%")?;
/// assert_eq!(basic.method(), ClientAuthMethod::ClientSecretBasic);
/// assert!(!format!("{basic:?}").contains("s3cr3t"));
///
/// let jwt = ClientAuth::private_key_jwt("reports", SigningKey::generate(Algorithm::ES256, "k1")?)?;
/// assert_eq!(jwt.client_id(), "reports");
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ClientAuth {
    client_id: Arc<str>,
    method: Method,
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ClientAuth");
        d.field("client_id", &self.client_id)
            .field("method", &self.method().as_str());
        if let Method::PrivateKeyJwt(key) = &self.method {
            d.field("kid", &key.kid()).field("alg", &key.algorithm());
        }
        d.finish_non_exhaustive()
    }
}

/// Checks a client id: not empty, no control characters.
pub(crate) fn check_client_id(id: &str) -> Result<(), ConfigError> {
    if id.is_empty() {
        return Err(ConfigError::EmptyValue("client id"));
    }
    if id.chars().any(char::is_control) {
        return Err(ConfigError::Input(
            "client id contains control characters".into(),
        ));
    }
    Ok(())
}

fn client_id(id: impl Into<String>) -> Result<Arc<str>, ConfigError> {
    let id: String = id.into();
    check_client_id(&id)?;
    Ok(Arc::from(id))
}

fn secret(secret: impl Into<String>) -> Result<ClientSecret, ConfigError> {
    let secret = ClientSecret::new(secret);
    if secret.expose().is_empty() {
        return Err(ConfigError::EmptyValue("client secret"));
    }
    Ok(secret)
}

impl ClientAuth {
    /// `client_secret_basic` (the RFC 6749 default every server supports).
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyValue`] for an empty id or secret, [`ConfigError::Input`] for an id
    /// with control characters.
    pub fn client_secret_basic(
        client_id_: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            client_id: client_id(client_id_)?,
            method: Method::Basic(secret(client_secret)?),
        })
    }

    /// `client_secret_post`.
    ///
    /// # Errors
    ///
    /// As [`client_secret_basic`](Self::client_secret_basic).
    pub fn client_secret_post(
        client_id_: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            client_id: client_id(client_id_)?,
            method: Method::Post(secret(client_secret)?),
        })
    }

    /// `private_key_jwt` with `key` (RSA, EC or Ed25519; its `kid` goes into the assertion's
    /// header, and the server must know its public half, e.g. from the client's registered
    /// `jwks`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeyAlgorithmMismatch`] for an HMAC key (that would be
    /// `client_secret_jwt`, which this client does not offer), [`ConfigError::EmptyValue`] for
    /// an empty id.
    pub fn private_key_jwt(
        client_id_: impl Into<String>,
        key: SigningKey,
    ) -> Result<Self, ConfigError> {
        if key.public_jwk().is_none() {
            return Err(ConfigError::KeyAlgorithmMismatch {
                alg: key.algorithm().as_str(),
            });
        }
        Ok(Self {
            client_id: client_id(client_id_)?,
            method: Method::PrivateKeyJwt(key),
        })
    }

    /// `private_key_jwt` with a PKCS#8 PEM private key (what `openssl genpkey` writes), its
    /// algorithm taken from the key: RSA signs `RS256`, P-256 `ES256`, P-384 `ES384`, Ed25519
    /// `EdDSA`.
    ///
    /// ```
    /// # use auth_core::client_auth::ClientAuth;
    /// # fn load(pem: &str) -> Result<(), auth_core::ConfigError> {
    /// let auth = ClientAuth::private_key_jwt_pem("reports", pem, "reports-2026-05")?;
    /// # let _ = auth; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] when the PEM is no unencrypted PKCS#8 key of those types
    /// (the message of the RSA attempt, which explains PEM conversions), and as
    /// [`private_key_jwt`](Self::private_key_jwt).
    pub fn private_key_jwt_pem(
        client_id_: impl Into<String>,
        pem: impl AsRef<[u8]>,
        kid: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let kid: String = kid.into();
        let pem = pem.as_ref();
        let mut first_error = None;
        for alg in [
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            match SigningKey::from_pkcs8_pem(alg, pem, kid.clone()) {
                Ok(key) => return Self::private_key_jwt(client_id_, key),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(ConfigError::NoKeys))
    }

    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The authentication method.
    #[must_use]
    pub fn method(&self) -> ClientAuthMethod {
        match self.method {
            Method::Basic(_) => ClientAuthMethod::ClientSecretBasic,
            Method::Post(_) => ClientAuthMethod::ClientSecretPost,
            Method::PrivateKeyJwt(_) => ClientAuthMethod::PrivateKeyJwt,
        }
    }

    /// Adds the client's credentials to a token request: the `Authorization` header value to
    /// send (if any), and form pairs appended to `form`. `audience` is the assertion's `aud`,
    /// `now` its `iat`.
    ///
    /// # Errors
    ///
    /// Why a `private_key_jwt` assertion could not be made (the random source or the signing
    /// failed), for the caller to wrap in its own error.
    pub(crate) fn apply(
        &self,
        form: &mut Form,
        audience: &str,
        now: UnixTime,
    ) -> Result<Option<String>, String> {
        match &self.method {
            Method::Basic(secret) => {
                Ok(Some(basic_authorization(&self.client_id, secret.expose())))
            }
            Method::Post(secret) => {
                form.pair("client_id", &self.client_id);
                form.pair("client_secret", secret.expose());
                Ok(None)
            }
            Method::PrivateKeyJwt(key) => {
                let assertion = client_assertion(key, &self.client_id, audience, now)?;
                form.pair("client_id", &self.client_id);
                form.pair("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
                form.pair("client_assertion", &assertion);
                Ok(None)
            }
        }
    }
}

/// `Basic base64(form(id) ":" form(secret))` (RFC 6749 section 2.3.1: each part
/// form-urlencoded first, so `:` and non-ASCII characters survive).
fn basic_authorization(client_id: &str, secret: &str) -> String {
    let mut pair = form::encode(client_id);
    pair.push(':');
    form::encode_into(&mut pair, secret);
    format!("Basic {}", STANDARD.encode(pair))
}

/// A signed RFC 7523 client assertion.
fn client_assertion(
    key: &SigningKey,
    client_id: &str,
    audience: &str,
    now: UnixTime,
) -> Result<String, String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| format!("random source: {e}"))?;
    let iat = now.as_secs();
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": URL_SAFE_NO_PAD.encode(raw),
        "iat": iat,
        "exp": iat.saturating_add(ASSERTION_LIFETIME.as_secs()),
    });
    let alg =
        jsonwebtoken::Algorithm::from_str(key.algorithm().as_str()).map_err(|e| e.to_string())?;
    let mut header = jsonwebtoken::Header::new(alg);
    header.typ = Some("JWT".to_owned());
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, &claims, key.encoding_key()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::JwtVerifier;

    fn decode_basic(header: &str) -> (String, String) {
        let b64 = header.strip_prefix("Basic ").unwrap();
        let raw = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
        let (id, secret) = raw.split_once(':').unwrap();
        (form::decode(id).unwrap(), form::decode(secret).unwrap())
    }

    // Issue 13: secrets with `+`, `:`, `%`, space and non-ASCII characters are encoded as RFC
    // 6749 section 2.3.1 says (form-urlencode, then Basic).
    #[test]
    fn basic_credentials_are_form_urlencoded_before_base64() {
        let header = basic_authorization("my client:1", "a+b:c%d e/é€");
        let raw = String::from_utf8(
            STANDARD
                .decode(header.strip_prefix("Basic ").unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(raw, "my+client%3A1:a%2Bb%3Ac%25d+e%2F%C3%A9%E2%82%AC");
        // Exactly one unencoded `:` separates id and secret, whatever they contain.
        assert_eq!(raw.matches(':').count(), 1);
        assert_eq!(
            decode_basic(&header),
            ("my client:1".to_owned(), "a+b:c%d e/é€".to_owned())
        );
    }

    #[test]
    fn post_credentials_go_into_the_form_body_encoded() {
        let auth = ClientAuth::client_secret_post("svc", "p+q r%").unwrap();
        let mut form = Form::default();
        form.pair("grant_type", "client_credentials");
        let header = auth
            .apply(&mut form, "unused", UnixTime::from_secs(1))
            .unwrap();
        assert!(header.is_none());
        let body = String::from_utf8(form.into_bytes()).unwrap();
        assert_eq!(
            body,
            "grant_type=client_credentials&client_id=svc&client_secret=p%2Bq+r%25"
        );
    }

    #[test]
    fn empty_ids_and_secrets_and_hmac_keys_are_refused() {
        assert!(ClientAuth::client_secret_basic("", "s").is_err());
        assert!(ClientAuth::client_secret_basic("id", "").is_err());
        assert!(ClientAuth::client_secret_post("id\n", "s").is_err());
        let hmac = SigningKey::generate(Algorithm::HS256, "h").unwrap();
        assert!(matches!(
            ClientAuth::private_key_jwt("id", hmac),
            Err(ConfigError::KeyAlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        for auth in [
            ClientAuth::client_secret_basic("svc", "hunter2-secret").unwrap(),
            ClientAuth::client_secret_post("svc", "hunter2-secret").unwrap(),
        ] {
            let shown = format!("{auth:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("svc"), "{shown}");
        }
    }

    #[test]
    fn private_key_jwt_assertion_has_the_rfc_7523_claims() {
        let key = SigningKey::generate(Algorithm::ES256, "client-key").unwrap();
        let auth = ClientAuth::private_key_jwt("svc", key.clone()).unwrap();
        let now = UnixTime::from_secs(1_700_000_000);
        let mut form = Form::default();
        assert!(
            auth.apply(&mut form, "https://as.example", now)
                .unwrap()
                .is_none()
        );
        let pairs = form::parse(&form.into_bytes());
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("client_assertion_type"), JWT_BEARER_ASSERTION_TYPE);
        assert_eq!(get("client_id"), "svc");
        let assertion = get("client_assertion");

        // The signature verifies with the public key, and the claims are as required.
        let clock = crate::clock::ManualClock::new(now);
        let verifier = JwtVerifier::builder()
            .key(key.verification_key())
            .issuer("svc")
            .audience("https://as.example")
            .clock(clock)
            .build()
            .unwrap();
        let principal = verifier.verify_sync(&assertion).unwrap();
        assert_eq!(principal.subject(), "svc");
        let payload = assertion.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["iss"], "svc");
        assert_eq!(claims["sub"], "svc");
        assert_eq!(claims["iat"], 1_700_000_000u64);
        assert_eq!(claims["exp"], 1_700_000_060u64);
        let jti = URL_SAFE_NO_PAD
            .decode(claims["jti"].as_str().unwrap())
            .unwrap();
        assert_eq!(jti.len(), 16, "128-bit jti");
        let header = assertion.split('.').next().unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header["kid"], "client-key");
        assert_eq!(header["alg"], "ES256");
    }

    #[test]
    fn each_assertion_has_a_fresh_jti() {
        let key = SigningKey::generate(Algorithm::EdDSA, "k").unwrap();
        let a = client_assertion(&key, "svc", "aud", UnixTime::from_secs(5)).unwrap();
        let b = client_assertion(&key, "svc", "aud", UnixTime::from_secs(5)).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn method_names_parse_and_print() {
        for m in [
            ClientAuthMethod::ClientSecretBasic,
            ClientAuthMethod::ClientSecretPost,
            ClientAuthMethod::PrivateKeyJwt,
        ] {
            assert_eq!(m.as_str().parse::<ClientAuthMethod>().unwrap(), m);
        }
        assert!("CLIENT_SECRET_BASIC".parse::<ClientAuthMethod>().is_err());
    }
}
