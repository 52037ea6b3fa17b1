//! [`BruteForceSettings`]: the brute-force policy and the `BruteForceLayer` options.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration;
use super::error::SettingsError;
use crate::ConfigError;
use crate::brute_force::BruteForcePolicy;

/// Login brute-force and credential-stuffing protection: a rate limit per client, lockouts
/// per client and per account ([`BruteForcePolicy`]), and which proxies' forwarding headers
/// `BruteForceLayer` believes. Every field is optional; the defaults are the policy's.
///
/// ```
/// use auth_core::settings::BruteForceSettings;
///
/// let settings: BruteForceSettings = auth_core::settings::from_json_str(
///     r#"{ "attempts": 3, "window": "1m", "lockout_ladder": ["5m", "1h"] }"#,
/// )?;
/// let policy = settings.policy()?;
/// assert_eq!(policy.max_attempts().get(), 3);
///
/// let err = auth_core::settings::from_json_str::<BruteForceSettings>(r#"{ "attempts": 0 }"#)
///     .unwrap_err();
/// assert!(err.to_string().starts_with("attempts: "), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BruteForceSettings {
    /// Attempts a client may make per `window` (default 5, at most 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<NonZeroU32>,
    /// The sliding rate-limit window (default 1 minute, 1 s to about 18 h).
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub window: Option<Duration>,
    /// Failures after which a client is locked out (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_failures: Option<NonZeroU32>,
    /// Failures after which an account is locked out (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_failures: Option<NonZeroU32>,
    /// Lengths of consecutive lockouts (default 15 min, 1 h, 24 h), never shorter than the
    /// step before.
    #[serde(
        default,
        with = "duration::list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub lockout_ladder: Vec<Duration>,
    /// How long without failures resets the counters (default 24 hours).
    #[serde(
        default,
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub decay: Option<Duration>,
    /// `BruteForceLayer`: CIDR networks (or addresses) of reverse proxies whose forwarding
    /// header is believed (default: nobody's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// `BruteForceLayer`: the header those proxies set, `x-forwarded-for` (the default) or
    /// `forwarded` (RFC 7239).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_header: Option<ForwardedHeaderName>,
}

/// The forwarding header trusted proxies set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ForwardedHeaderName {
    /// `X-Forwarded-For`.
    XForwardedFor,
    /// RFC 7239 `Forwarded`.
    Forwarded,
}

impl BruteForceSettings {
    /// Builds the policy.
    ///
    /// # Errors
    ///
    /// A [`SettingsError`] naming the field whose value the policy refuses (see
    /// [`BruteForcePolicyBuilder::build`](crate::brute_force::BruteForcePolicyBuilder::build)).
    pub fn policy(&self) -> Result<BruteForcePolicy, SettingsError> {
        let defaults = BruteForcePolicy::default();
        let mut b = BruteForcePolicy::builder().attempts_per_window(
            self.attempts.unwrap_or(defaults.max_attempts()),
            self.window.unwrap_or(defaults.window()),
        );
        if let Some(n) = self.client_failures {
            b = b.client_failures_before_lockout(n);
        }
        if let Some(n) = self.account_failures {
            b = b.account_failures_before_lockout(n);
        }
        if !self.lockout_ladder.is_empty() {
            b = b.lockout_ladder(self.lockout_ladder.iter().copied());
        }
        if let Some(d) = self.decay {
            b = b.decay_after(d);
        }
        b.build().map_err(|e| {
            let field = match &e {
                ConfigError::InvalidPolicy { setting, reason } => match *setting {
                    "attempts_per_window" if reason.starts_with("a window") => "window",
                    "attempts_per_window" => "attempts",
                    "client_failures_before_lockout" => "client_failures",
                    "account_failures_before_lockout" => "account_failures",
                    "lockout_ladder" => "lockout_ladder",
                    _ => "decay",
                },
                _ => "",
            };
            SettingsError::config(field, e)
        })
    }
}
