//! [`ProviderConfig`]: one OpenID Provider the application signs users in with.

use crate::client_auth::{ClientAuth, check_client_id};
use crate::error::ConfigError;
use crate::jwks::url;
use crate::jwt::{Algorithm, SigningKey};

/// The scopes asked for by default.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// The longest provider name: names appear in URLs and cookies.
pub const MAX_PROVIDER_NAME_LEN: usize = 32;

/// One OpenID Provider: its issuer, this application's client registration there, and the
/// redirect URI registered with it.
///
/// The client authenticates at the token endpoint as a **public client** (PKCE only, no
/// secret, its `client_id` in the form) unless [`client_secret_basic`](Self::client_secret_basic),
/// [`client_secret_post`](Self::client_secret_post), [`private_key_jwt`](Self::private_key_jwt)
/// or any [`ClientAuth`] ([`client_auth`](Self::client_auth)) is set. Everything else is read
/// from the provider's discovery document, lazily on the first login (or eagerly with
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
    /// How the client authenticates at the token endpoint; `None`: a public client.
    pub(crate) client_auth: Option<ClientAuth>,
    /// Why the client authentication last set could not be made (e.g. an empty secret);
    /// reported by `validate`, since the setters cannot fail.
    pub(crate) client_auth_error: Option<ConfigError>,
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
            client_auth: None,
            client_auth_error: None,
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            userinfo: false,
            algorithms: None,
            email_linking: false,
        }
    }

    /// Authenticates with `client_secret_basic` (HTTP Basic, RFC 6749 section 2.3.1):
    /// [`ClientAuth::client_secret_basic`] with this provider's client id. An empty secret is
    /// refused when the login is built.
    pub fn client_secret_basic(self, secret: impl Into<String>) -> Self {
        let auth = ClientAuth::client_secret_basic(self.client_id.clone(), secret);
        self.with_client_auth(auth)
    }

    /// Authenticates with `client_secret_post` (the secret in the form body):
    /// [`ClientAuth::client_secret_post`] with this provider's client id. An empty secret is
    /// refused when the login is built.
    pub fn client_secret_post(self, secret: impl Into<String>) -> Self {
        let auth = ClientAuth::client_secret_post(self.client_id.clone(), secret);
        self.with_client_auth(auth)
    }

    /// Authenticates with `private_key_jwt` (RFC 7523, OpenID Connect Core section 9): a fresh
    /// assertion per code exchange, signed with `key`, whose `aud` is the provider's issuer:
    /// [`ClientAuth::private_key_jwt`] with this provider's client id. An HMAC key is refused
    /// when the login is built.
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, SigningKey};
    /// use auth_core::oidc_login::ProviderConfig;
    ///
    /// let key = SigningKey::generate(Algorithm::ES256, "my-app-2026")?;
    /// let acme = ProviderConfig::new(
    ///     "acme",
    ///     "https://login.acme.example",
    ///     "my-app",
    ///     "https://app.example/auth/login/acme/callback",
    /// )
    /// .private_key_jwt(key); // the provider knows its public half (e.g. the client's jwks)
    /// # let _ = acme;
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    pub fn private_key_jwt(self, key: SigningKey) -> Self {
        let auth = ClientAuth::private_key_jwt(self.client_id.clone(), key);
        self.with_client_auth(auth)
    }

    /// Authenticates with `auth` (e.g. from a configured [`ClientAuthMethod`] name). Its
    /// client id must be this provider's; a different one is refused when the login is built.
    ///
    /// [`ClientAuthMethod`]: crate::client_auth::ClientAuthMethod
    pub fn client_auth(self, auth: ClientAuth) -> Self {
        self.with_client_auth(Ok(auth))
    }

    fn with_client_auth(mut self, auth: Result<ClientAuth, ConfigError>) -> Self {
        match auth {
            Ok(auth) => {
                self.client_auth = Some(auth);
                self.client_auth_error = None;
            }
            Err(e) => {
                self.client_auth = None;
                self.client_auth_error = Some(e);
            }
        }
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
        url::is_https(&self.redirect_uri)
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
        check_client_id(&self.client_id)?;
        if let Some(e) = &self.client_auth_error {
            return Err(e.clone());
        }
        if let Some(auth) = &self.client_auth
            && auth.client_id() != self.client_id
        {
            return bad(format!(
                "login provider `{n}`: the client authentication is for another client id"
            ));
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

    #[test]
    fn client_authentication_is_checked_when_built() {
        let es256 = SigningKey::generate(Algorithm::ES256, "rp-key").unwrap();
        let hs256 = SigningKey::generate(Algorithm::HS256, "rp-key").unwrap();
        for good in [
            ok().client_secret_basic("s"),
            ok().private_key_jwt(es256),
            ok().client_auth(ClientAuth::client_secret_post("rp", "s").unwrap()),
            // The last setting wins, a valid one over an invalid one too.
            ok().client_secret_post("").client_secret_basic("s"),
        ] {
            assert!(good.validate().is_ok(), "{good:?}");
        }
        assert!(matches!(
            ok().private_key_jwt(hs256).validate(),
            Err(ConfigError::KeyAlgorithmMismatch { alg: "HS256" })
        ));
        assert_eq!(
            ok().client_secret_basic("").validate(),
            Err(ConfigError::EmptyValue("client secret"))
        );
        let elsewhere = ok().client_auth(ClientAuth::client_secret_basic("other", "s").unwrap());
        assert!(elsewhere.validate().is_err());
    }
}
