//! Configuration from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_DEMO_ADDR` | listen address | `127.0.0.1:3000` |
//! | `AUTH_JWT_SECRET` | HS256 secret: raw text, or `base64:` + standard base64; at least 32 bytes | (ephemeral, random) |
//! | `AUTH_JWT_ALG` | algorithm of `AUTH_JWT_PUBLIC_KEY_FILE` (`RS256`, `ES256`, `EdDSA`, ...) | |
//! | `AUTH_JWT_PUBLIC_KEY_FILE` | PEM public key to verify with | |
//! | `AUTH_JWT_ISSUER` | required `iss` | `auth-demo` |
//! | `AUTH_JWT_AUDIENCE` | required `aud` | `auth-demo-api` |
//! | `AUTH_DEMO_TRUSTED_PROXIES` | comma-separated CIDRs (or addresses) of reverse proxies whose `X-Forwarded-For` is believed by `/auth/login`'s brute-force protection | (none) |
//! | `AUTH_DEMO_PASSWORD` | password of the seeded `demo@example.com` account | `demo-password` |
//! | `AUTH_JWT_KEY_ID` | `kid` of the verification key (tokens may name it; published in the JWKS) | (none) |
//! | `AUTH_OIDC_ISSUER` | also accept tokens from this OpenID Provider (keys by discovery + JWKS) | (off) |
//! | `AUTH_OIDC_AUDIENCE` | required `aud` of that provider's tokens; needed with `AUTH_OIDC_ISSUER` | |

use std::fmt;
use std::net::SocketAddr;

use auth_core::ConfigError;
use auth_core::jwt::{Algorithm, VerificationKey};
use base64::Engine as _;

/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// Default required issuer.
pub const DEFAULT_ISSUER: &str = "auth-demo";
/// Default required audience.
pub const DEFAULT_AUDIENCE: &str = "auth-demo-api";

/// Where the verification key comes from.
pub enum KeySource {
    /// `AUTH_JWT_SECRET` was set (HS256).
    Secret(Vec<u8>),
    /// Nothing was configured: a random secret made at start, lost at exit.
    Ephemeral(Vec<u8>),
    /// `AUTH_JWT_ALG` + `AUTH_JWT_PUBLIC_KEY_FILE`: verify only.
    PublicKey(Algorithm, Vec<u8>),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Secret(REDACTED)"),
            Self::Ephemeral(_) => f.write_str("Ephemeral(REDACTED)"),
            Self::PublicKey(alg, _) => write!(f, "PublicKey({alg})"),
        }
    }
}

/// The demo's settings.
#[derive(Debug)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// Verification key source.
    pub key: KeySource,
    /// Required issuer.
    pub issuer: String,
    /// Required audience.
    pub audience: String,
    /// Proxies whose forwarding headers are believed (`AUTH_DEMO_TRUSTED_PROXIES`).
    pub trusted_proxies: auth_tower::brute_force::TrustedProxies,
    /// The seeded account's password (`AUTH_DEMO_PASSWORD`).
    pub demo_password: crate::login::DemoPassword,
    /// `kid` of the verification key.
    pub key_id: Option<String>,
    /// A second, external issuer whose tokens are accepted too.
    pub oidc: Option<OidcConfig>,
}

/// `AUTH_OIDC_ISSUER` + `AUTH_OIDC_AUDIENCE`: an OpenID Provider whose access tokens the demo
/// accepts in addition to its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcConfig {
    /// The provider's issuer URL, exactly as its tokens' `iss` and its discovery document say.
    pub issuer: String,
    /// The `aud` its tokens must carry for this API.
    pub audience: String,
}

impl Config {
    /// Reads the configuration through `get` (the process environment in `main`).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] with a message naming the variable at fault.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let input = |m: String| ConfigError::Input(m);
        let addr_s = get("AUTH_DEMO_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr: SocketAddr = addr_s
            .parse()
            .map_err(|e| input(format!("AUTH_DEMO_ADDR `{addr_s}` is not an address: {e}")))?;
        let key = match (
            get("AUTH_JWT_SECRET"),
            get("AUTH_JWT_ALG"),
            get("AUTH_JWT_PUBLIC_KEY_FILE"),
        ) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(input(
                    "set either AUTH_JWT_SECRET or AUTH_JWT_ALG with AUTH_JWT_PUBLIC_KEY_FILE, not both"
                        .into(),
                ));
            }
            (Some(s), None, None) => KeySource::Secret(parse_secret(&s)?),
            (None, Some(alg), Some(file)) => {
                let alg = Algorithm::from_name(&alg).ok_or_else(|| {
                    input(format!("AUTH_JWT_ALG `{alg}` is not a supported algorithm"))
                })?;
                let pem = std::fs::read(&file)
                    .map_err(|e| input(format!("AUTH_JWT_PUBLIC_KEY_FILE `{file}`: {e}")))?;
                KeySource::PublicKey(alg, pem)
            }
            (None, Some(_), None) => {
                return Err(input("AUTH_JWT_ALG needs AUTH_JWT_PUBLIC_KEY_FILE".into()));
            }
            (None, None, Some(_)) => {
                return Err(input("AUTH_JWT_PUBLIC_KEY_FILE needs AUTH_JWT_ALG".into()));
            }
            (None, None, None) => KeySource::Ephemeral(random_secret()?),
        };
        let issuer = get("AUTH_JWT_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let audience = get("AUTH_JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned());
        let trusted_proxies = match get("AUTH_DEMO_TRUSTED_PROXIES") {
            Some(list) => auth_tower::brute_force::TrustedProxies::parse_list(&list)
                .map_err(|e| input(format!("AUTH_DEMO_TRUSTED_PROXIES: {e}")))?,
            None => auth_tower::brute_force::TrustedProxies::none(),
        };
        let demo_password = get("AUTH_DEMO_PASSWORD")
            .unwrap_or_else(|| crate::login::DEFAULT_DEMO_PASSWORD.to_owned());
        let chars = demo_password.chars().count();
        if !(auth_core::password::MIN_PASSWORD_CHARS..=auth_core::password::MAX_PASSWORD_CHARS)
            .contains(&chars)
        {
            return Err(input(format!(
                "AUTH_DEMO_PASSWORD is {chars} characters; it must have 8 to 128"
            )));
        }
        let demo_password = crate::login::DemoPassword::new(demo_password);
        let key_id = get("AUTH_JWT_KEY_ID").filter(|k| !k.is_empty());
        let oidc = match (get("AUTH_OIDC_ISSUER"), get("AUTH_OIDC_AUDIENCE")) {
            (Some(oidc_issuer), Some(oidc_audience)) => {
                if oidc_issuer.is_empty() || oidc_audience.is_empty() {
                    return Err(input(
                        "AUTH_OIDC_ISSUER and AUTH_OIDC_AUDIENCE must not be empty".into(),
                    ));
                }
                Some(OidcConfig {
                    issuer: oidc_issuer,
                    audience: oidc_audience,
                })
            }
            (Some(_), None) => {
                return Err(input(
                    "AUTH_OIDC_ISSUER needs AUTH_OIDC_AUDIENCE (the aud the provider puts in \
                     tokens for this API)"
                        .into(),
                ));
            }
            (None, Some(_)) => {
                return Err(input("AUTH_OIDC_AUDIENCE needs AUTH_OIDC_ISSUER".into()));
            }
            (None, None) => None,
        };
        if oidc.as_ref().is_some_and(|o| o.issuer == issuer) {
            return Err(input(
                "AUTH_OIDC_ISSUER must differ from the demo's own issuer (AUTH_JWT_ISSUER)".into(),
            ));
        }
        Ok(Self {
            addr,
            key,
            issuer,
            audience,
            trusted_proxies,
            demo_password,
            key_id,
            oidc,
        })
    }

    /// The verification key.
    ///
    /// # Errors
    ///
    /// When the secret is too short or the PEM does not parse for the algorithm.
    pub fn verification_key(&self) -> Result<VerificationKey, ConfigError> {
        let key = self.unnamed_key()?;
        Ok(match &self.key_id {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }

    fn unnamed_key(&self) -> Result<VerificationKey, ConfigError> {
        match &self.key {
            KeySource::Secret(s) | KeySource::Ephemeral(s) => {
                VerificationKey::hmac(Algorithm::HS256, s).map_err(|e| match e {
                    ConfigError::WeakHmacSecret { min, actual, .. } => ConfigError::Input(format!(
                        "AUTH_JWT_SECRET is {actual} bytes; HS256 needs at least {min} bytes \
                         (use `base64:` followed by standard base64 for binary secrets)"
                    )),
                    other => other,
                })
            }
            KeySource::PublicKey(alg, pem) => VerificationKey::from_pem(*alg, pem),
        }
    }
}

/// `AUTH_JWT_SECRET`: raw text, or `base64:` + standard base64.
fn parse_secret(s: &str) -> Result<Vec<u8>, ConfigError> {
    match s.strip_prefix("base64:") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| ConfigError::Input(format!("AUTH_JWT_SECRET is not valid base64: {e}"))),
        None => Ok(s.as_bytes().to_vec()),
    }
}

/// 32 random bytes from the OS.
///
/// # Errors
///
/// When the OS random source fails.
pub fn random_secret() -> Result<Vec<u8>, ConfigError> {
    let mut buf = vec![0u8; 32];
    getrandom::fill(&mut buf)
        .map_err(|e| ConfigError::Input(format!("os random source failed: {e}")))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::from_env(env(&[])).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.issuer, "auth-demo");
        assert_eq!(c.audience, "auth-demo-api");
        assert!(matches!(c.key, KeySource::Ephemeral(ref s) if s.len() == 32));
    }

    #[test]
    fn base64_secret_is_decoded() {
        let c = Config::from_env(env(&[(
            "AUTH_JWT_SECRET",
            "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )]))
        .unwrap();
        assert!(matches!(c.key, KeySource::Secret(ref s) if s.len() == 32 && s[1] == 1));
        assert!(c.verification_key().is_ok());
    }

    #[test]
    fn short_secret_names_the_variable() {
        let c = Config::from_env(env(&[("AUTH_JWT_SECRET", "too-short")])).unwrap();
        let err = c.verification_key().unwrap_err().to_string();
        assert!(err.contains("AUTH_JWT_SECRET is 9 bytes"), "{err}");
    }

    #[test]
    fn demo_password_outside_8_to_128_characters_is_refused() {
        let err = Config::from_env(env(&[("AUTH_DEMO_PASSWORD", "short")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("AUTH_DEMO_PASSWORD is 5 characters"),
            "{err}"
        );
        assert!(Config::from_env(env(&[("AUTH_DEMO_PASSWORD", "long enough")])).is_ok());
    }

    #[test]
    fn oidc_issuer_needs_an_audience_and_a_name_of_its_own() {
        assert!(Config::from_env(env(&[("AUTH_OIDC_ISSUER", "https://idp.example")])).is_err());
        assert!(Config::from_env(env(&[("AUTH_OIDC_AUDIENCE", "api")])).is_err());
        assert!(
            Config::from_env(env(&[
                ("AUTH_OIDC_ISSUER", "auth-demo"),
                ("AUTH_OIDC_AUDIENCE", "api")
            ]))
            .is_err()
        );
        let c = Config::from_env(env(&[
            ("AUTH_OIDC_ISSUER", "https://idp.example"),
            ("AUTH_OIDC_AUDIENCE", "api"),
            ("AUTH_JWT_KEY_ID", "demo-1"),
        ]))
        .unwrap();
        assert_eq!(
            c.oidc,
            Some(OidcConfig {
                issuer: "https://idp.example".into(),
                audience: "api".into()
            })
        );
        assert_eq!(c.verification_key().unwrap().kid(), Some("demo-1"));
    }

    #[test]
    fn half_configured_public_key_is_refused() {
        assert!(Config::from_env(env(&[("AUTH_JWT_ALG", "RS256")])).is_err());
        assert!(
            Config::from_env(env(&[
                ("AUTH_JWT_ALG", "none"),
                ("AUTH_JWT_PUBLIC_KEY_FILE", "x")
            ]))
            .is_err()
        );
        assert!(Config::from_env(env(&[("AUTH_DEMO_ADDR", "nope")])).is_err());
    }
}
