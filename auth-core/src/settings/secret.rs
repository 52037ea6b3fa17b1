//! Secrets in settings: named by an environment variable (`*_env`), or given inline as base64
//! (`*_base64`).

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::BuildContext;
use super::error::{SettingsError, SettingsErrorKind, join};

/// A secret written inline in the settings, as standard base64. `Debug` prints `REDACTED`.
///
/// Prefer the `*_env` form (the settings then name a variable, and the file holds no secret);
/// the inline form is for settings that come from a secret store already.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Base64Secret(String);

impl Base64Secret {
    /// Wraps standard base64 text (checked when the settings are built).
    #[must_use]
    pub fn new(base64: impl Into<String>) -> Self {
        Self(base64.into())
    }
}

impl fmt::Debug for Base64Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Base64Secret(REDACTED)")
    }
}

/// Decodes standard base64, with an error message that never echoes the input.
fn decode(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not valid standard base64: {e}"))
}

/// The value of an environment variable holding a secret: raw text, or `base64:` followed by
/// standard base64 (for binary secrets).
pub(crate) fn from_env_value(value: &str) -> Result<Vec<u8>, String> {
    match value.strip_prefix("base64:") {
        Some(b64) => decode(b64),
        None => Ok(value.as_bytes().to_vec()),
    }
}

/// Reads the secret that `<name>_env` or `<name>_base64` give (at most one of them), at
/// `path`. `Ok(None)` when neither is set.
pub(crate) fn read(
    ctx: &BuildContext,
    path: &str,
    name: &str,
    env: Option<&str>,
    inline: Option<&Base64Secret>,
) -> Result<Option<Vec<u8>>, SettingsError> {
    let env_field = join(path, &format!("{name}_env"));
    let inline_field = join(path, &format!("{name}_base64"));
    match (env, inline) {
        (Some(_), Some(_)) => Err(SettingsError::invalid(
            path,
            format!("set either {name}_env or {name}_base64, not both"),
        )),
        (Some(var), None) => {
            let value = ctx.var(var).ok_or_else(|| {
                SettingsError::new(&env_field, SettingsErrorKind::MissingEnv(var.to_owned()))
            })?;
            from_env_value(&value)
                .map(Some)
                .map_err(|m| SettingsError::invalid(env_field, format!("`{var}` is {m}")))
        }
        (None, Some(b64)) => decode(&b64.0)
            .map(Some)
            .map_err(|m| SettingsError::invalid(inline_field, m)),
        (None, None) => Ok(None),
    }
}
