//! Configuration from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_DEMO_ADDR` | listen address | `127.0.0.1:3000` |
//! | `AUTH_JWT_SECRET` | HS256 secret to sign and verify with: raw text, or `base64:` + standard base64; at least 32 bytes | (ephemeral, random) |
//! | `AUTH_JWT_ALG` | algorithm of `AUTH_JWT_PRIVATE_KEY_FILE` or `AUTH_JWT_PUBLIC_KEY_FILE` (`RS256`, `ES256`, `EdDSA`, ...) | |
//! | `AUTH_JWT_PRIVATE_KEY_FILE` | PEM private key (unencrypted PKCS#8) to sign and verify with; its public half is served at `/.well-known/jwks.json` | |
//! | `AUTH_JWT_PUBLIC_KEY_FILE` | PEM public key to verify with; the demo then cannot issue tokens (its issuing endpoints answer 503) | |
//! | `AUTH_JWT_ISSUER` | `iss` of issued tokens, and required `iss` | `auth-demo` |
//! | `AUTH_JWT_AUDIENCE` | `aud` of issued tokens, and required `aud` | `auth-demo-api` |
//! | `AUTH_JWT_TYP` | header `typ` required of the demo's own tokens, or `any` (see [`crate::issuers`]) | `at+jwt` |
//! | `AUTH_JWT_KEY_ID` | `kid` of the key (in issued tokens' headers; published in the JWKS) | `auth-demo-1` for signing keys, none for a public key |
//! | `AUTH_DEMO_TRUSTED_PROXIES` | comma-separated CIDRs (or addresses) of reverse proxies whose `X-Forwarded-For` is believed by the login routes' brute-force protection | (none) |
//! | `AUTH_DEMO_PASSWORD` | password of the seeded `demo@example.com` account | `demo-password` |
//! | `AUTH_DEMO_ADMIN_EMAIL` | email of the seeded admin account (role `admin`; everyone else is `user`); reserved: registering it is refused | (no admin) |
//! | `AUTH_DEMO_ADMIN_PASSWORD` | password of that account (8 to 128 characters); without it no admin account exists, and the server says so at start-up | (no admin) |
//! | `AUTH_DEMO_ALLOWED_ORIGINS` | comma-separated origins (`http://127.0.0.1:3000`) allowed to send cookie-authenticated unsafe requests, checked in addition to the CSRF token | (no `Origin` check) |
//! | `AUTH_DPOP` | `off`, `allowed` or `required`: DPoP-bound tokens (RFC 9449) on the API, and login binding tokens to a proof's key (see [`crate::resource`]) | `off` |
//! | `AUTH_OIDC_ISSUER` | also accept tokens from this OpenID Provider (keys by discovery + JWKS) | (off) |
//! | `AUTH_OIDC_AUDIENCE` | required `aud` of that provider's tokens; needed with `AUTH_OIDC_ISSUER` | |
//! | `AUTH_OIDC_TYP` | header `typ` required of that provider's tokens, or `any` | `any` |
//! | `AUTH_OIDC_INTROSPECTION` | `true`: that provider's opaque tokens are introspected (RFC 7662) at its discovered `introspection_endpoint` | `false` |
//! | `AUTH_OIDC_CLIENT_ID` / `AUTH_OIDC_CLIENT_SECRET` | the demo's client at that provider (`client_secret_basic`); required with introspection | |
//! | `AUTH_OIDC_INTROSPECTION_TTL` | seconds an active introspection answer is cached at most: the revocation delay | `60` |
//! | `AUTH_PASSWORD_MAX_CONCURRENT` | Argon2id runs (19 MiB each) at once, 1 to 256 (see [`crate::limits`]) | the number of CPUs |
//! | `AUTH_PASSWORD_MAX_WAIT_MS` | wait for a free hashing slot before 503 + `Retry-After`, 0 to 10000 | `200` |
//! | `AUTH_ACCESS_TOKEN_TTL` | lifetime of issued access tokens, seconds, 1 to 86400 (see [`crate::lifetimes`]) | `900` |
//! | `AUTH_REFRESH_TOKEN_TTL` | lifetime of refresh tokens, seconds, 1 to 31536000 and at least the access lifetime | `2592000` |
//! | `AUTH_DEMO_REGISTER_LIMIT` | registrations per client address, `<count>/<seconds>` (429 + `Retry-After` beyond) | `5/600` |
//! | `AUTH_MFA_SEALING_KEY` | `base64:` + 32 random bytes: seals TOTP secrets at rest (AES-256-GCM); with `AUTH_MFA_RECOVERY_KEY`, see [`crate::mfa::keys`] | (random per process; required with `REDIS_URL` or `DATABASE_URL`) |
//! | `AUTH_MFA_RECOVERY_KEY` | `base64:` + at least 32 random bytes: the HMAC key recovery codes are stored under | (random per process; required with `REDIS_URL` or `DATABASE_URL`) |
//!
//! The downstream API (`AUTH_OUTBOUND_URL`, `AUTH_OUTBOUND_TOKEN_URL`, `AUTH_OUTBOUND_ISSUER`,
//! `AUTH_OUTBOUND_CLIENT_ID`, ...) is read by [`crate::outbound::OutboundConfig`].
//!
//! The Redis variables (`REDIS_URL`, `AUTH_REDIS_PREFIX`, `AUTH_REDIS_TIMEOUT_MS`) are read by
//! [`crate::stores::StoreConfig`]; the provider sign-in variables (`AUTH_LOGIN_PROVIDERS`,
//! `AUTH_LOGIN_<NAME>_*`, `AUTH_LOGIN_SEALING_KEY`, `AUTH_DEMO_PUBLIC_URL`) by
//! [`crate::provider_login::config`].

use std::fmt;
use std::net::SocketAddr;

use auth_core::ConfigError;
use auth_core::jwt::{Algorithm, SigningKey, VerificationKey};
use base64::Engine as _;

pub use crate::issuers::OidcConfig;
use crate::users::DemoPassword;

/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// Default required issuer.
pub const DEFAULT_ISSUER: &str = "auth-demo";
/// Default required audience.
pub const DEFAULT_AUDIENCE: &str = "auth-demo-api";
/// The signing key's `kid` when `AUTH_JWT_KEY_ID` is not set.
pub const DEFAULT_KEY_ID: &str = "auth-demo-1";

/// Where the keys come from.
pub enum KeySource {
    /// `AUTH_JWT_SECRET` was set (HS256): sign and verify.
    Secret(Vec<u8>),
    /// Nothing was configured: a random HS256 secret made at start, lost at exit.
    Ephemeral(Vec<u8>),
    /// `AUTH_JWT_ALG` + `AUTH_JWT_PRIVATE_KEY_FILE` (PEM, PKCS#8): sign and verify.
    PrivateKey(Algorithm, Vec<u8>),
    /// `AUTH_JWT_ALG` + `AUTH_JWT_PUBLIC_KEY_FILE`: verify only.
    PublicKey(Algorithm, Vec<u8>),
}

impl KeySource {
    /// Whether the demo can sign tokens with this key.
    #[must_use]
    pub fn can_sign(&self) -> bool {
        !matches!(self, Self::PublicKey(..))
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Secret(REDACTED)"),
            Self::Ephemeral(_) => f.write_str("Ephemeral(REDACTED)"),
            Self::PrivateKey(alg, _) => write!(f, "PrivateKey({alg}, REDACTED)"),
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
    pub demo_password: DemoPassword,
    /// The seeded admin account's email (`AUTH_DEMO_ADMIN_EMAIL`, normalized); reserved even
    /// without a password.
    pub admin_email: Option<String>,
    /// The seeded admin account's password (`AUTH_DEMO_ADMIN_PASSWORD`); without it there is
    /// no admin account.
    pub admin_password: Option<DemoPassword>,
    /// Origins allowed to send cookie-authenticated unsafe requests (`AUTH_DEMO_ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<String>,
    /// `kid` of the key (`AUTH_JWT_KEY_ID`).
    pub key_id: Option<String>,
    /// The header `typ` required of the demo's own tokens (`AUTH_JWT_TYP`, default `at+jwt`;
    /// `None` for `any`).
    pub jwt_typ: Option<String>,
    /// A second, external issuer whose tokens are accepted too.
    pub oidc: Option<OidcConfig>,
    /// Password hashing and registration limits (`AUTH_PASSWORD_*`,
    /// `AUTH_DEMO_REGISTER_LIMIT`).
    pub limits: crate::limits::Limits,
    /// The downstream API the demo calls with client credentials (`AUTH_OUTBOUND_*`, see
    /// [`crate::outbound`]).
    pub outbound: Option<crate::outbound::OutboundConfig>,
    /// Token lifetimes (`AUTH_ACCESS_TOKEN_TTL`, `AUTH_REFRESH_TOKEN_TTL`).
    pub lifetimes: crate::lifetimes::TokenLifetimes,
    /// The second factor's keys (`AUTH_MFA_SEALING_KEY`, `AUTH_MFA_RECOVERY_KEY`).
    pub mfa_keys: crate::mfa::MfaKeys,
    /// Sign-in with OpenID Providers (`AUTH_LOGIN_*`, `AUTH_DEMO_PUBLIC_URL`).
    pub login: crate::provider_login::LoginConfig,
    /// DPoP on the API (`AUTH_DPOP`: off, allowed or required; see [`crate::resource`]).
    pub dpop: auth_tower::bearer::DpopMode,
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
        let key = key_source(&get)?;
        let issuer = get("AUTH_JWT_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let audience = get("AUTH_JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned());
        let trusted_proxies = match get("AUTH_DEMO_TRUSTED_PROXIES") {
            Some(list) => auth_tower::brute_force::TrustedProxies::parse_list(&list)
                .map_err(|e| input(format!("AUTH_DEMO_TRUSTED_PROXIES: {e}")))?,
            None => auth_tower::brute_force::TrustedProxies::none(),
        };
        let crate::seeded::SeededAccounts {
            demo_password,
            admin_email,
            admin_password,
        } = crate::seeded::SeededAccounts::from_env(&get)?;
        let allowed_origins: Vec<String> = get("AUTH_DEMO_ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        // The CSRF layer's own check (exact lower-case `http(s)://host[:port]`), run here so
        // the message names the variable.
        for origin in &allowed_origins {
            let _checked = auth_tower::csrf::CsrfLayer::builder()
                .allowed_origin(origin.clone())
                .build()
                .map_err(|_| {
                    input(format!(
                        "AUTH_DEMO_ALLOWED_ORIGINS: `{origin}` is not an origin \
                         (lower-case http(s)://host[:port], no path)"
                    ))
                })?;
        }
        let key_id = get("AUTH_JWT_KEY_ID").filter(|k| !k.is_empty());
        let limits = crate::limits::Limits::from_env(&get)?;
        let lifetimes = crate::lifetimes::TokenLifetimes::from_env(&get)?;
        let jwt_typ = match get("AUTH_JWT_TYP") {
            Some(v) => crate::issuers::parse_typ("AUTH_JWT_TYP", &v)?,
            None => Some(crate::issuers::DEFAULT_JWT_TYP.to_owned()),
        };
        let oidc = crate::issuers::oidc_from_env(&get, &issuer)?;
        let outbound = crate::outbound::OutboundConfig::from_env(&get)?;
        let mfa_keys = crate::mfa::MfaKeys::from_env(&get)?;
        let login = crate::provider_login::LoginConfig::from_env(&get, addr)?;
        let dpop = crate::resource::mode_from_env(&get)?;
        Ok(Self {
            addr,
            key,
            issuer,
            audience,
            trusted_proxies,
            demo_password,
            admin_email,
            admin_password,
            allowed_origins,
            key_id,
            jwt_typ,
            oidc,
            outbound,
            limits,
            lifetimes,
            mfa_keys,
            login,
            dpop,
        })
    }

    /// The verifier's settings (see [`crate::issuers::bearer_settings`]): the demo builds its
    /// verifier from them, as a service would from a settings file.
    #[must_use]
    pub fn bearer_settings(&self) -> auth_core::settings::BearerSettings {
        crate::issuers::bearer_settings(self)
    }

    /// What the server says at start-up about the admin account: that it is seeded, or, with
    /// `AUTH_DEMO_ADMIN_EMAIL` but no `AUTH_DEMO_ADMIN_PASSWORD`, that none exists. `None`
    /// without `AUTH_DEMO_ADMIN_EMAIL`.
    #[must_use]
    pub fn admin_notice(&self) -> Option<String> {
        crate::seeded::admin_notice(self.admin_email.as_deref(), self.admin_password.is_some())
    }

    /// The signing key (`kid` from `AUTH_JWT_KEY_ID`, default [`DEFAULT_KEY_ID`]), or `None`
    /// when only a public key is configured.
    ///
    /// # Errors
    ///
    /// When the secret is too short or the private key does not parse for the algorithm; the
    /// message names the variable at fault.
    pub fn signing_key(&self) -> Result<Option<SigningKey>, ConfigError> {
        let kid = self.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID);
        match &self.key {
            KeySource::Secret(s) | KeySource::Ephemeral(s) => {
                SigningKey::hmac(Algorithm::HS256, s, kid)
                    .map(Some)
                    .map_err(secret_error)
            }
            KeySource::PrivateKey(alg, pem) => SigningKey::from_pkcs8_pem(*alg, pem, kid)
                .map(Some)
                .map_err(|e| {
                    ConfigError::Input(format!(
                        "AUTH_JWT_PRIVATE_KEY_FILE is not a usable {alg} private key: {e}"
                    ))
                }),
            KeySource::PublicKey(..) => Ok(None),
        }
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
                VerificationKey::hmac(Algorithm::HS256, s).map_err(secret_error)
            }
            KeySource::PrivateKey(..) => self
                .signing_key()?
                .map(|k| k.verification_key())
                .ok_or(ConfigError::NoKeys),
            KeySource::PublicKey(alg, pem) => VerificationKey::from_pem(*alg, pem),
        }
    }
}

/// Names `AUTH_JWT_SECRET` in a weak-secret error.
fn secret_error(e: ConfigError) -> ConfigError {
    match e {
        ConfigError::WeakHmacSecret { min, actual, .. } => ConfigError::Input(format!(
            "AUTH_JWT_SECRET is {actual} bytes; HS256 needs at least {min} bytes \
             (use `base64:` followed by standard base64 for binary secrets)"
        )),
        other => other,
    }
}

/// Reads the key variables: a secret, a private key or a public key (one of them), or
/// nothing (an ephemeral secret).
fn key_source(get: &impl Fn(&str) -> Option<String>) -> Result<KeySource, ConfigError> {
    let input = |m: &str| ConfigError::Input(m.to_owned());
    let secret = get("AUTH_JWT_SECRET");
    let alg = get("AUTH_JWT_ALG");
    let private = get("AUTH_JWT_PRIVATE_KEY_FILE");
    let public = get("AUTH_JWT_PUBLIC_KEY_FILE");
    if secret.is_some() && (alg.is_some() || private.is_some() || public.is_some()) {
        return Err(input(
            "set either AUTH_JWT_SECRET, or AUTH_JWT_ALG with AUTH_JWT_PRIVATE_KEY_FILE or \
             AUTH_JWT_PUBLIC_KEY_FILE, not both",
        ));
    }
    if private.is_some() && public.is_some() {
        return Err(input(
            "set AUTH_JWT_PRIVATE_KEY_FILE (sign and verify) or AUTH_JWT_PUBLIC_KEY_FILE \
             (verify only), not both: the public key is derived from the private one",
        ));
    }
    let read = |var: &str, file: &str| {
        std::fs::read(file).map_err(|e| ConfigError::Input(format!("{var} `{file}`: {e}")))
    };
    let parse_alg = |alg: &str| {
        Algorithm::from_name(alg).ok_or_else(|| {
            ConfigError::Input(format!("AUTH_JWT_ALG `{alg}` is not a supported algorithm"))
        })
    };
    match (secret, alg, private, public) {
        (Some(s), ..) => Ok(KeySource::Secret(parse_secret(&s)?)),
        (None, Some(alg), Some(file), None) => Ok(KeySource::PrivateKey(
            parse_alg(&alg)?,
            read("AUTH_JWT_PRIVATE_KEY_FILE", &file)?,
        )),
        (None, Some(alg), None, Some(file)) => Ok(KeySource::PublicKey(
            parse_alg(&alg)?,
            read("AUTH_JWT_PUBLIC_KEY_FILE", &file)?,
        )),
        (None, Some(_), None, None) => Err(input(
            "AUTH_JWT_ALG needs AUTH_JWT_PRIVATE_KEY_FILE or AUTH_JWT_PUBLIC_KEY_FILE",
        )),
        (None, None, Some(_), _) => Err(input("AUTH_JWT_PRIVATE_KEY_FILE needs AUTH_JWT_ALG")),
        (None, None, None, Some(_)) => Err(input("AUTH_JWT_PUBLIC_KEY_FILE needs AUTH_JWT_ALG")),
        (None, _, Some(_), Some(_)) => Err(input(
            "set AUTH_JWT_PRIVATE_KEY_FILE or AUTH_JWT_PUBLIC_KEY_FILE, not both",
        )),
        (None, None, None, None) => Ok(KeySource::Ephemeral(random_secret()?)),
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
                audience: "api".into(),
                typ: None,
                introspection: None,
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

    #[test]
    fn key_variables_combine_only_in_the_documented_ways() {
        for vars in [
            &[
                ("AUTH_JWT_SECRET", "a secret of at least thirty-two bytes"),
                ("AUTH_JWT_ALG", "RS256"),
            ][..],
            &[("AUTH_JWT_PRIVATE_KEY_FILE", "a")],
            &[("AUTH_JWT_PUBLIC_KEY_FILE", "a")],
            &[
                ("AUTH_JWT_ALG", "EdDSA"),
                ("AUTH_JWT_PRIVATE_KEY_FILE", "a"),
                ("AUTH_JWT_PUBLIC_KEY_FILE", "b"),
            ],
        ] {
            assert!(Config::from_env(env(vars)).is_err(), "{vars:?}");
        }
        let err = Config::from_env(env(&[("AUTH_JWT_ALG", "EdDSA")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AUTH_JWT_PRIVATE_KEY_FILE"), "{err}");
    }

    #[test]
    fn a_private_key_that_does_not_parse_names_the_variable_and_keeps_its_bytes_out_of_debug() {
        let path =
            std::env::temp_dir().join(format!("demo-config-test-{}.pem", std::process::id()));
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let c = Config::from_env(env(&[
            ("AUTH_JWT_ALG", "ES256"),
            ("AUTH_JWT_PRIVATE_KEY_FILE", path.to_str().unwrap()),
        ]))
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(format!("{:?}", c.key), "PrivateKey(ES256, REDACTED)");
        let err = c.signing_key().unwrap_err().to_string();
        assert!(err.contains("AUTH_JWT_PRIVATE_KEY_FILE"), "{err}");
    }

    #[test]
    fn signing_keys_default_to_the_demo_kid() {
        let c = Config::from_env(env(&[])).unwrap();
        assert_eq!(c.signing_key().unwrap().unwrap().kid(), DEFAULT_KEY_ID);
        let c = Config::from_env(env(&[("AUTH_JWT_KEY_ID", "k-7")])).unwrap();
        assert_eq!(c.signing_key().unwrap().unwrap().kid(), "k-7");
    }
}
