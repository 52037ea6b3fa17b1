//! Configuration as data: serde settings for the common layers, so a service configures
//! authentication from a file or the environment in a few lines.
//!
//! The builders stay the primary API; settings only fill them in. Each settings type builds
//! what its builder builds ([`BearerSettings::verifier`] a [`JwtVerifier`](crate::jwt::JwtVerifier),
//! [`BruteForceSettings::policy`] a [`BruteForcePolicy`](crate::brute_force::BruteForcePolicy),
//! [`ApiKeySettings::builder`] an [`ApiKeysBuilder`](crate::api_key::ApiKeysBuilder),
//! [`RequirementSettings::requirement`] a [`Requirement`](crate::scope::Requirement)), and
//! `auth-tower` (feature `settings`) turns them into layers. Every mistake is a
//! [`SettingsError`] naming the field at fault, whether the input did not deserialise
//! (`bearer.issuers[1].algorithms[0]: unknown algorithm "none"`) or a value is refused when the
//! settings are built (`bearer.issuers[0].audiences: no audience ...`). The secure defaults of
//! the builders apply unchanged: an audience is required, algorithms are pinned and `none`
//! does not exist, HMAC secrets must be long enough.
//!
//! # Format
//!
//! Any serde format works; [`from_json_str`] reads JSON, and [`deserialize`] any other
//! format's deserializer (e.g. the `toml` crate's) with the error path kept. Unknown fields are
//! refused everywhere, so a misspelt setting is an error rather than silently ignored.
//!
//! - **Durations** are seconds (`30`) or text with a unit (`"500ms"`, `"30s"`, `"15m"`,
//!   `"1h"`, `"7d"`; see [`parse_duration`]); they serialise as text.
//! - **Secrets** (HMAC keys, the API-key pepper) are never plain text in the settings: a field
//!   `<name>_env` names the environment variable that holds the secret (its value is raw text,
//!   or `base64:` followed by standard base64), and `<name>_base64` gives it inline as
//!   standard base64 ([`Base64Secret`], whose `Debug` prints `REDACTED`) for settings that
//!   come from a secret store. Environment variables are read through the [`BuildContext`]
//!   when the settings are built, never when they are deserialised.
//!
//! ```toml
//! [bearer]
//! audiences = ["orders-api"]
//! leeway = "30s"
//!
//! [[bearer.issuers]]
//! issuer = "https://login.example.com"
//! discovery = true                      # keys by OpenID discovery + JWKS (feature `jwks`)
//! algorithms = ["RS256"]
//! typ = "at+jwt"
//!
//! [[bearer.issuers]]
//! issuer = "internal"
//! keys = [{ alg = "HS256", kid = "k1", secret_env = "INTERNAL_JWT_SECRET" }]
//!
//! [brute_force]
//! attempts = 5
//! window = "1m"
//! lockout_ladder = ["15m", "1h", "1d"]
//! trusted_proxies = ["10.0.0.0/8"]
//!
//! [api_keys]
//! prefix = "acme_live"
//! pepper_env = "API_KEY_PEPPER"
//!
//! [scopes]
//! permissions = { "orders:refund" = ["admin"] }
//! routes = [
//!   { route = "GET /orders", require = { scopes = ["read:orders"] } },
//!   { route = "POST /orders/{id}/refund", require = { permissions = ["orders:refund"] } },
//! ]
//! ```
//!
//! # Example
//!
//! ```
//! use auth_core::settings::{AuthSettings, BuildContext};
//! use auth_core::ErrorCode;
//!
//! let settings: AuthSettings = auth_core::settings::from_json_str(r#"{
//!     "bearer": {
//!         "issuers": [{
//!             "issuer": "https://issuer.example",
//!             "audiences": ["orders-api"],
//!             "keys": [{ "alg": "HS256", "secret_env": "ORDERS_JWT_SECRET" }]
//!         }]
//!     }
//! }"#)?;
//! // The process environment by default; here a fixed one.
//! let ctx = BuildContext::new().env(|var| {
//!     (var == "ORDERS_JWT_SECRET").then(|| "an example secret of at least thirty-two bytes".to_owned())
//! });
//! let verifier = settings.verifier(&ctx)?;
//! assert_eq!(verifier.verify_sync("not-a-jwt").unwrap_err().code(), ErrorCode::InvalidToken);
//!
//! let err = auth_core::settings::from_json_str::<AuthSettings>(
//!     r#"{ "bearer": { "issuers": [{ "issuer": "x", "algorithms": ["none"] }] } }"#,
//! )
//! .unwrap_err();
//! assert!(err.to_string().starts_with("bearer.issuers[0].algorithms[0]: unknown algorithm \"none\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

#[cfg(feature = "api-key")]
mod api_key;
#[cfg(feature = "jwt")]
mod bearer;
#[cfg(feature = "brute-force")]
mod brute_force;
// Only the sections of the enabled features read durations.
#[cfg_attr(
    not(any(feature = "jwt", feature = "api-key", feature = "brute-force")),
    allow(dead_code)
)]
pub(crate) mod duration;
mod error;
mod scope;
#[cfg(any(feature = "jwt", feature = "api-key"))]
mod secret;

#[cfg(feature = "api-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "api-key")))]
pub use api_key::ApiKeySettings;
#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub use bearer::{BearerSettings, IssuerSettings, KeySettings, VerifierParts};
#[cfg(feature = "brute-force")]
#[cfg_attr(docsrs, doc(cfg(feature = "brute-force")))]
pub use brute_force::{BruteForceSettings, ForwardedHeaderName};
pub use duration::parse_duration;
pub use error::{SettingsError, SettingsErrorKind};
pub use scope::{RequirementSettings, RouteSettings, ScopeSettings};
#[cfg(any(feature = "jwt", feature = "api-key"))]
pub use secret::Base64Secret;

use crate::clock::Clock;

/// The settings of every layer, each section optional: `bearer`, `api_keys`, `brute_force`
/// and `scopes` (each present with the feature of its layer; without it the section is an
/// unknown field).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The bearer-token verifier and `BearerLayer` (feature `jwt`).
    #[cfg(feature = "jwt")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<BearerSettings>,
    /// API keys and `ApiKeyLayer` (feature `api-key`).
    #[cfg(feature = "api-key")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_keys: Option<ApiKeySettings>,
    /// The brute-force policy and `BruteForceLayer` (feature `brute-force`).
    #[cfg(feature = "brute-force")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brute_force: Option<BruteForceSettings>,
    /// Scope rules per route and the role policy (`ScopeLayer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<ScopeSettings>,
}

impl AuthSettings {
    /// The section at `name`, or an error naming it when it is absent.
    ///
    /// # Errors
    ///
    /// [`SettingsErrorKind::Invalid`] at `name` when the section is `None`.
    pub fn section<'a, T>(section: Option<&'a T>, name: &str) -> Result<&'a T, SettingsError> {
        section.ok_or_else(|| SettingsError::invalid(name, "this section is required here"))
    }

    /// The verifier of the `bearer` section ([`BearerSettings::verifier`]), errors under
    /// `bearer.`.
    ///
    /// # Errors
    ///
    /// When the section is missing or a value is refused; the path names it.
    #[cfg(feature = "jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    pub fn verifier(&self, ctx: &BuildContext) -> Result<crate::jwt::JwtVerifier, SettingsError> {
        Self::section(self.bearer.as_ref(), "bearer")?
            .verifier(ctx)
            .map_err(|e| e.within("bearer"))
    }

    /// The policy of the `brute_force` section ([`BruteForceSettings::policy`]), errors under
    /// `brute_force.`.
    ///
    /// # Errors
    ///
    /// When the section is missing or a value is out of range; the path names it.
    #[cfg(feature = "brute-force")]
    #[cfg_attr(docsrs, doc(cfg(feature = "brute-force")))]
    pub fn brute_force_policy(
        &self,
    ) -> Result<crate::brute_force::BruteForcePolicy, SettingsError> {
        Self::section(self.brute_force.as_ref(), "brute_force")?
            .policy()
            .map_err(|e| e.within("brute_force"))
    }
}

/// Reads one environment variable.
type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// What building settings may need besides the settings: environment variables (for `*_env`
/// secrets), the clock, and key sources the application provides itself.
#[derive(Clone)]
#[must_use]
pub struct BuildContext {
    env: Arc<EnvFn>,
    clock: Option<Arc<dyn Clock>>,
    #[cfg(feature = "jwt")]
    resolvers: Vec<(String, Arc<dyn crate::jwt::KeyResolver>)>,
}

impl fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BuildContext");
        d.field("clock", &self.clock);
        #[cfg(feature = "jwt")]
        d.field(
            "resolvers",
            &self.resolvers.iter().map(|(i, _)| i).collect::<Vec<_>>(),
        );
        d.finish_non_exhaustive()
    }
}

impl Default for BuildContext {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildContext {
    /// The process environment, the builders' default clocks, no application key sources.
    pub fn new() -> Self {
        Self {
            env: Arc::new(|var| std::env::var(var).ok()),
            clock: None,
            #[cfg(feature = "jwt")]
            resolvers: Vec::new(),
        }
    }

    /// Reads environment variables through `get` instead of the process environment.
    pub fn env(mut self, get: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Arc::new(get);
        self
    }

    /// The clock the built verifiers, key sources and policies read.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Keys of the issuer `issuer` come from `resolver` (e.g. a signing `KeyRing`, or a
    /// `JwksSource` the application built and primes itself). That issuer's settings then give
    /// no `keys`, `jwks_url` or `discovery`.
    #[cfg(feature = "jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    pub fn key_resolver(
        mut self,
        issuer: impl Into<String>,
        resolver: impl crate::jwt::KeyResolver,
    ) -> Self {
        self.resolvers.push((issuer.into(), Arc::new(resolver)));
        self
    }

    /// The value of environment variable `var`.
    #[cfg_attr(not(any(feature = "jwt", feature = "api-key")), allow(dead_code))]
    pub(crate) fn var(&self, var: &str) -> Option<String> {
        (self.env)(var)
    }

    /// The clock, if one was given.
    #[must_use]
    pub fn clock_ref(&self) -> Option<&Arc<dyn Clock>> {
        self.clock.as_ref()
    }

    #[cfg(feature = "jwt")]
    pub(crate) fn resolver(&self, issuer: &str) -> Option<Arc<dyn crate::jwt::KeyResolver>> {
        self.resolvers
            .iter()
            .find(|(i, _)| i == issuer)
            .map(|(_, r)| Arc::clone(r))
    }
}

/// Reads settings from JSON, with the path of the field at fault in any error.
///
/// # Errors
///
/// [`SettingsErrorKind::Parse`] at the path where deserialisation stopped.
pub fn from_json_str<T: DeserializeOwned>(json: &str) -> Result<T, SettingsError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value = deserialize(&mut de)?;
    de.end()
        .map_err(|e| SettingsError::new("", SettingsErrorKind::Parse(e.to_string())))?;
    Ok(value)
}

/// Reads settings through any serde deserializer (e.g. `toml::Deserializer`), with the path of
/// the field at fault in any error (`serde_path_to_error`).
///
/// # Errors
///
/// [`SettingsErrorKind::Parse`] at the path where deserialisation stopped.
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, SettingsError>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        SettingsError::new(path, SettingsErrorKind::Parse(e.into_inner().to_string()))
    })
}
