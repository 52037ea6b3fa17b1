//! [`ApiKeySettings`]: API-key verification and the `ApiKeyLayer` options.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::SettingsError;
use super::secret::{self, Base64Secret};
use super::{BuildContext, duration};
use crate::api_key::{ApiKeyPrefix, ApiKeyStore, ApiKeys, ApiKeysBuilder, Pepper};

/// API keys: their prefix, the optional pepper their digests are keyed with, usage tracking;
/// and where `ApiKeyLayer` reads them (`header`, `realm`, `optional`).
///
/// The pepper is a secret: `pepper_env` names the environment variable holding it (raw text,
/// or `base64:` + standard base64), `pepper_base64` gives it inline.
///
/// ```
/// use auth_core::api_key::MemoryApiKeyStore;
/// use auth_core::settings::{ApiKeySettings, BuildContext};
///
/// let settings: ApiKeySettings = auth_core::settings::from_json_str(
///     r#"{ "prefix": "acme_live", "usage_interval": "5m" }"#,
/// )?;
/// let keys = settings.builder(MemoryApiKeyStore::new(), &BuildContext::new())?.build()?;
/// assert_eq!(keys.prefix().as_str(), "acme_live");
///
/// let bad = auth_core::settings::from_json_str::<ApiKeySettings>(r#"{ "prefix": "Acme" }"#)?;
/// let err = bad.builder(MemoryApiKeyStore::new(), &BuildContext::new()).unwrap_err();
/// assert!(err.to_string().starts_with("prefix: "), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySettings {
    /// The key prefix, `[a-z][a-z0-9_]{1,23}` (e.g. `acme_live`).
    pub prefix: String,
    /// The environment variable holding the pepper (at least 32 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pepper_env: Option<String>,
    /// The pepper inline, as standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pepper_base64: Option<Base64Secret>,
    /// Write `last_used_at` at most this often per key (default 60 s; `0` on every use).
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub usage_interval: Option<Duration>,
    /// Never write `last_used_at`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub without_usage_tracking: bool,
    /// Accept keys imported from another system (see `ApiKeysBuilder::accept_imported_keys`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub accept_imported_keys: bool,
    /// `ApiKeyLayer`: the header the key is read from (default `X-API-Key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `ApiKeyLayer`: the realm named in `WWW-Authenticate` (default `api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// `ApiKeyLayer`: requests without a key pass through without a principal.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` hands us `&bool`
fn is_false(b: &bool) -> bool {
    !*b
}

impl ApiKeySettings {
    /// The [`ApiKeys`] builder over `store`, every setting applied (the context's clock too).
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] naming the field: a prefix not of the form above, a pepper variable
    /// that is not set, or a pepper shorter than 32 bytes.
    pub fn builder(
        &self,
        store: impl ApiKeyStore,
        ctx: &BuildContext,
    ) -> Result<ApiKeysBuilder, SettingsError> {
        ApiKeyPrefix::new(&self.prefix).map_err(|e| SettingsError::config("prefix", e))?;
        let mut b = ApiKeys::builder(store).prefix(self.prefix.clone());
        let pepper = secret::read(
            ctx,
            "",
            "pepper",
            self.pepper_env.as_deref(),
            self.pepper_base64.as_ref(),
        )?;
        if let Some(bytes) = pepper {
            let field = if self.pepper_env.is_some() {
                "pepper_env"
            } else {
                "pepper_base64"
            };
            b = b.pepper(Pepper::new(bytes).map_err(|e| SettingsError::config(field, e))?);
        }
        if let Some(clock) = ctx.clock_ref() {
            b = b.clock(std::sync::Arc::clone(clock));
        }
        if self.without_usage_tracking {
            if self.usage_interval.is_some() {
                return Err(SettingsError::invalid(
                    "usage_interval",
                    "does not apply with `without_usage_tracking`",
                ));
            }
            b = b.without_usage_tracking();
        } else if let Some(interval) = self.usage_interval {
            b = b.usage_interval(interval);
        }
        if self.accept_imported_keys {
            b = b.accept_imported_keys();
        }
        Ok(b)
    }
}
