//! [`ProviderConfig`]: one OpenID Provider the application signs users in with.

use super::client_auth::{ClientCredentials, Secret};
use crate::error::ConfigError;
use crate::jwks::url;
use crate::jwt::Algorithm;

/// The scopes asked for by default.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// The longest provider name: names appear in URLs and cookies.
pub const MAX_PROVIDER_NAME_LEN: usize = 32;

/// One OpenID Provider: its issuer, this application's client registration there, and the
/// redirect URI registered with it.
///
/// The client authenticates at the token endpoint as a **public client** (PKCE only, no
/// secret) unless [`client_secret_basic`](Self::client_secret_basic) or
/// [`client_secret_post`](Self::client_secret_post) is set. Everything else is read from the
/// provider's discovery document, lazily on the first login (or eagerly with
/// [`OidcLogin::discover`](super::OidcLogin::discover)).
///
/// ```
/// use auth_core::oidc_login::ProviderConfig;
///
/// let acme = ProviderConfig::new(
///     "acme",
///     "https://login.acme.example",
///     "my-app",
///     "https://app.example/auth/login/acme/callback",
/// )
/// .client_secret_basic("from-your-secret-store")
/// .scopes(["openid", "email"]);
/// assert_eq!(acme.name(), "acme");
/// assert!(!format!("{acme:?}").contains("from-your-secret-store"));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ProviderConfig {
    pub(crate) name: String,
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) credentials: ClientCredentials,
    pub(crate) scopes: Vec<String>,
    pub(crate) userinfo: bool,
    pub(crate) algorithms: Option<Vec<Algorithm>>,
    pub(crate) email_linking: bool,
}

impl ProviderConfig {
    /// A provider called `name` (`[a-z0-9][a-z0-9_-]*`, at most 32 characters: it appears in
    /// URLs), with issuer `issuer` (exactly as its discovery document states it), this
    /// application's `client_id` there and the absolute `redirect_uri` registered with it.
    pub fn new(
        name: impl Into<String>,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            issuer: issuer.into(),
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            credentials: ClientCredentials::Public,
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            userinfo: false,
            algorithms: None,
            email_linking: false,
        }
    }

    /// Authenticates with `client_secret_basic` (HTTP Basic, RFC 6749 section 2.3.1).
    pub fn client_secret_basic(mut self, secret: impl Into<String>) -> Self {
        self.credentials = ClientCredentials::Basic(Secret::new(secret));
        self
    }

    /// Authenticates with `client_secret_post` (the secret in the form body).
    pub fn client_secret_post(mut self, secret: impl Into<String>) -> Self {
        self.credentials = ClientCredentials::Post(Secret::new(secret));
        self
    }

    /// The scopes to ask for (default `openid email profile`); must include `openid`.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Also fetch the userinfo endpoint after the code exchange (its `sub` must be the ID
    /// token's). Off by default: the ID token carries what sign-in needs.
    pub fn fetch_userinfo(mut self) -> Self {
        self.userinfo = true;
        self
    }

    /// The algorithms ID tokens may be signed with, instead of the asymmetric ones the
    /// provider advertises in `id_token_signing_alg_values_supported`. `HS*` (signed with the
    /// client secret) is refused.
    pub fn id_token_algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algs.into_iter().collect());
        self
    }

    /// Lets the application link a first sign-in to an existing local account **by email**,
    /// through [`CompletedLogin::email_for_linking`](super::CompletedLogin::email_for_linking),
    /// which then returns the email only when the provider says `email_verified: true`.
    ///
    /// **Protection lost:** the local account then trusts this provider's email verification;
    /// a provider that lets users assert an address they do not control (or recycles
    /// addresses) hands them the local account with that address. Enable it only for
    /// providers whose verified emails you trust as much as your own.
    pub fn dangerous_link_by_verified_email(mut self) -> Self {
        self.email_linking = true;
        self
    }

    /// The provider's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configured issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The redirect URI.
    #[must_use]
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Whether the transaction cookie is `Secure` (and `__Host-` prefixed): unless the
    /// redirect URI is plain-http loopback.
    pub(crate) fn secure_cookies(&self) -> bool {
        self.redirect_uri
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
    }

    /// Checks every setting.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Input(m));
        let n = &self.name;
        if n.is_empty()
            || n.len() > MAX_PROVIDER_NAME_LEN
            || !n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            || !n
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return bad(format!(
                "login provider name `{}` must match [a-z0-9][a-z0-9_-]{{0,31}}",
                n.escape_debug()
            ));
        }
        if self.issuer.is_empty() {
            return Err(ConfigError::EmptyValue("issuer"));
        }
        url::check(&self.issuer, false)?;
        url::check(&self.redirect_uri, false)?;
        if self.client_id.is_empty() {
            return Err(ConfigError::EmptyValue("client id"));
        }
        if self.client_id.chars().any(char::is_control) {
            return bad("client id contains control characters".into());
        }
        if let ClientCredentials::Basic(s) | ClientCredentials::Post(s) = &self.credentials
            && s.expose().is_empty()
        {
            return Err(ConfigError::EmptyValue("client secret"));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return bad(format!("login provider `{n}`: scopes must include openid"));
        }
        // RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
        if let Some(s) = self.scopes.iter().find(|s| {
            s.is_empty()
                || !s
                    .bytes()
                    .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
        }) {
            return bad(format!(
                "login provider `{n}`: invalid scope `{}`",
                s.escape_debug()
            ));
        }
        if let Some(algs) = &self.algorithms {
            if algs.is_empty() {
                return Err(ConfigError::NoKeys);
            }
            if let Some(a) = algs.iter().find(|a| a.hmac_algorithm().is_some()) {
                return Err(ConfigError::KeyAlgorithmMismatch { alg: a.as_str() });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> ProviderConfig {
        ProviderConfig::new(
            "acme",
            "https://idp.example",
            "rp",
            "https://rp.example/auth/login/acme/callback",
        )
    }

    #[test]
    fn valid_settings_pass_and_each_mistake_is_refused() {
        assert!(ok().validate().is_ok());
        assert!(ok().secure_cookies());
        let loopback =
            ProviderConfig::new("acme", "http://127.0.0.1:9", "rp", "http://127.0.0.1:8/cb");
        assert!(loopback.validate().is_ok());
        assert!(!loopback.secure_cookies());
        for bad in [
            ProviderConfig {
                name: "Acme".into(),
                ..ok()
            },
            ProviderConfig {
                name: "-x".into(),
                ..ok()
            },
            ProviderConfig {
                name: "a".repeat(33),
                ..ok()
            },
            ProviderConfig {
                issuer: "http://idp.example".into(),
                ..ok()
            },
            ProviderConfig {
                redirect_uri: "/relative".into(),
                ..ok()
            },
            ProviderConfig {
                client_id: String::new(),
                ..ok()
            },
            ok().scopes(["email"]),
            ok().scopes(["openid", "a\"b"]),
            ok().client_secret_post(""),
            ok().id_token_algorithms([Algorithm::HS256]),
            ok().id_token_algorithms([]),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
