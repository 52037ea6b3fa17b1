//! [`BruteForcePolicy`]: how many attempts, how long the lockouts, when counters decay.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::ConfigError;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// The default lockout ladder: 15 minutes, then 1 hour, then 24 hours (and 24 hours for every
/// lockout after that).
pub const DEFAULT_LADDER: [Duration; 3] = [
    Duration::from_secs(15 * 60),
    HOUR,
    Duration::from_secs(24 * 3600),
];

/// The most attempts per window a policy can allow. Every tracked client keeps one timestamp
/// per attempt in the window inline (no allocation per key), so the bound keeps the per-key
/// memory fixed; login endpoints need far fewer.
pub const MAX_ATTEMPTS_PER_WINDOW: u32 = 16;

/// The longest rate-limit window (about 18 hours): timestamps inside a window are kept as
/// 16-bit second offsets.
pub const MAX_WINDOW: Duration = Duration::from_secs(u16::MAX as u64);

/// The longest lockout step or decay period (one year); longer values are almost certainly a
/// unit mistake.
pub const MAX_PERIOD: Duration = Duration::from_secs(365 * 24 * 3600);

/// The most steps a lockout ladder can have.
pub const MAX_LADDER_STEPS: usize = 32;

/// Which clients an account lockout refuses.
///
/// The layer only learns the account from the handler's answer, so the account lockout is
/// applied to the response (see the [module docs](super) for the trade-off).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockoutScope {
    /// The default: a locked account refuses every client that has failed recently (on any
    /// account), while a client with a clean record still gets its answer. An attacker cannot
    /// lock the real user out from a fresh address; in exchange every fresh attacker address
    /// gets one answered guess per decay period.
    #[default]
    SuspectClients,
    /// A locked account refuses every client, including the real user on a fresh address. An
    /// attacker who keeps failing can keep the account locked (a denial of service on that
    /// user). Chosen with [`BruteForcePolicyBuilder::dangerous_lock_out_every_client`].
    EveryClient,
}

/// A validated brute-force policy. Cheap to clone.
///
/// Defaults: at most **5 attempts per minute** per client (sliding window); a client that fails
/// **10** times and an account that fails **5** times are locked out for **15 minutes**, then
/// **1 hour**, then **24 hours**; counters reset after **24 hours** without failures (counted
/// from the end of the last lockout); [`LockoutScope::SuspectClients`].
///
/// ```
/// use auth_core::brute_force::BruteForcePolicy;
/// use std::num::NonZeroU32;
/// use std::time::Duration;
///
/// let policy = BruteForcePolicy::builder()
///     .attempts_per_window(NonZeroU32::new(3).unwrap(), Duration::from_secs(60))
///     .account_failures_before_lockout(NonZeroU32::new(3).unwrap())
///     .lockout_ladder([Duration::from_secs(300), Duration::from_secs(3600)])
///     .build()?;
/// assert_eq!(policy.max_attempts().get(), 3);
/// assert_eq!(policy.lockout_for_level(1), Duration::from_secs(300));
/// assert_eq!(policy.lockout_for_level(9), Duration::from_secs(3600));
///
/// // Invalid settings are refused when the policy is built, never per request.
/// assert!(BruteForcePolicy::builder().lockout_ladder([]).build().is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BruteForcePolicy {
    max_attempts: NonZeroU32,
    window: Duration,
    client_failures: NonZeroU32,
    account_failures: NonZeroU32,
    ladder: Arc<[Duration]>,
    decay: Duration,
    scope: LockoutScope,
}

impl Default for BruteForcePolicy {
    fn default() -> Self {
        Self {
            max_attempts: BruteForcePolicyBuilder::DEFAULT_MAX_ATTEMPTS,
            window: MINUTE,
            client_failures: BruteForcePolicyBuilder::DEFAULT_CLIENT_FAILURES,
            account_failures: BruteForcePolicyBuilder::DEFAULT_ACCOUNT_FAILURES,
            ladder: Arc::from(DEFAULT_LADDER.as_slice()),
            decay: Duration::from_secs(24 * 3600),
            scope: LockoutScope::SuspectClients,
        }
    }
}

impl BruteForcePolicy {
    /// A builder starting from the defaults.
    pub const fn builder() -> BruteForcePolicyBuilder {
        BruteForcePolicyBuilder::new()
    }

    /// Attempts a client may make per [`window`](Self::window).
    #[must_use]
    pub const fn max_attempts(&self) -> NonZeroU32 {
        self.max_attempts
    }

    /// The length of the sliding rate-limit window.
    #[must_use]
    pub const fn window(&self) -> Duration {
        self.window
    }

    /// Failures (on any accounts) after which a client is locked out.
    #[must_use]
    pub const fn client_failures_before_lockout(&self) -> NonZeroU32 {
        self.client_failures
    }

    /// Failures (from any clients) after which an account is locked out.
    #[must_use]
    pub const fn account_failures_before_lockout(&self) -> NonZeroU32 {
        self.account_failures
    }

    /// The lockout ladder: step `n` is the length of the `n`-th consecutive lockout.
    #[must_use]
    pub fn ladder(&self) -> &[Duration] {
        &self.ladder
    }

    /// The length of a lockout at `level` (1-based); the last step repeats.
    #[must_use]
    pub fn lockout_for_level(&self, level: u8) -> Duration {
        let idx = usize::from(level.max(1)) - 1;
        self.ladder
            .get(idx)
            .or_else(|| self.ladder.last())
            .copied()
            .unwrap_or(Duration::ZERO)
    }

    /// The highest lockout level (the ladder's length).
    #[must_use]
    pub fn max_level(&self) -> u8 {
        // The builder caps the ladder at MAX_LADDER_STEPS (< 256).
        u8::try_from(self.ladder.len()).unwrap_or(u8::MAX)
    }

    /// How long without failures (counted from the later of the last failure and the end of the
    /// last lockout) resets a client's or account's failures and lockout level.
    #[must_use]
    pub const fn decay_after(&self) -> Duration {
        self.decay
    }

    /// Which clients an account lockout refuses.
    #[must_use]
    pub const fn lockout_scope(&self) -> LockoutScope {
        self.scope
    }
}

/// Builds a [`BruteForcePolicy`]; see [`BruteForcePolicy::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct BruteForcePolicyBuilder {
    max_attempts: NonZeroU32,
    window: Duration,
    client_failures: NonZeroU32,
    account_failures: NonZeroU32,
    ladder: Option<Vec<Duration>>,
    decay: Duration,
    scope: LockoutScope,
}

impl Default for BruteForcePolicyBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BruteForcePolicyBuilder {
    // `NonZeroU32::MIN` is 1; adding keeps the constants free of unwrap.
    const DEFAULT_MAX_ATTEMPTS: NonZeroU32 = NonZeroU32::MIN.saturating_add(4);
    const DEFAULT_CLIENT_FAILURES: NonZeroU32 = NonZeroU32::MIN.saturating_add(9);
    const DEFAULT_ACCOUNT_FAILURES: NonZeroU32 = NonZeroU32::MIN.saturating_add(4);

    /// The defaults (see [`BruteForcePolicy`]).
    pub const fn new() -> Self {
        Self {
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            window: MINUTE,
            client_failures: Self::DEFAULT_CLIENT_FAILURES,
            account_failures: Self::DEFAULT_ACCOUNT_FAILURES,
            ladder: None,
            decay: Duration::from_secs(24 * 3600),
            scope: LockoutScope::SuspectClients,
        }
    }

    /// At most `max` attempts per client in any `window` (sliding). At most
    /// [`MAX_ATTEMPTS_PER_WINDOW`] attempts and a window of 1 second to [`MAX_WINDOW`].
    pub const fn attempts_per_window(mut self, max: NonZeroU32, window: Duration) -> Self {
        self.max_attempts = max;
        self.window = window;
        self
    }

    /// Failures after which a client is locked out (default 10). Higher than the account
    /// threshold because one address can front many people (NAT, offices).
    pub const fn client_failures_before_lockout(mut self, n: NonZeroU32) -> Self {
        self.client_failures = n;
        self
    }

    /// Failures after which an account is locked out (default 5).
    pub const fn account_failures_before_lockout(mut self, n: NonZeroU32) -> Self {
        self.account_failures = n;
        self
    }

    /// The lockout ladder (default 15 min, 1 h, 24 h). Must be non-empty, at most
    /// [`MAX_LADDER_STEPS`] steps, each from 1 second to [`MAX_PERIOD`], and never shorter than
    /// the step before it.
    pub fn lockout_ladder(mut self, steps: impl IntoIterator<Item = Duration>) -> Self {
        self.ladder = Some(steps.into_iter().collect());
        self
    }

    /// How long without failures resets the counters (default 24 hours).
    pub const fn decay_after(mut self, quiet: Duration) -> Self {
        self.decay = quiet;
        self
    }

    /// Makes an account lockout refuse **every** client, including the real user on an address
    /// that never failed ([`LockoutScope::EveryClient`]).
    ///
    /// This closes the "one answered guess per fresh address" gap of the default, at the price
    /// of letting anyone who knows a user's login name lock that user out for as long as they
    /// keep failing. Only choose it when a locked-out user has another way in (support, a
    /// recovery flow).
    pub const fn dangerous_lock_out_every_client(mut self) -> Self {
        self.scope = LockoutScope::EveryClient;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPolicy`] naming the setting, when: the attempts per window exceed
    /// [`MAX_ATTEMPTS_PER_WINDOW`]; the window is under 1 second or over [`MAX_WINDOW`]; a
    /// failure threshold exceeds 65,535; the ladder is empty, longer than
    /// [`MAX_LADDER_STEPS`], has a step under 1 second or over [`MAX_PERIOD`], or a step
    /// shorter than the one before; the decay period is under 1 second or over
    /// [`MAX_PERIOD`].
    pub fn build(self) -> Result<BruteForcePolicy, ConfigError> {
        let invalid =
            |setting: &'static str, reason: String| ConfigError::InvalidPolicy { setting, reason };
        if self.max_attempts.get() > MAX_ATTEMPTS_PER_WINDOW {
            return Err(invalid(
                "attempts_per_window",
                format!(
                    "{} attempts per window exceeds the maximum of {MAX_ATTEMPTS_PER_WINDOW}",
                    self.max_attempts
                ),
            ));
        }
        if self.window < Duration::from_secs(1) || self.window > MAX_WINDOW {
            return Err(invalid(
                "attempts_per_window",
                format!(
                    "a window of {:?} is outside 1s..={}s",
                    self.window,
                    MAX_WINDOW.as_secs()
                ),
            ));
        }
        for (setting, n) in [
            ("client_failures_before_lockout", self.client_failures),
            ("account_failures_before_lockout", self.account_failures),
        ] {
            if n.get() > u32::from(u16::MAX) {
                return Err(invalid(
                    setting,
                    format!("{n} exceeds the maximum of 65535"),
                ));
            }
        }
        let ladder = self.ladder.unwrap_or_else(|| DEFAULT_LADDER.to_vec());
        if ladder.is_empty() || ladder.len() > MAX_LADDER_STEPS {
            return Err(invalid(
                "lockout_ladder",
                format!(
                    "the ladder needs 1 to {MAX_LADDER_STEPS} steps, not {}",
                    ladder.len()
                ),
            ));
        }
        let mut previous = Duration::ZERO;
        for step in &ladder {
            if *step < Duration::from_secs(1) || *step > MAX_PERIOD {
                return Err(invalid(
                    "lockout_ladder",
                    format!("a step of {step:?} is outside 1s..=365 days"),
                ));
            }
            if *step < previous {
                return Err(invalid(
                    "lockout_ladder",
                    format!("a step of {step:?} is shorter than the step before it ({previous:?})"),
                ));
            }
            previous = *step;
        }
        if self.decay < Duration::from_secs(1) || self.decay > MAX_PERIOD {
            return Err(invalid(
                "decay_after",
                format!(
                    "a decay period of {:?} is outside 1s..=365 days",
                    self.decay
                ),
            ));
        }
        Ok(BruteForcePolicy {
            max_attempts: self.max_attempts,
            window: self.window,
            client_failures: self.client_failures,
            account_failures: self.account_failures,
            ladder: Arc::from(ladder),
            decay: self.decay,
            scope: self.scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = BruteForcePolicy::builder().build().unwrap();
        assert_eq!(p, BruteForcePolicy::default());
        assert_eq!(p.max_attempts().get(), 5);
        assert_eq!(p.window(), MINUTE);
        assert_eq!(p.client_failures_before_lockout().get(), 10);
        assert_eq!(p.account_failures_before_lockout().get(), 5);
        assert_eq!(p.ladder(), DEFAULT_LADDER);
        assert_eq!(p.decay_after(), Duration::from_secs(86_400));
        assert_eq!(p.lockout_scope(), LockoutScope::SuspectClients);
    }

    #[test]
    fn ladder_last_step_repeats_and_level_zero_reads_the_first() {
        let p = BruteForcePolicy::default();
        assert_eq!(p.lockout_for_level(0), Duration::from_secs(900));
        assert_eq!(p.lockout_for_level(1), Duration::from_secs(900));
        assert_eq!(p.lockout_for_level(2), HOUR);
        assert_eq!(p.lockout_for_level(3), Duration::from_secs(86_400));
        assert_eq!(p.lockout_for_level(200), Duration::from_secs(86_400));
        assert_eq!(p.max_level(), 3);
    }

    #[test]
    fn invalid_settings_are_refused_with_the_setting_named() {
        let cases = [
            BruteForcePolicy::builder().attempts_per_window(nz(17), MINUTE),
            BruteForcePolicy::builder().attempts_per_window(nz(5), Duration::from_millis(500)),
            BruteForcePolicy::builder().attempts_per_window(nz(5), Duration::from_secs(70_000)),
            BruteForcePolicy::builder().client_failures_before_lockout(nz(70_000)),
            BruteForcePolicy::builder().lockout_ladder([]),
            BruteForcePolicy::builder().lockout_ladder([HOUR, MINUTE]),
            BruteForcePolicy::builder().lockout_ladder([Duration::ZERO]),
            BruteForcePolicy::builder().lockout_ladder(vec![MINUTE; 33]),
            BruteForcePolicy::builder().decay_after(Duration::ZERO),
            BruteForcePolicy::builder().decay_after(MAX_PERIOD + MINUTE),
        ];
        for b in cases {
            let err = b.clone().build().unwrap_err();
            assert!(
                matches!(err, ConfigError::InvalidPolicy { .. }),
                "{b:?} gave {err}"
            );
        }
    }

    #[test]
    fn builder_setters_are_usable_in_const_context() {
        const B: BruteForcePolicyBuilder = BruteForcePolicyBuilder::new()
            .attempts_per_window(NonZeroU32::MIN, Duration::from_secs(10))
            .dangerous_lock_out_every_client();
        let p = B.build().unwrap();
        assert_eq!(p.max_attempts().get(), 1);
        assert_eq!(p.lockout_scope(), LockoutScope::EveryClient);
    }
}
