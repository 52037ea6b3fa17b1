//! Which issuers the demo trusts, what it requires of their tokens, and whose records a token
//! may touch.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_JWT_TYP` | the header `typ` required of the demo's own tokens (`AUTH_JWT_ISSUER`): a media type such as `at+jwt`, or `any` to require none (for tokens from a signer that does not set it) | `at+jwt` |
//! | `AUTH_OIDC_ISSUER` + `AUTH_OIDC_AUDIENCE` | also accept an OpenID Provider's tokens (keys by discovery + JWKS) | (off) |
//! | `AUTH_OIDC_TYP` | the header `typ` required of that provider's tokens, or `any` | `any` |
//! | `AUTH_OIDC_INTROSPECTION` (+ `AUTH_OIDC_CLIENT_ID`, `AUTH_OIDC_CLIENT_SECRET`, `AUTH_OIDC_INTROSPECTION_TTL`) | that provider's opaque tokens introspected (see [`crate::introspection`]) | `false` |
//!
//! Each trusted issuer has its own `typ` rule ([`TrustedIssuer::require_type`](auth_core::jwt::TrustedIssuer::require_type)), so the demo's
//! own tokens need `typ: at+jwt` (RFC 9068) in every mode, while a provider that does not set
//! it is still accepted.
//!
//! # Identity across issuers
//!
//! A token is somebody *of its issuer*: `sub: demo-user` from the provider is not the demo's
//! `demo-user`. Every per-user record is therefore keyed by [`AccountKeys::key`]: the bare
//! subject for the demo's own tokens (its accounts), the issuer-qualified
//! [`Principal::account_key`] for every other issuer. API-key ownership, refresh families and
//! "log out everywhere" use it; revocations are qualified by issuer in the store itself
//! ([`auth_core::revocation::RevocationStore`]). Only the demo's own tokens name one of its
//! sessions in `sid`.

use std::borrow::Cow;
use std::sync::Arc;

use auth_core::clock::Clock;
use auth_core::jwks::JwksSource;
use auth_core::jwt::{JwtVerifier, KeyResolver};
use auth_core::settings::{BearerSettings, BuildContext, IssuerSettings};
use auth_core::{ConfigError, Principal};

use crate::config::Config;

/// The `typ` the demo's own tokens carry and, by default, must carry.
pub const DEFAULT_JWT_TYP: &str = "at+jwt";

/// The value of `AUTH_JWT_TYP` / `AUTH_OIDC_TYP` that requires no `typ`.
pub const ANY_TYP: &str = "any";

/// `AUTH_OIDC_ISSUER` + `AUTH_OIDC_AUDIENCE` (+ `AUTH_OIDC_TYP`): an OpenID Provider whose
/// access tokens the demo accepts in addition to its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcConfig {
    /// The provider's issuer URL, exactly as its tokens' `iss` and its discovery document say.
    pub issuer: String,
    /// The `aud` its tokens must carry for this API.
    pub audience: String,
    /// The header `typ` its tokens must carry (`AUTH_OIDC_TYP`); `None` requires none.
    pub typ: Option<String>,
    /// Its opaque tokens introspected (`AUTH_OIDC_INTROSPECTION`; see
    /// [`crate::introspection`]).
    pub introspection: Option<crate::introspection::IntrospectionConfig>,
}

/// The demo's issuers as [`BearerSettings`]: its own (`AUTH_JWT_ISSUER`, `AUTH_JWT_AUDIENCE`,
/// `AUTH_JWT_TYP`; keys given by the application through the build context), and with
/// `AUTH_OIDC_ISSUER` the provider's (keys by discovery, `AUTH_OIDC_AUDIENCE`, `AUTH_OIDC_TYP`).
#[must_use]
pub fn bearer_settings(config: &Config) -> BearerSettings {
    let mut issuers = vec![IssuerSettings {
        issuer: config.issuer.clone(),
        audiences: vec![config.audience.clone()],
        typ: config.jwt_typ.clone(),
        ..IssuerSettings::default()
    }];
    if let Some(oidc) = &config.oidc {
        issuers.push(IssuerSettings {
            issuer: oidc.issuer.clone(),
            audiences: vec![oidc.audience.clone()],
            typ: oidc.typ.clone(),
            discovery: true,
            ..IssuerSettings::default()
        });
    }
    BearerSettings {
        issuers,
        ..BearerSettings::default()
    }
}

/// Reads a `typ` rule: `any` (any case) is `None`, anything else must look like a media type
/// (`at+jwt`, `application/at+jwt`, `JWT`: visible ASCII without quotes, separators or spaces).
///
/// # Errors
///
/// A message naming `var` when the value is empty or not a media type.
pub fn parse_typ(var: &str, value: &str) -> Result<Option<String>, ConfigError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case(ANY_TYP) {
        return Ok(None);
    }
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'/' | b'_'));
    if ok {
        Ok(Some(value.to_owned()))
    } else {
        Err(ConfigError::Input(format!(
            "{var} must be a media type such as `at+jwt`, or `any`"
        )))
    }
}

/// `AUTH_OIDC_*`, checked against the demo's own issuer.
///
/// # Errors
///
/// A message naming the variable at fault: one of issuer and audience without the other, an
/// empty value, the demo's own issuer, or a bad `AUTH_OIDC_TYP`.
pub fn oidc_from_env(
    get: &impl Fn(&str) -> Option<String>,
    own_issuer: &str,
) -> Result<Option<OidcConfig>, ConfigError> {
    let input = |m: &str| ConfigError::Input(m.to_owned());
    let (issuer, audience) = match (get("AUTH_OIDC_ISSUER"), get("AUTH_OIDC_AUDIENCE")) {
        (Some(issuer), Some(audience)) => (issuer, audience),
        (Some(_), None) => {
            return Err(input(
                "AUTH_OIDC_ISSUER needs AUTH_OIDC_AUDIENCE (the aud the provider puts in tokens \
                 for this API)",
            ));
        }
        (None, Some(_)) => return Err(input("AUTH_OIDC_AUDIENCE needs AUTH_OIDC_ISSUER")),
        (None, None) => {
            if get("AUTH_OIDC_TYP").is_some() {
                return Err(input("AUTH_OIDC_TYP needs AUTH_OIDC_ISSUER"));
            }
            crate::introspection::IntrospectionConfig::from_env(get, false)?;
            return Ok(None);
        }
    };
    if issuer.is_empty() || audience.is_empty() {
        return Err(input(
            "AUTH_OIDC_ISSUER and AUTH_OIDC_AUDIENCE must not be empty",
        ));
    }
    if issuer == own_issuer {
        return Err(input(
            "AUTH_OIDC_ISSUER must differ from the demo's own issuer (AUTH_JWT_ISSUER)",
        ));
    }
    let typ = match get("AUTH_OIDC_TYP") {
        Some(v) => parse_typ("AUTH_OIDC_TYP", &v)?,
        None => None,
    };
    let introspection = crate::introspection::IntrospectionConfig::from_env(get, true)?;
    Ok(Some(OidcConfig {
        issuer,
        audience,
        typ,
        introspection,
    }))
}

/// The demo's verifier: its own issuer with keys from `own` (the signing [`KeyRing`] or a
/// fixed public key), `AUTH_JWT_AUDIENCE` and the `AUTH_JWT_TYP` rule; with
/// `AUTH_OIDC_ISSUER`, also the provider's tokens (keys by discovery and JWKS, its audience
/// and `AUTH_OIDC_TYP` rule), the token's `iss` picking which. Returns the provider's key
/// source too, so the caller can prime it.
///
/// With one issuer the verifier checks `iss` after the signature, as usual; with two it reads
/// `iss` first to pick the keys (an unknown `iss` is refused before any key lookup or fetch).
///
/// [`KeyRing`]: auth_core::jwt::KeyRing
///
/// # Errors
///
/// When a URL or setting is invalid.
pub fn verifier(
    config: &Config,
    own: impl KeyResolver,
    clock: &Arc<dyn Clock>,
) -> Result<(JwtVerifier, Option<JwksSource>), ConfigError> {
    let ctx = BuildContext::new()
        .clock(Arc::clone(clock))
        .key_resolver(config.issuer.clone(), own);
    let mut parts = config
        .bearer_settings()
        .verifier_parts(&ctx)
        .map_err(|e| ConfigError::Input(format!("bearer settings: {e}")))?;
    let verifier = parts.builder.build()?;
    Ok((verifier, parts.jwks_sources.pop()))
}

/// Whose records a principal may touch: see the [module docs](self).
///
/// ```
/// use demo_server::issuers::AccountKeys;
///
/// let accounts = AccountKeys::new(Some("auth-demo"));
/// assert_eq!(accounts.local_issuer(), Some("auth-demo"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountKeys {
    local_issuer: Option<Arc<str>>,
}

impl AccountKeys {
    /// Accounts of a demo whose own tokens carry `iss` = `local_issuer`. `None` is for a demo
    /// that trusts a single issuer (a verify-only [`Demo::new`](crate::Demo::new)): every
    /// token is then one of its own.
    #[must_use]
    pub fn new(local_issuer: Option<&str>) -> Self {
        Self {
            local_issuer: local_issuer.map(Arc::from),
        }
    }

    /// The issuer of the demo's own tokens, if the demo knows it.
    #[must_use]
    pub fn local_issuer(&self) -> Option<&str> {
        self.local_issuer.as_deref()
    }

    /// Whether `principal` is one of the demo's own accounts (its token came from the demo's
    /// issuer), so its `sub` names a local account and its `sid` a local session.
    #[must_use]
    pub fn is_local(&self, principal: &Principal) -> bool {
        match &self.local_issuer {
            None => true,
            Some(local) => principal.issuer() == Some(&**local),
        }
    }

    /// The key of every per-user record of `principal`: its bare subject for the demo's own
    /// accounts, its issuer-qualified [`Principal::account_key`] otherwise.
    #[must_use]
    pub fn key<'p>(&self, principal: &'p Principal) -> Cow<'p, str> {
        if self.is_local(principal) {
            Cow::Borrowed(principal.subject())
        } else {
            Cow::Owned(principal.account_key())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn typ_rules_are_any_or_a_media_type() {
        assert_eq!(parse_typ("V", "any").unwrap(), None);
        assert_eq!(parse_typ("V", " ANY ").unwrap(), None);
        assert_eq!(parse_typ("V", "at+jwt").unwrap().as_deref(), Some("at+jwt"));
        assert_eq!(
            parse_typ("V", "application/at+jwt").unwrap().as_deref(),
            Some("application/at+jwt")
        );
        for bad in ["", "at jwt", "\"jwt\"", "a;b"] {
            let err = parse_typ("AUTH_JWT_TYP", bad).unwrap_err().to_string();
            assert!(err.contains("AUTH_JWT_TYP"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_provider_typ_defaults_to_any_and_needs_a_provider() {
        let both = [
            ("AUTH_OIDC_ISSUER", "https://idp.example"),
            ("AUTH_OIDC_AUDIENCE", "api"),
        ];
        let c = oidc_from_env(&env(&both), "auth-demo").unwrap().unwrap();
        assert_eq!(c.typ, None);
        let with_typ = [both[0], both[1], ("AUTH_OIDC_TYP", "at+jwt")];
        let c = oidc_from_env(&env(&with_typ), "auth-demo")
            .unwrap()
            .unwrap();
        assert_eq!(c.typ.as_deref(), Some("at+jwt"));
        assert!(oidc_from_env(&env(&[("AUTH_OIDC_TYP", "at+jwt")]), "auth-demo").is_err());
        assert!(oidc_from_env(&env(&[]), "auth-demo").unwrap().is_none());
    }
}
