//! The two keys of the second factor: the key that seals TOTP secrets at rest
//! (`AUTH_MFA_SEALING_KEY`) and the key recovery codes are digested under
//! (`AUTH_MFA_RECOVERY_KEY`).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_MFA_SEALING_KEY` | `base64:` + standard base64 of exactly 32 random bytes: the AES-256-GCM key that seals TOTP secrets in the store | (random per process; required with `REDIS_URL`) |
//! | `AUTH_MFA_RECOVERY_KEY` | `base64:` + standard base64 of at least 32 random bytes: the HMAC-SHA256 key recovery codes are stored under | (random per process; required with `REDIS_URL`) |
//!
//! Set both or neither. Make them with `openssl rand -base64 32` (and prefix `base64:`).
//! Without them each process makes its own random keys: fine in memory, where the secrets die
//! with the process anyway. With `REDIS_URL` every instance must open the secrets and check
//! the codes the others stored, so the demo refuses to start with Redis but without both keys
//! ([`crate::stores::Stores::apply_to`]) rather than derive them from anything guessable.

use std::fmt;

use auth_core::ConfigError;
use auth_core::mfa::{MfaBuilder, RecoveryCodeKey, SealingKey, SecretSealer};
use base64::Engine as _;

/// The variable holding the sealing key.
pub const SEALING_KEY_VAR: &str = "AUTH_MFA_SEALING_KEY";

/// The variable holding the recovery-code key.
pub const RECOVERY_KEY_VAR: &str = "AUTH_MFA_RECOVERY_KEY";

/// The issuer name authenticator apps show next to the account.
pub const MFA_ISSUER: &str = "tower-auth demo";

/// The id of the sealing key, written into every sealed secret (a second key would get 2).
const SEALING_KEY_ID: u8 = 1;

/// The keys of the second factor. `Debug` says only whether they were configured.
#[derive(Clone)]
pub struct MfaKeys {
    sealing: SealingKey,
    recovery: RecoveryCodeKey,
    configured: bool,
}

impl fmt::Debug for MfaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaKeys")
            .field("configured", &self.configured)
            .finish_non_exhaustive()
    }
}

impl MfaKeys {
    /// Reads `AUTH_MFA_SEALING_KEY` and `AUTH_MFA_RECOVERY_KEY` through `get`; random keys
    /// when neither is set.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] naming the variable when only one is set, a value lacks the
    /// `base64:` prefix or is not base64, or the key has the wrong length; or when the OS
    /// random source fails.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let sealing = get(SEALING_KEY_VAR).filter(|v| !v.is_empty());
        let recovery = get(RECOVERY_KEY_VAR).filter(|v| !v.is_empty());
        match (sealing, recovery) {
            (None, None) => Self::random(),
            (Some(s), Some(r)) => {
                let s = decode(SEALING_KEY_VAR, &s)?;
                let r = decode(RECOVERY_KEY_VAR, &r)?;
                Ok(Self {
                    sealing: SealingKey::new(SEALING_KEY_ID, &s).map_err(|_| {
                        ConfigError::Input(format!(
                            "{SEALING_KEY_VAR} is {} bytes; it must be exactly 32",
                            s.len()
                        ))
                    })?,
                    recovery: RecoveryCodeKey::new(&r).map_err(|_| {
                        ConfigError::Input(format!(
                            "{RECOVERY_KEY_VAR} is {} bytes; it must be at least 32",
                            r.len()
                        ))
                    })?,
                    configured: true,
                })
            }
            (Some(_), None) | (None, Some(_)) => Err(ConfigError::Input(format!(
                "set both {SEALING_KEY_VAR} and {RECOVERY_KEY_VAR}, or neither (random keys \
                 per process, in memory only)"
            ))),
        }
    }

    /// Random keys for this process only (what an unconfigured demo uses).
    ///
    /// # Errors
    ///
    /// When the OS random source fails.
    pub fn random() -> Result<Self, ConfigError> {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes)
            .map_err(|e| ConfigError::Input(format!("os random source failed: {e}")))?;
        let (s, r) = bytes.split_at(32);
        Ok(Self {
            sealing: SealingKey::new(SEALING_KEY_ID, s)?,
            recovery: RecoveryCodeKey::new(r)?,
            configured: false,
        })
    }

    /// Whether the keys came from the environment (and so are shared by every instance
    /// configured alike).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        self.configured
    }

    /// An `Mfa` builder over these keys, with the demo's issuer name.
    pub fn builder(&self) -> MfaBuilder {
        auth_core::mfa::Mfa::builder(
            SecretSealer::new(self.sealing.clone()),
            self.recovery.clone(),
        )
        .issuer(MFA_ISSUER)
    }
}

/// A `base64:` value of `var` (also read by [`crate::provider_login`]'s sealing key).
pub(crate) fn decode(var: &str, value: &str) -> Result<Vec<u8>, ConfigError> {
    let b64 = value.strip_prefix("base64:").ok_or_else(|| {
        ConfigError::Input(format!(
            "{var} must be `base64:` followed by standard base64 of random bytes (e.g. \
             `base64:$(openssl rand -base64 32)`)"
        ))
    })?;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| ConfigError::Input(format!("{var} is not valid base64: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const K32: &str = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K16: &str = "base64:AAECAwQFBgcICQoLDA0ODw==";

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        MfaKeys::from_env(&env(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn unset_keys_are_random_and_unconfigured() {
        let keys = MfaKeys::from_env(&env(&[])).unwrap();
        assert!(!keys.is_configured());
        assert_eq!(format!("{keys:?}"), "MfaKeys { configured: false, .. }");
    }

    #[test]
    fn both_keys_set_are_configured() {
        let keys =
            MfaKeys::from_env(&env(&[(SEALING_KEY_VAR, K32), (RECOVERY_KEY_VAR, K32)])).unwrap();
        assert!(keys.is_configured());
        assert!(keys.builder().build().is_ok());
    }

    #[test]
    fn one_key_alone_is_refused_naming_both_variables() {
        for pairs in [[(SEALING_KEY_VAR, K32)], [(RECOVERY_KEY_VAR, K32)]] {
            let e = err(&pairs);
            assert!(
                e.contains(SEALING_KEY_VAR) && e.contains(RECOVERY_KEY_VAR),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let e = err(&[(SEALING_KEY_VAR, K16), (RECOVERY_KEY_VAR, K32)]);
        assert!(e.contains("AUTH_MFA_SEALING_KEY is 16 bytes"), "{e}");
        let e = err(&[(SEALING_KEY_VAR, K32), (RECOVERY_KEY_VAR, K16)]);
        assert!(e.contains("AUTH_MFA_RECOVERY_KEY is 16 bytes"), "{e}");
        let raw = "a passphrase that is long enough!";
        let e = err(&[(SEALING_KEY_VAR, raw), (RECOVERY_KEY_VAR, K32)]);
        assert!(e.contains("AUTH_MFA_SEALING_KEY must be `base64:`"), "{e}");
        assert!(!e.contains(raw), "the value is never echoed: {e}");
        let e = err(&[(SEALING_KEY_VAR, K32), (RECOVERY_KEY_VAR, "base64:!!")]);
        assert!(
            e.contains("AUTH_MFA_RECOVERY_KEY is not valid base64"),
            "{e}"
        );
    }
}
