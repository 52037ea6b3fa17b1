//! [`AttemptRecord`]: the state a store keeps per key, and every transition of the policy.
//!
//! All transitions are plain functions over a small `Copy` value, so a store applies them under
//! whatever makes one key's update atomic (a dashmap entry lock here; a script in Redis), and
//! the policy is tested without any store.
//!
//! Times are whole seconds since the Unix epoch in `u32` (valid until 2106; later times
//! saturate). Whenever rounding is needed it goes the strict way: an attempt is recorded at
//! the next whole second, so a window or lockout may last up to one second longer than
//! configured, never shorter.

use std::time::Duration;

use super::attempt::{Admission, AttemptOutcome, BlockReason, Blocked};
use super::policy::{BruteForcePolicy, LockoutScope, MAX_ATTEMPTS_PER_WINDOW};
use crate::clock::UnixTime;

const NANOS: u64 = 1_000_000_000;
// The policy bounds the attempts per window by this; the array below holds them inline.
const SLOTS: usize = MAX_ATTEMPTS_PER_WINDOW as usize;

/// Per-key state: the client's sliding window (unused for accounts), failures, lockout.
///
/// 52 bytes, no heap: with its 16-byte key, 68 bytes per entry in a hash table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AttemptRecord {
    /// Time (s) of the oldest attempt in the window; `window[i]` are offsets from it.
    base: u32,
    window: [u16; SLOTS],
    len: u8,
    level: u8,
    failures: u16,
    /// End (s) of the current or last lockout.
    locked_until: u32,
    /// When (s) failures and level reset if nothing else fails.
    decays_at: u32,
    /// When (s) this record equals a fresh one and can be dropped.
    expires: u32,
}

/// What recording a client failure did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientFailure {
    /// Whether the client had failed recently before this failure.
    pub(crate) was_suspect: bool,
    pub(crate) level: u8,
    pub(crate) engaged: bool,
}

/// What applying an outcome to an account did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccountResult {
    Counted { level: u8, engaged: bool },
    Blocked(Blocked),
}

fn secs_ceil(t: UnixTime) -> u32 {
    let n = t.as_nanos();
    let s = n / NANOS + u64::from(!n.is_multiple_of(NANOS));
    u32::try_from(s).unwrap_or(u32::MAX)
}

fn secs_after(t: UnixTime, d: Duration) -> u32 {
    secs_ceil(t.saturating_add(d))
}

fn add_secs(s: u32, d: Duration) -> u32 {
    u32::try_from(u64::from(s).saturating_add(d.as_secs())).unwrap_or(u32::MAX)
}

fn nanos(s: u32) -> u64 {
    u64::from(s) * NANOS
}

/// Time from `now` until second `s` (zero if past).
fn until(s: u32, now: UnixTime) -> Duration {
    Duration::from_nanos(nanos(s).saturating_sub(now.as_nanos()))
}

impl AttemptRecord {
    /// When this record holds nothing a fresh one would not.
    pub(crate) fn expires_secs(&self) -> u32 {
        self.expires
    }

    /// Whether the record is equivalent to a fresh one at `now` (and may be dropped).
    pub(crate) fn is_expired(&self, now: UnixTime) -> bool {
        nanos(self.expires) <= now.as_nanos()
    }

    #[cfg(test)]
    pub(crate) fn level(&self) -> u8 {
        self.level
    }

    #[cfg(test)]
    pub(crate) fn failures(&self) -> u16 {
        self.failures
    }

    fn is_locked(&self, now: UnixTime) -> bool {
        nanos(self.locked_until) > now.as_nanos()
    }

    /// Whether the client failed recently (failures or a lockout level not yet decayed).
    pub(crate) fn is_suspect(&mut self, now: UnixTime) -> bool {
        self.decay(now);
        self.failures > 0 || self.level > 0
    }

    fn decay(&mut self, now: UnixTime) {
        if (self.failures > 0 || self.level > 0) && nanos(self.decays_at) <= now.as_nanos() {
            self.failures = 0;
            self.level = 0;
            self.locked_until = 0;
            self.decays_at = 0;
        }
    }

    /// Drops window entries that left the window at `now`.
    fn prune(&mut self, window: u32, now: UnixTime) {
        let len = usize::from(self.len).min(SLOTS);
        let now = now.as_nanos();
        let mut gone = 0;
        for off in self.window.iter().take(len) {
            let at = u64::from(self.base) + u64::from(*off) + u64::from(window);
            if at * NANOS > now {
                break;
            }
            gone += 1;
        }
        if gone == 0 {
            return;
        }
        if gone == len {
            self.len = 0;
            self.base = 0;
            return;
        }
        let shift = self.window.get(gone).copied().unwrap_or(0);
        self.base = self.base.saturating_add(u32::from(shift));
        self.window.copy_within(gone..len, 0);
        for off in self.window.iter_mut().take(len - gone) {
            *off = off.saturating_sub(shift);
        }
        // `gone < len <= SLOTS`, so this fits.
        self.len = u8::try_from(len - gone).unwrap_or(0);
    }

    fn refresh_expiry(&mut self, window: u32) {
        let window_end = match usize::from(self.len).checked_sub(1) {
            Some(last) => {
                let off = self.window.get(last).copied().unwrap_or(0);
                self.base
                    .saturating_add(u32::from(off))
                    .saturating_add(window)
            }
            None => 0,
        };
        let failures_end = if self.failures > 0 || self.level > 0 {
            self.decays_at
        } else {
            0
        };
        self.expires = window_end.max(failures_end);
    }

    /// The pre-check: refuses a locked-out client or one whose window is full, otherwise
    /// counts the attempt in the window.
    pub(crate) fn admit(&mut self, policy: &BruteForcePolicy, now: UnixTime) -> Admission {
        let window = u32::try_from(policy.window().as_secs()).unwrap_or(u32::MAX);
        self.decay(now);
        self.prune(window, now);
        let result = self.admit_pruned(policy, window, now);
        self.refresh_expiry(window);
        result
    }

    fn admit_pruned(&mut self, policy: &BruteForcePolicy, window: u32, now: UnixTime) -> Admission {
        if self.is_locked(now) {
            return Admission::Blocked(Blocked::new(
                until(self.locked_until, now),
                BlockReason::ClientLockedOut,
                self.level,
            ));
        }
        let max = usize::try_from(policy.max_attempts().get())
            .unwrap_or(SLOTS)
            .min(SLOTS);
        let len = usize::from(self.len);
        if len >= max {
            // The attempt that must leave the window before another fits.
            let idx = len - max;
            let off = self.window.get(idx).copied().unwrap_or(0);
            let free_at = self
                .base
                .saturating_add(u32::from(off))
                .saturating_add(window);
            return Admission::Blocked(Blocked::new(
                until(free_at, now),
                BlockReason::RateLimited,
                self.level,
            ));
        }
        let t = secs_ceil(now);
        if len == 0 {
            self.base = t;
        }
        // After pruning every entry is within one window of `now`, so the offset fits in u16
        // (the policy caps the window at u16::MAX seconds).
        let off = u16::try_from(t.saturating_sub(self.base)).unwrap_or(u16::MAX);
        if let Some(slot) = self.window.get_mut(len) {
            *slot = off;
            self.len = self.len.saturating_add(1);
        }
        Admission::Admitted
    }

    /// Adds one failure; locks out when `threshold` is reached. Returns whether a lockout
    /// engaged.
    fn add_failure(&mut self, threshold: u32, policy: &BruteForcePolicy, now: UnixTime) -> bool {
        self.failures = self.failures.saturating_add(1);
        let mut engaged = false;
        if u32::from(self.failures) >= threshold {
            self.level = self.level.saturating_add(1).min(policy.max_level());
            let until = secs_after(now, policy.lockout_for_level(self.level));
            self.locked_until = self.locked_until.max(until);
            self.failures = 0;
            engaged = true;
        }
        let quiet_from = secs_ceil(now).max(self.locked_until);
        self.decays_at = add_secs(quiet_from, policy.decay_after());
        engaged
    }

    /// Records a failed check by this client (on any account).
    pub(crate) fn client_failure(
        &mut self,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> ClientFailure {
        let window = u32::try_from(policy.window().as_secs()).unwrap_or(u32::MAX);
        let was_suspect = self.is_suspect(now);
        self.prune(window, now);
        let engaged = self.add_failure(policy.client_failures_before_lockout().get(), policy, now);
        self.refresh_expiry(window);
        ClientFailure {
            was_suspect,
            level: self.level,
            engaged,
        }
    }

    /// Whether a client is suspect, and its level, without recording anything.
    pub(crate) fn client_status(&mut self, policy: &BruteForcePolicy, now: UnixTime) -> (bool, u8) {
        let window = u32::try_from(policy.window().as_secs()).unwrap_or(u32::MAX);
        let suspect = self.is_suspect(now);
        self.prune(window, now);
        self.refresh_expiry(window);
        (suspect, self.level)
    }

    /// Applies an attempt's outcome to an account. A locked account refuses suspect clients
    /// (every client with [`LockoutScope::EveryClient`]) without counting anything; otherwise a
    /// success resets the account and a failure counts towards the next lockout.
    pub(crate) fn account_outcome(
        &mut self,
        outcome: AttemptOutcome,
        client_suspect: bool,
        policy: &BruteForcePolicy,
        now: UnixTime,
    ) -> AccountResult {
        let window = u32::try_from(policy.window().as_secs()).unwrap_or(u32::MAX);
        self.decay(now);
        let refuse = match policy.lockout_scope() {
            LockoutScope::EveryClient => true,
            _ => client_suspect,
        };
        if self.is_locked(now) && refuse {
            let blocked = Blocked::new(
                until(self.locked_until, now),
                BlockReason::AccountLockedOut,
                self.level,
            );
            self.refresh_expiry(window);
            return AccountResult::Blocked(blocked);
        }
        let engaged = match outcome {
            AttemptOutcome::Success => {
                self.failures = 0;
                self.level = 0;
                self.locked_until = 0;
                self.decays_at = 0;
                false
            }
            AttemptOutcome::Failure => {
                self.add_failure(policy.account_failures_before_lockout().get(), policy, now)
            }
            AttemptOutcome::Neutral => false,
        };
        self.refresh_expiry(window);
        AccountResult::Counted {
            level: self.level,
            engaged,
        }
    }

    /// Forgets failures and lockouts (an operator's unlock); keeps the rate window.
    pub(crate) fn clear_failures(&mut self, policy: &BruteForcePolicy) {
        let window = u32::try_from(policy.window().as_secs()).unwrap_or(u32::MAX);
        self.failures = 0;
        self.level = 0;
        self.locked_until = 0;
        self.decays_at = 0;
        self.refresh_expiry(window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> UnixTime {
        UnixTime::from_secs(T0 + secs)
    }

    fn blocked(a: Admission) -> Blocked {
        match a {
            Admission::Blocked(b) => b,
            Admission::Admitted => panic!("expected a refusal"),
        }
    }

    #[test]
    fn record_is_small_and_fixed_size() {
        assert_eq!(size_of::<AttemptRecord>(), 52);
    }

    #[test]
    fn five_attempts_pass_and_the_sixth_waits_for_the_oldest_to_leave() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        for s in 0..5 {
            assert_eq!(r.admit(&p, at(s * 2)), Admission::Admitted);
        }
        let b = blocked(r.admit(&p, at(10)));
        assert_eq!(b.reason(), BlockReason::RateLimited);
        assert_eq!(b.retry_after(), Duration::from_secs(50));
        // The oldest leaves at 60: exactly then one more passes, and the next waits for the
        // second oldest (at 2s, leaving at 62).
        assert!(matches!(r.admit(&p, at(59)), Admission::Blocked(_)));
        assert_eq!(r.admit(&p, at(60)), Admission::Admitted);
        let b = blocked(r.admit(&p, at(60)));
        assert_eq!(b.retry_after(), Duration::from_secs(2));
    }

    #[test]
    fn refused_attempts_do_not_fill_the_window() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        for _ in 0..5 {
            assert_eq!(r.admit(&p, at(0)), Admission::Admitted);
        }
        for s in 1..60 {
            assert!(matches!(r.admit(&p, at(s)), Admission::Blocked(_)));
        }
        for _ in 0..5 {
            assert_eq!(r.admit(&p, at(60)), Admission::Admitted);
        }
    }

    #[test]
    fn sub_second_times_round_towards_the_stricter_answer() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        let t = UnixTime::from_nanos((T0 * NANOS) + 300_000_000);
        for _ in 0..5 {
            assert_eq!(r.admit(&p, t), Admission::Admitted);
        }
        let b = blocked(r.admit(&p, t));
        assert_eq!(b.retry_after(), Duration::from_millis(60_700));
    }

    #[test]
    fn client_ladder_goes_15_minutes_then_1_hour_then_24_hours() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        let mut now = 0;
        for (expected_level, expected) in [(1, 900), (2, 3600), (3, 86_400), (3, 86_400)] {
            for i in 0..10 {
                let f = r.client_failure(&p, at(now));
                assert_eq!(f.engaged, i == 9);
            }
            assert_eq!(r.level(), expected_level);
            let b = blocked(r.admit(&p, at(now)));
            assert_eq!(b.reason(), BlockReason::ClientLockedOut);
            assert_eq!(b.retry_after(), Duration::from_secs(expected));
            assert_eq!(b.lockout_level(), expected_level);
            now += expected;
        }
    }

    #[test]
    fn counters_decay_after_a_quiet_period_counted_from_the_lockout_end() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        for _ in 0..5 {
            r.account_outcome(AttemptOutcome::Failure, true, &p, at(0));
        }
        assert_eq!(r.level(), 1);
        // Locked until 900; quiet from then: decays at 900 + 86400.
        assert!(r.is_suspect(at(900 + 86_399)));
        assert!(!r.is_expired(at(900 + 86_399)));
        assert!(!r.is_suspect(at(900 + 86_400)));
        assert!(r.is_expired(at(900 + 86_400)));
        assert_eq!(r.level(), 0);
    }

    #[test]
    fn success_resets_the_account() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        for _ in 0..4 {
            r.account_outcome(AttemptOutcome::Failure, false, &p, at(0));
        }
        assert_eq!(r.failures(), 4);
        r.account_outcome(AttemptOutcome::Success, false, &p, at(1));
        assert_eq!(r.failures(), 0);
        assert!(r.is_expired(at(1)));
        for _ in 0..4 {
            r.account_outcome(AttemptOutcome::Failure, false, &p, at(2));
        }
        assert_eq!(r.level(), 0);
    }

    #[test]
    fn locked_account_refuses_suspect_clients_but_answers_clean_ones() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        for _ in 0..5 {
            r.account_outcome(AttemptOutcome::Failure, true, &p, at(0));
        }
        let res = r.account_outcome(AttemptOutcome::Success, true, &p, at(10));
        let AccountResult::Blocked(b) = res else {
            panic!("suspect client must be refused")
        };
        assert_eq!(b.reason(), BlockReason::AccountLockedOut);
        assert_eq!(b.retry_after(), Duration::from_secs(890));
        // A clean client's success goes through and resets the account.
        let res = r.account_outcome(AttemptOutcome::Success, false, &p, at(10));
        assert!(matches!(res, AccountResult::Counted { level: 0, .. }));
    }

    #[test]
    fn every_client_scope_refuses_clean_clients_too() {
        let p = BruteForcePolicy::builder()
            .dangerous_lock_out_every_client()
            .build()
            .unwrap();
        let mut r = AttemptRecord::default();
        for _ in 0..5 {
            r.account_outcome(AttemptOutcome::Failure, true, &p, at(0));
        }
        let res = r.account_outcome(AttemptOutcome::Success, false, &p, at(10));
        assert!(matches!(res, AccountResult::Blocked(_)));
    }

    #[test]
    fn windows_up_to_the_maximum_fit_the_offsets() {
        let p = BruteForcePolicy::builder()
            .attempts_per_window(
                NonZeroU32::new(16).unwrap(),
                Duration::from_secs(u64::from(u16::MAX)),
            )
            .build()
            .unwrap();
        let mut r = AttemptRecord::default();
        for i in 0..16 {
            assert_eq!(r.admit(&p, at(i * 4000)), Admission::Admitted);
        }
        let b = blocked(r.admit(&p, at(64_000)));
        assert_eq!(b.retry_after(), Duration::from_secs(65_535 - 64_000));
        assert_eq!(r.admit(&p, at(65_535)), Admission::Admitted);
    }

    #[test]
    fn window_only_records_expire_one_window_after_the_last_attempt() {
        let p = BruteForcePolicy::default();
        let mut r = AttemptRecord::default();
        r.admit(&p, at(0));
        r.admit(&p, at(30));
        assert!(!r.is_expired(at(89)));
        assert!(r.is_expired(at(90)));
    }
}
