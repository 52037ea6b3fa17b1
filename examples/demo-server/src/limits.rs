//! The demo's resource limits, from the environment: how many password hashes run at once and
//! how long a request waits for one, and how many registrations a client may make.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_PASSWORD_MAX_CONCURRENT` | Argon2id hashes and verifications (19 MiB each) that may run at once, 1 to 256; the process never holds more than this many 19 MiB buffers | the number of CPUs |
//! | `AUTH_PASSWORD_MAX_WAIT_MS` | how long a login or registration waits for a free slot (0 to 10000 ms) before it answers 503 `AUTH_BACKEND_UNAVAILABLE` with `Retry-After` | `200` |
//! | `AUTH_DEMO_REGISTER_LIMIT` | registrations per client address: `<count>/<seconds>`, at most 16 per 1 to 65535 seconds; more answer 429 `TOO_MANY_ATTEMPTS` with `Retry-After` | `5/600` |
//!
//! Every value is checked when the demo starts; an invalid one is a [`ConfigError`] naming the
//! variable.

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use auth_core::ConfigError;
use auth_core::brute_force::BruteForcePolicy;
use auth_core::password::{DEFAULT_MAX_WAIT, Passwords, default_max_concurrent};

/// The most concurrent password hashes `AUTH_PASSWORD_MAX_CONCURRENT` accepts (256 x 19 MiB is
/// almost 5 GiB).
pub const MAX_PASSWORD_CONCURRENCY: usize = 256;
/// The longest `AUTH_PASSWORD_MAX_WAIT_MS` accepted: the wait blocks a thread.
pub const MAX_PASSWORD_WAIT: Duration = Duration::from_secs(10);
/// Registrations per client address and window by default: 5 ...
pub const DEFAULT_REGISTRATIONS: NonZeroU32 = NonZeroU32::MIN.saturating_add(4);
/// ... per 10 minutes.
pub const DEFAULT_REGISTRATION_WINDOW: Duration = Duration::from_secs(600);
/// The `Retry-After` (seconds) of a 503 answered because password hashing was busy.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// `AUTH_PASSWORD_MAX_CONCURRENT`.
    pub password_max_concurrent: NonZeroUsize,
    /// `AUTH_PASSWORD_MAX_WAIT_MS`.
    pub password_max_wait: Duration,
    /// `AUTH_DEMO_REGISTER_LIMIT`: at most this many registrations ...
    pub registrations: NonZeroU32,
    /// ... per client address in any window this long.
    pub registration_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            password_max_concurrent: default_max_concurrent(),
            password_max_wait: DEFAULT_MAX_WAIT,
            registrations: DEFAULT_REGISTRATIONS,
            registration_window: DEFAULT_REGISTRATION_WINDOW,
        }
    }
}

impl Limits {
    /// Reads the limits through `get` (the process environment in `main`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] naming the variable when a value is not a number or is out of
    /// range.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut limits = Self::default();
        if let Some(v) = get("AUTH_PASSWORD_MAX_CONCURRENT") {
            limits.password_max_concurrent = v
                .trim()
                .parse::<NonZeroUsize>()
                .ok()
                .filter(|n| n.get() <= MAX_PASSWORD_CONCURRENCY)
                .ok_or_else(|| {
                    input(format!(
                        "AUTH_PASSWORD_MAX_CONCURRENT `{v}` is not a number from 1 to \
                         {MAX_PASSWORD_CONCURRENCY}"
                    ))
                })?;
        }
        if let Some(v) = get("AUTH_PASSWORD_MAX_WAIT_MS") {
            limits.password_max_wait = v
                .trim()
                .parse::<u64>()
                .ok()
                .map(Duration::from_millis)
                .filter(|d| *d <= MAX_PASSWORD_WAIT)
                .ok_or_else(|| {
                    input(format!(
                        "AUTH_PASSWORD_MAX_WAIT_MS `{v}` is not a number of milliseconds from 0 \
                         to {}",
                        MAX_PASSWORD_WAIT.as_millis()
                    ))
                })?;
        }
        if let Some(v) = get("AUTH_DEMO_REGISTER_LIMIT") {
            let bad = || {
                input(format!(
                    "AUTH_DEMO_REGISTER_LIMIT `{v}` is not `<count>/<seconds>` with a count from 1 \
                     to 16 and 1 to 65535 seconds (e.g. `5/600`)"
                ))
            };
            let (count, secs) = v.trim().split_once('/').ok_or_else(bad)?;
            limits.registrations = count.trim().parse().map_err(|_| bad())?;
            limits.registration_window =
                Duration::from_secs(secs.trim().parse().map_err(|_| bad())?);
            limits.register_policy().map_err(|_| bad())?;
        }
        Ok(limits)
    }

    /// The password hasher: Argon2id at OWASP's parameters, at most
    /// [`password_max_concurrent`](Self::password_max_concurrent) at once, each waiting at most
    /// [`password_max_wait`](Self::password_max_wait).
    #[must_use]
    pub fn passwords(&self) -> Passwords {
        Passwords::owasp()
            .with_max_concurrent(self.password_max_concurrent)
            .with_max_wait(self.password_max_wait)
    }

    /// The brute-force policy of `POST /auth/register`: at most
    /// [`registrations`](Self::registrations) per client and window. Registrations never
    /// answer 401/403, so no lockout is ever earned there; only the rate limit applies.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPolicy`] when the count or window is out of the policy's range.
    pub fn register_policy(&self) -> Result<BruteForcePolicy, ConfigError> {
        BruteForcePolicy::builder()
            .attempts_per_window(self.registrations, self.registration_window)
            .build()
    }
}

fn input(message: String) -> ConfigError {
    ConfigError::Input(message)
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
        let l = Limits::from_env(&env(&[])).unwrap();
        assert_eq!(l, Limits::default());
        assert_eq!(l.password_max_concurrent, default_max_concurrent());
        assert_eq!(l.password_max_wait, Duration::from_millis(200));
        assert_eq!(
            (l.registrations.get(), l.registration_window.as_secs()),
            (5, 600)
        );
        let policy = l.register_policy().unwrap();
        assert_eq!(policy.max_attempts().get(), 5);
        assert_eq!(policy.window(), Duration::from_secs(600));
    }

    #[test]
    fn values_are_read_and_bad_ones_name_their_variable() {
        let l = Limits::from_env(&env(&[
            ("AUTH_PASSWORD_MAX_CONCURRENT", "3"),
            ("AUTH_PASSWORD_MAX_WAIT_MS", "0"),
            ("AUTH_DEMO_REGISTER_LIMIT", " 2 / 60 "),
        ]))
        .unwrap();
        assert_eq!(l.password_max_concurrent.get(), 3);
        assert_eq!(l.password_max_wait, Duration::ZERO);
        assert_eq!(
            (l.registrations.get(), l.registration_window.as_secs()),
            (2, 60)
        );
        assert_eq!(l.passwords().max_concurrent(), 3);
        for (var, value) in [
            ("AUTH_PASSWORD_MAX_CONCURRENT", "0"),
            ("AUTH_PASSWORD_MAX_CONCURRENT", "257"),
            ("AUTH_PASSWORD_MAX_CONCURRENT", "many"),
            ("AUTH_PASSWORD_MAX_WAIT_MS", "10001"),
            ("AUTH_PASSWORD_MAX_WAIT_MS", "-1"),
            ("AUTH_DEMO_REGISTER_LIMIT", "5"),
            ("AUTH_DEMO_REGISTER_LIMIT", "0/600"),
            ("AUTH_DEMO_REGISTER_LIMIT", "17/600"),
            ("AUTH_DEMO_REGISTER_LIMIT", "5/0"),
            ("AUTH_DEMO_REGISTER_LIMIT", "5/70000"),
        ] {
            let err = Limits::from_env(&env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(var), "{var}={value}: {err}");
        }
    }
}
