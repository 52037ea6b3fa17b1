//! Time, injected.
//!
//! Every expiry, `nbf`/`iat` and (in later modules) lockout and revocation decision reads a
//! [`Clock`] instead of the system time, so tests move time forward with [`ManualClock`] and
//! never sleep.
//!
//! # Example
//!
//! ```
//! use auth_core::clock::{Clock, ManualClock, UnixTime};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new(UnixTime::from_secs(1_000));
//! let shared = clock.clone();
//! clock.advance(Duration::from_secs(90));
//! assert_eq!(shared.now(), UnixTime::from_secs(1_090));
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as seconds and nanoseconds since the Unix epoch (UTC).
///
/// Times before the epoch are not representable; they are clamped to the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime {
    nanos: u64,
}

const NANOS_PER_SEC: u64 = 1_000_000_000;

impl UnixTime {
    /// The Unix epoch.
    pub const EPOCH: Self = Self { nanos: 0 };

    /// A time a whole number of seconds after the epoch (saturating).
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self {
            nanos: secs.saturating_mul(NANOS_PER_SEC),
        }
    }

    /// A time a number of nanoseconds after the epoch.
    #[must_use]
    pub const fn from_nanos(nanos: u64) -> Self {
        Self { nanos }
    }

    /// Whole seconds since the epoch (rounded down).
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.nanos / NANOS_PER_SEC
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// Seconds since the epoch as a float, as JWT `NumericDate` values are.
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        // Precision loss is irrelevant at the second granularity JWTs use.
        #[allow(clippy::cast_precision_loss)]
        let v = self.nanos as f64 / NANOS_PER_SEC as f64;
        v
    }

    /// This time moved forward by `d` (saturating).
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        let add = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Self {
            nanos: self.nanos.saturating_add(add),
        }
    }

    /// This time moved back by `d` (saturating at the epoch).
    #[must_use]
    pub fn saturating_sub(self, d: Duration) -> Self {
        let sub = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Self {
            nanos: self.nanos.saturating_sub(sub),
        }
    }

    /// The duration from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// Converts a [`SystemTime`], clamping times before the epoch to the epoch.
    #[must_use]
    pub fn from_system_time(t: SystemTime) -> Self {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Self::EPOCH.saturating_add(since)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}",
            self.nanos / NANOS_PER_SEC,
            self.nanos % NANOS_PER_SEC
        )
    }
}

/// A source of the current time.
///
/// Implementations must be cheap: the clock is read on every request.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> UnixTime;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> UnixTime {
        (**self).now()
    }
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_system_time(SystemTime::now())
    }
}

/// A clock that only moves when told to. Clones share the same time.
///
/// Meant for tests: expiry, `nbf` and lockout behaviour can be checked without sleeping.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    #[must_use]
    pub fn new(start: UnixTime) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(start.as_nanos())),
        }
    }

    /// A clock stopped at the current system time.
    #[must_use]
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    /// Moves the clock (and every clone of it) forward by `d`.
    pub fn advance(&self, d: Duration) {
        let add = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(add))
            });
    }

    /// Sets the clock (and every clone of it) to `t`.
    pub fn set(&self, t: UnixTime) {
        self.now.store(t.as_nanos(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_nanos(self.now.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_clones_share_time() {
        let a = ManualClock::new(UnixTime::from_secs(10));
        let b = a.clone();
        a.advance(Duration::from_millis(1500));
        assert_eq!(b.now().as_secs(), 11);
        assert_eq!(b.now().as_nanos(), 11_500_000_000);
    }

    #[test]
    fn unix_time_arithmetic_saturates() {
        let t = UnixTime::from_secs(5);
        assert_eq!(t.saturating_sub(Duration::from_secs(10)), UnixTime::EPOCH);
        assert_eq!(
            UnixTime::from_nanos(u64::MAX).saturating_add(Duration::from_secs(1)),
            UnixTime::from_nanos(u64::MAX)
        );
        assert_eq!(
            UnixTime::from_secs(7).saturating_duration_since(UnixTime::from_secs(9)),
            Duration::ZERO
        );
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now().as_secs() > 1_577_836_800);
    }
}
