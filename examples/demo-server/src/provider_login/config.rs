//! The configuration of provider sign-in, from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_LOGIN_PROVIDERS` | comma-separated provider names (`[a-z0-9][a-z0-9_-]*`, e.g. `acme`): each gets `GET /auth/login/<name>` and a "Sign in with `<name>`" button | (none: provider sign-in off) |
//! | `AUTH_LOGIN_<NAME>_ISSUER` | the provider's issuer, exactly as its discovery document says (`https://`; plain `http://` only on loopback) | required per provider |
//! | `AUTH_LOGIN_<NAME>_CLIENT_ID` | this demo's client id at the provider | required per provider |
//! | `AUTH_LOGIN_<NAME>_CLIENT_SECRET` | its client secret (`client_secret_basic`); absent: a public client, PKCE only | (public client) |
//! | `AUTH_LOGIN_<NAME>_SCOPES` | the scopes asked for, space- or comma-separated; must include `openid` | `openid email profile` |
//! | `AUTH_DEMO_PUBLIC_URL` | the demo's origin as browsers reach it (`https://`; plain `http://` only on loopback), no path: the redirect URI registered at each provider is `<public>/auth/login/<name>/callback` | `http://` + the address the demo listens on |
//! | `AUTH_LOGIN_SEALING_KEY` | `base64:` + 32 random bytes: the AES-256-GCM key sealing each login's transaction cookie | (random per process; required with `REDIS_URL` when providers are configured) |
//!
//! `<NAME>` is the provider name in upper case with `-` written `_` (`my-idp` reads
//! `AUTH_LOGIN_MY_IDP_ISSUER`).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::clock::Clock;
use auth_core::oidc_login::{OidcLogin, ProviderConfig, UsedStateStore};
use auth_core::seal::SealingKey;

/// The variable naming the providers.
pub const PROVIDERS_VAR: &str = "AUTH_LOGIN_PROVIDERS";
/// The variable holding the transaction sealing key.
pub const SEALING_KEY_VAR: &str = "AUTH_LOGIN_SEALING_KEY";
/// The variable holding the demo's public origin.
pub const PUBLIC_URL_VAR: &str = "AUTH_DEMO_PUBLIC_URL";

/// The id written into every sealed transaction (a rotated key would get 2).
const SEALING_KEY_ID: u8 = 1;

/// One provider's settings as configured (the redirect URI is derived from the public URL
/// when the login is built).
#[derive(Clone)]
struct ProviderSettings {
    name: String,
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    scopes: Option<Vec<String>>,
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "REDACTED"),
            )
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Provider sign-in settings (`AUTH_LOGIN_*`, `AUTH_DEMO_PUBLIC_URL`). `Debug` hides the
/// client secrets and the sealing key.
#[derive(Clone)]
pub struct LoginConfig {
    providers: Vec<ProviderSettings>,
    public_url: String,
    public_url_configured: bool,
    key: SealingKey,
    key_configured: bool,
}

impl fmt::Debug for LoginConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginConfig")
            .field("providers", &self.providers)
            .field("public_url", &self.public_url)
            .field("key_configured", &self.key_configured)
            .finish_non_exhaustive()
    }
}

/// `AUTH_LOGIN_<NAME>_<what>` for provider `name`.
#[must_use]
pub fn provider_var(name: &str, what: &str) -> String {
    format!(
        "AUTH_LOGIN_{}_{what}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

impl LoginConfig {
    /// Reads the variables through `get`; `addr` is the listen address, the default public URL.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] naming the variable at fault: a provider without issuer or client
    /// id, an invalid name, issuer, scope list or public URL (plain `http://` off loopback, a
    /// path), two names that map to one variable prefix, a sealing key that is not `base64:` +
    /// 32 bytes.
    pub fn from_env(
        get: &impl Fn(&str) -> Option<String>,
        addr: SocketAddr,
    ) -> Result<Self, ConfigError> {
        let input = |m: String| ConfigError::Input(m);
        let (public_url, public_url_configured) =
            match get(PUBLIC_URL_VAR).filter(|v| !v.is_empty()) {
                Some(url) => (check_public_url(&url)?, true),
                None => (format!("http://{addr}"), false),
            };
        let key = match get(SEALING_KEY_VAR).filter(|v| !v.is_empty()) {
            Some(v) => {
                let bytes = crate::mfa::keys::decode(SEALING_KEY_VAR, &v)?;
                let key = SealingKey::new(SEALING_KEY_ID, &bytes).map_err(|_| {
                    input(format!(
                        "{SEALING_KEY_VAR} is {} bytes; it must be exactly 32",
                        bytes.len()
                    ))
                })?;
                Some(key)
            }
            None => None,
        };
        let key_configured = key.is_some();
        let key = match key {
            Some(k) => k,
            None => random_key()?,
        };
        let names: Vec<String> = get(PROVIDERS_VAR)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        let mut providers: Vec<ProviderSettings> = Vec::with_capacity(names.len());
        for name in names {
            let var = |what: &str| provider_var(&name, what);
            if providers
                .iter()
                .any(|p| provider_var(&p.name, "") == var(""))
            {
                return Err(input(format!(
                    "{PROVIDERS_VAR}: `{name}` is listed twice, or shares its variables \
                     ({}*) with another name",
                    var("")
                )));
            }
            let required = |what: &str| {
                get(&var(what)).filter(|v| !v.is_empty()).ok_or_else(|| {
                    input(format!("{PROVIDERS_VAR} names `{name}`: set {}", var(what)))
                })
            };
            let scopes = get(&var("SCOPES"))
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    v.split([' ', ','])
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                });
            providers.push(ProviderSettings {
                issuer: required("ISSUER")?,
                client_id: required("CLIENT_ID")?,
                client_secret: get(&var("CLIENT_SECRET")).filter(|v| !v.is_empty()),
                scopes,
                name,
            });
        }
        let config = Self {
            providers,
            public_url,
            public_url_configured,
            key,
            key_configured,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks each provider as the library will (no request is made), naming its variables.
    fn validate(&self) -> Result<(), ConfigError> {
        for p in &self.providers {
            OidcLogin::builder(self.key.clone())
                .provider(self.provider_config(p))
                .build()
                .map_err(|e| {
                    ConfigError::Input(format!(
                        "login provider `{}` ({}*, {PUBLIC_URL_VAR}): {e}",
                        p.name,
                        provider_var(&p.name, "")
                    ))
                })?;
        }
        Ok(())
    }

    /// Whether any provider is configured.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        !self.providers.is_empty()
    }

    /// The configured provider names, in order.
    pub fn provider_names(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(|p| p.name.as_str())
    }

    /// The demo's public origin (`AUTH_DEMO_PUBLIC_URL`, or `http://` + the listen address).
    #[must_use]
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The redirect URI of provider `name`: `<public>/auth/login/<name>/callback`.
    #[must_use]
    pub fn redirect_uri(&self, name: &str) -> String {
        format!("{}/auth/login/{name}/callback", self.public_url)
    }

    /// Whether the sealing key came from `AUTH_LOGIN_SEALING_KEY` (shared by every instance
    /// configured alike) rather than made at random for this process.
    #[must_use]
    pub fn key_is_configured(&self) -> bool {
        self.key_configured
    }

    /// The demo now listens on `addr` (e.g. after binding port 0): without
    /// `AUTH_DEMO_PUBLIC_URL`, the public URL (and every redirect URI) becomes `http://addr`.
    pub fn listening_on(&mut self, addr: SocketAddr) {
        if !self.public_url_configured {
            self.public_url = format!("http://{addr}");
        }
    }

    fn provider_config(&self, p: &ProviderSettings) -> ProviderConfig {
        let mut config = ProviderConfig::new(
            p.name.clone(),
            p.issuer.clone(),
            p.client_id.clone(),
            self.redirect_uri(&p.name),
        );
        if let Some(secret) = &p.client_secret {
            config = config.client_secret_basic(secret.clone());
        }
        if let Some(scopes) = &p.scopes {
            config = config.scopes(scopes.iter().cloned());
        }
        config
    }

    /// The login over these providers, remembering used transactions in `used` and reading
    /// `clock`; `None` when no provider is configured.
    ///
    /// # Errors
    ///
    /// When a setting is invalid (already checked by [`from_env`](Self::from_env)) or the HTTP
    /// client cannot be built.
    pub fn build(
        &self,
        used: Arc<dyn UsedStateStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Option<OidcLogin>, ConfigError> {
        if !self.is_enabled() {
            return Ok(None);
        }
        let mut builder = OidcLogin::builder(self.key.clone())
            .used_states(used)
            .clock(clock);
        for p in &self.providers {
            builder = builder.provider(self.provider_config(p));
        }
        builder.build().map(Some)
    }
}

/// `AUTH_DEMO_PUBLIC_URL` without a trailing `/`: `http(s)://host[:port]`, no path, query or
/// fragment; plain `http://` only for loopback hosts.
fn check_public_url(raw: &str) -> Result<String, ConfigError> {
    let url = raw.trim().trim_end_matches('/');
    let bad = |why: &str| {
        Err(ConfigError::Input(format!(
            "{PUBLIC_URL_VAR} `{raw}` {why} (e.g. https://app.example or http://127.0.0.1:3000)"
        )))
    };
    let lower = url.to_ascii_lowercase();
    let (plain, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (false, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (true, rest)
    } else {
        return bad("must start with https:// (or http:// on loopback)");
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) || rest.contains(char::is_whitespace)
    {
        return bad("must be an origin: scheme, host and port only");
    }
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => rest.split(':').next().unwrap_or(""),
    };
    let loopback = host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if plain && !loopback {
        return bad("uses plain http off loopback; use https");
    }
    Ok(url.to_owned())
}

/// 32 random bytes from the OS as a sealing key, for this process only.
fn random_key() -> Result<SealingKey, ConfigError> {
    let mut bytes = [0u8; SealingKey::LEN];
    getrandom::fill(&mut bytes)
        .map_err(|e| ConfigError::Input(format!("os random source failed: {e}")))?;
    SealingKey::new(SEALING_KEY_ID, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const ADDR: &str = "127.0.0.1:3000";
    const KEY: &str = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn read(pairs: &[(&str, &str)]) -> Result<LoginConfig, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        LoginConfig::from_env(&|k: &str| m.get(k).cloned(), ADDR.parse().unwrap())
    }

    fn acme(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![
            ("AUTH_LOGIN_PROVIDERS", "acme"),
            ("AUTH_LOGIN_ACME_ISSUER", "https://idp.example"),
            ("AUTH_LOGIN_ACME_CLIENT_ID", "demo"),
        ];
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn without_providers_sign_in_is_off_and_the_key_is_random() {
        let c = read(&[]).unwrap();
        assert!(!c.is_enabled());
        assert!(!c.key_is_configured());
        assert_eq!(c.public_url(), "http://127.0.0.1:3000");
        assert!(
            c.build(
                Arc::new(auth_core::oidc_login::MemoryUsedStateStore::new()),
                Arc::new(auth_core::clock::SystemClock)
            )
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn a_provider_gets_its_redirect_uri_from_the_public_url() {
        let c = read(&acme(&[])).unwrap();
        assert_eq!(c.provider_names().collect::<Vec<_>>(), ["acme"]);
        assert_eq!(
            c.redirect_uri("acme"),
            "http://127.0.0.1:3000/auth/login/acme/callback"
        );
        let c = read(&acme(&[("AUTH_DEMO_PUBLIC_URL", "https://app.example/")])).unwrap();
        assert_eq!(
            c.redirect_uri("acme"),
            "https://app.example/auth/login/acme/callback"
        );
        let mut c = read(&acme(&[])).unwrap();
        c.listening_on("127.0.0.1:4567".parse().unwrap());
        assert_eq!(c.public_url(), "http://127.0.0.1:4567");
        let mut c = read(&acme(&[("AUTH_DEMO_PUBLIC_URL", "https://app.example")])).unwrap();
        c.listening_on("127.0.0.1:4567".parse().unwrap());
        assert_eq!(c.public_url(), "https://app.example");
    }

    #[test]
    fn each_mistake_names_its_variable() {
        for (vars, needle) in [
            (
                vec![("AUTH_LOGIN_PROVIDERS", "acme")],
                "AUTH_LOGIN_ACME_ISSUER",
            ),
            (
                vec![
                    ("AUTH_LOGIN_PROVIDERS", "acme"),
                    ("AUTH_LOGIN_ACME_ISSUER", "https://idp.example"),
                ],
                "AUTH_LOGIN_ACME_CLIENT_ID",
            ),
            (
                acme(&[("AUTH_LOGIN_ACME_ISSUER", "http://idp.example")]),
                "AUTH_LOGIN_ACME_*",
            ),
            (
                acme(&[("AUTH_LOGIN_ACME_SCOPES", "email profile")]),
                "AUTH_LOGIN_ACME_*",
            ),
            (
                acme(&[("AUTH_LOGIN_PROVIDERS", "acme,Acme")]),
                "AUTH_LOGIN_PROVIDERS",
            ),
            (
                acme(&[("AUTH_DEMO_PUBLIC_URL", "http://app.example")]),
                "AUTH_DEMO_PUBLIC_URL",
            ),
            (
                acme(&[("AUTH_DEMO_PUBLIC_URL", "https://app.example/demo")]),
                "AUTH_DEMO_PUBLIC_URL",
            ),
            (
                acme(&[("AUTH_LOGIN_SEALING_KEY", "c2hvcnQ=")]),
                "AUTH_LOGIN_SEALING_KEY",
            ),
            (
                acme(&[("AUTH_LOGIN_SEALING_KEY", "base64:c2hvcnQ=")]),
                "AUTH_LOGIN_SEALING_KEY",
            ),
        ] {
            let err = read(&vars).unwrap_err().to_string();
            assert!(err.contains(needle), "{vars:?}: {err}");
        }
    }

    #[test]
    fn a_secret_a_scope_list_and_a_key_are_read_and_the_secret_stays_out_of_debug() {
        let c = read(&acme(&[
            ("AUTH_LOGIN_ACME_CLIENT_SECRET", "hunter2-secret"),
            ("AUTH_LOGIN_ACME_SCOPES", "openid, email"),
            ("AUTH_LOGIN_SEALING_KEY", KEY),
            ("AUTH_DEMO_PUBLIC_URL", "http://localhost:8080"),
        ]))
        .unwrap();
        assert!(c.key_is_configured());
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains(r#"["openid", "email"]"#), "{shown}");
    }
}
