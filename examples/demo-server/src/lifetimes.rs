//! How long the tokens the demo issues live, from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_ACCESS_TOKEN_TTL` | lifetime of access tokens, in seconds (1 to 86400) | `900` (15 minutes) |
//! | `AUTH_REFRESH_TOKEN_TTL` | lifetime of refresh tokens, in seconds (1 to 31536000, at least the access token's) | `2592000` (30 days) |
//!
//! Everything derived follows them: the access token's `exp`, `expires_in` in token answers and
//! session bodies, the access cookie's `Max-Age`; the refresh token's expiry,
//! `refresh_expires_in`, the refresh and CSRF cookies' `Max-Age`; and how long "log out
//! everywhere" keeps its revocation ([`crate::Demo::max_token_lifetime`]: at least the access
//! lifetime).

use std::time::Duration;

use auth_core::ConfigError;
use auth_core::refresh::DEFAULT_REFRESH_TOKEN_LIFETIME;

use crate::ACCESS_TOKEN_TTL;

/// The longest `AUTH_ACCESS_TOKEN_TTL`: one day. Access tokens are not checked against the
/// account again until they expire; keep them short.
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// The longest `AUTH_REFRESH_TOKEN_TTL`: 365 days.
pub const MAX_REFRESH_TOKEN_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenLifetimes {
    /// `AUTH_ACCESS_TOKEN_TTL`.
    pub access: Duration,
    /// `AUTH_REFRESH_TOKEN_TTL`.
    pub refresh: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access: ACCESS_TOKEN_TTL,
            refresh: DEFAULT_REFRESH_TOKEN_LIFETIME,
        }
    }
}

impl TokenLifetimes {
    /// Reads the lifetimes through `get` (the process environment in `main`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] naming the variable when a value is not a whole number of
    /// seconds in its range, or the refresh lifetime is shorter than the access lifetime.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut lifetimes = Self::default();
        if let Some(v) = get("AUTH_ACCESS_TOKEN_TTL") {
            lifetimes.access = seconds("AUTH_ACCESS_TOKEN_TTL", &v, MAX_ACCESS_TOKEN_TTL)?;
        }
        if let Some(v) = get("AUTH_REFRESH_TOKEN_TTL") {
            lifetimes.refresh = seconds("AUTH_REFRESH_TOKEN_TTL", &v, MAX_REFRESH_TOKEN_TTL)?;
        }
        if lifetimes.refresh < lifetimes.access {
            return Err(ConfigError::Input(format!(
                "AUTH_REFRESH_TOKEN_TTL ({} s) must be at least AUTH_ACCESS_TOKEN_TTL ({} s)",
                lifetimes.refresh.as_secs(),
                lifetimes.access.as_secs()
            )));
        }
        Ok(lifetimes)
    }
}

/// `value` as a whole number of seconds from 1 to `max`.
fn seconds(var: &str, value: &str, max: Duration) -> Result<Duration, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
        .filter(|d| !d.is_zero() && *d <= max)
        .ok_or_else(|| {
            ConfigError::Input(format!(
                "{var} `{value}` is not a whole number of seconds from 1 to {}",
                max.as_secs()
            ))
        })
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
    fn defaults_are_15_minutes_and_30_days() {
        let l = TokenLifetimes::from_env(&env(&[])).unwrap();
        assert_eq!(l, TokenLifetimes::default());
        assert_eq!((l.access.as_secs(), l.refresh.as_secs()), (900, 2_592_000));
    }

    // Issue 12, item 4: the lifetimes are configurable, and checked.
    #[test]
    fn lifetimes_are_read_and_bad_ones_name_their_variable() {
        let l = TokenLifetimes::from_env(&env(&[
            ("AUTH_ACCESS_TOKEN_TTL", "60"),
            ("AUTH_REFRESH_TOKEN_TTL", " 3600 "),
        ]))
        .unwrap();
        assert_eq!((l.access.as_secs(), l.refresh.as_secs()), (60, 3600));
        for (var, value) in [
            ("AUTH_ACCESS_TOKEN_TTL", "0"),
            ("AUTH_ACCESS_TOKEN_TTL", "-5"),
            ("AUTH_ACCESS_TOKEN_TTL", "15m"),
            ("AUTH_ACCESS_TOKEN_TTL", "86401"),
            ("AUTH_REFRESH_TOKEN_TTL", "0"),
            ("AUTH_REFRESH_TOKEN_TTL", "31536001"),
            ("AUTH_REFRESH_TOKEN_TTL", "1.5"),
        ] {
            let err = TokenLifetimes::from_env(&env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(var), "{var}={value}: {err}");
        }
        let err = TokenLifetimes::from_env(&env(&[
            ("AUTH_ACCESS_TOKEN_TTL", "3600"),
            ("AUTH_REFRESH_TOKEN_TTL", "600"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("AUTH_REFRESH_TOKEN_TTL"), "{err}");
        assert!(err.contains("AUTH_ACCESS_TOKEN_TTL"), "{err}");
    }
}
