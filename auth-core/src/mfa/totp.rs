//! TOTP (RFC 6238) over HOTP (RFC 4226): the algorithm, the parameters of a credential, code
//! parsing and the constant-time window check.

use std::fmt;
use std::time::Duration;

use aws_lc_rs::hmac;
use subtle::{ConditionallySelectable as _, ConstantTimeEq as _};

use crate::ConfigError;
use crate::clock::UnixTime;

/// The HMAC of a TOTP credential (RFC 6238 section 1.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TotpAlgorithm {
    /// HMAC-SHA1: the default, and the only one every authenticator app supports. HOTP's use
    /// of HMAC-SHA1 is not affected by SHA-1's collision attacks (RFC 6238 section 1.2 and
    /// RFC 4226 appendix A).
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl TotpAlgorithm {
    /// The `algorithm` parameter of an `otpauth://` URI: `SHA1`, `SHA256` or `SHA512`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Parses what [`as_str`](Self::as_str) writes.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "SHA1" => Some(Self::Sha1),
            "SHA256" => Some(Self::Sha256),
            "SHA512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

impl fmt::Display for TotpAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parameters a TOTP credential is enrolled with (they go into the `otpauth://` URI and
/// stay with the credential): algorithm, number of digits, period.
///
/// Defaults: SHA-1, 6 digits, 30 seconds, as RFC 6238 and every authenticator app.
///
/// ```
/// use auth_core::mfa::{TotpAlgorithm, TotpParams};
/// use std::time::Duration;
///
/// let p = TotpParams::new(TotpAlgorithm::Sha256, 8, Duration::from_secs(30))?;
/// assert_eq!(p.digits(), 8);
/// assert!(TotpParams::new(TotpAlgorithm::Sha1, 7, Duration::from_secs(30)).is_err());
/// assert_eq!(TotpParams::default().period(), Duration::from_secs(30));
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TotpParams {
    algorithm: TotpAlgorithm,
    digits: u8,
    period: u32,
}

impl Default for TotpParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TotpParams {
    /// SHA-1, 6 digits, 30 seconds.
    pub const DEFAULT: Self = Self {
        algorithm: TotpAlgorithm::Sha1,
        digits: 6,
        period: 30,
    };

    /// Parameters with `digits` of 6 or 8 and a period of 1 second to 10 minutes (whole
    /// seconds).
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] for other digit counts or periods.
    pub fn new(
        algorithm: TotpAlgorithm,
        digits: u8,
        period: Duration,
    ) -> Result<Self, ConfigError> {
        if digits != 6 && digits != 8 {
            return Err(ConfigError::OutOfRange(format!(
                "totp digits must be 6 or 8, not {digits}"
            )));
        }
        let secs = period.as_secs();
        if period.subsec_nanos() != 0 || !(1..=600).contains(&secs) {
            return Err(ConfigError::OutOfRange(
                "totp period must be a whole number of seconds from 1 to 600".to_owned(),
            ));
        }
        Ok(Self {
            algorithm,
            digits,
            period: u32::try_from(secs).unwrap_or(30),
        })
    }

    /// The HMAC algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> TotpAlgorithm {
        self.algorithm
    }

    /// The number of digits of a code (6 or 8).
    #[must_use]
    pub const fn digits(&self) -> u8 {
        self.digits
    }

    /// The length of a time step.
    #[must_use]
    pub const fn period(&self) -> Duration {
        Duration::from_secs(self.period as u64)
    }

    /// The time step at `now`: whole periods since the Unix epoch (RFC 6238 `T`, with `T0` = 0).
    #[must_use]
    pub fn step_at(&self, now: UnixTime) -> u64 {
        now.as_secs() / u64::from(self.period.max(1))
    }

    /// The code for time step `step` under `secret` (RFC 4226 section 5.3: HMAC, dynamic
    /// truncation, modulo 10^digits).
    ///
    /// ```
    /// use auth_core::mfa::TotpParams;
    ///
    /// // RFC 4226 appendix D: the secret "12345678901234567890", counter 0.
    /// assert_eq!(TotpParams::default().code_at(b"12345678901234567890", 0), 755224);
    /// ```
    #[must_use]
    pub fn code_at(&self, secret: &[u8], step: u64) -> u32 {
        let key = hmac::Key::new(self.algorithm.hmac(), secret);
        hotp(&key, step, self.digits)
    }

    /// `code` formatted with its leading zeros, e.g. `"012345"`.
    #[must_use]
    pub fn format(&self, code: u32) -> String {
        format!("{code:0width$}", width = usize::from(self.digits))
    }

    /// Parses a presented code: exactly [`digits`](Self::digits) ASCII digits (`0`-`9`), nothing
    /// else (no spaces, signs or other scripts' digits). `None` otherwise, and no HMAC is ever
    /// computed for such input.
    ///
    /// ```
    /// use auth_core::mfa::TotpParams;
    ///
    /// let p = TotpParams::default();
    /// assert_eq!(p.parse_code("012345"), Some(12345));
    /// for bad in ["12345", " 012345", "+12345", "０１２３４５", "1234567", "12 345"] {
    ///     assert_eq!(p.parse_code(bad), None, "{bad}");
    /// }
    /// ```
    #[must_use]
    pub fn parse_code(&self, code: &str) -> Option<u32> {
        if code.len() != usize::from(self.digits) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        code.bytes().try_fold(0u32, |acc, b| {
            acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        })
    }

    /// The latest step in `window` around `now` whose code under `secret` equals `code`, or
    /// `None`. Every step in the window is computed and compared in constant time (no early
    /// exit on a match), so the time taken does not tell which step matched.
    #[must_use]
    pub fn matching_step(
        &self,
        secret: &[u8],
        code: u32,
        now: UnixTime,
        window: TotpWindow,
    ) -> Option<u64> {
        let key = hmac::Key::new(self.algorithm.hmac(), secret);
        let current = self.step_at(now);
        let first = current.saturating_sub(u64::from(window.back));
        let last = current.saturating_add(u64::from(window.ahead));
        let mut found = 0u64;
        let mut any = subtle::Choice::from(0);
        for step in first..=last {
            let hit = hotp(&key, step, self.digits).ct_eq(&code);
            // Keep the latest hit, branch-free.
            found = u64::conditional_select(&found, &step, hit);
            any |= hit;
        }
        bool::from(any).then_some(found)
    }
}

/// How many time steps around the current one a code is accepted from.
///
/// The default accepts the current step, one back and one ahead (RFC 6238 section 5.2
/// recommends at most one step of network delay; clocks drift). Each extra step doubles an
/// online guesser's odds per attempt, so the window is capped at 10 steps either way.
///
/// ```
/// use auth_core::mfa::TotpWindow;
///
/// assert_eq!(TotpWindow::default(), TotpWindow::new(1, 1)?);
/// assert!(TotpWindow::new(11, 0).is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TotpWindow {
    back: u8,
    ahead: u8,
}

impl Default for TotpWindow {
    fn default() -> Self {
        Self { back: 1, ahead: 1 }
    }
}

impl TotpWindow {
    /// The most steps accepted on either side.
    pub const MAX_STEPS: u8 = 10;

    /// Accepts `back` steps before the current one and `ahead` after it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] when either exceeds [`TotpWindow::MAX_STEPS`].
    pub fn new(back: u8, ahead: u8) -> Result<Self, ConfigError> {
        if back > Self::MAX_STEPS || ahead > Self::MAX_STEPS {
            return Err(ConfigError::OutOfRange(format!(
                "a totp window of more than {} steps either way",
                Self::MAX_STEPS
            )));
        }
        Ok(Self { back, ahead })
    }

    /// Steps accepted before the current one.
    #[must_use]
    pub const fn back(&self) -> u8 {
        self.back
    }

    /// Steps accepted after the current one.
    #[must_use]
    pub const fn ahead(&self) -> u8 {
        self.ahead
    }
}

/// RFC 4226 section 5.3: HMAC of the big-endian counter, dynamic truncation, modulo 10^digits.
fn hotp(key: &hmac::Key, counter: u64, digits: u8) -> u32 {
    let tag = hmac::sign(key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let mut word = [0u8; 4];
    for (w, b) in word.iter_mut().zip(mac.iter().skip(offset)) {
        *w = *b;
    }
    let binary = u32::from_be_bytes(word) & 0x7fff_ffff;
    binary % 10u32.pow(u32::from(digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED20: &[u8] = b"12345678901234567890";
    const SEED32: &[u8] = b"12345678901234567890123456789012";
    const SEED64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    // Issue 15: RFC 4226 appendix D, HOTP values for counters 0 to 9.
    #[test]
    fn hotp_matches_rfc_4226_appendix_d() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        let p = TotpParams::default();
        for (counter, want) in expected.into_iter().enumerate() {
            assert_eq!(p.code_at(SEED20, counter as u64), want, "counter {counter}");
        }
    }

    // Issue 15: RFC 6238 appendix B, every time and algorithm, 8 digits.
    #[test]
    fn totp_matches_rfc_6238_appendix_b() {
        let rows: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        let period = Duration::from_secs(30);
        let sha1 = TotpParams::new(TotpAlgorithm::Sha1, 8, period).unwrap();
        let sha256 = TotpParams::new(TotpAlgorithm::Sha256, 8, period).unwrap();
        let sha512 = TotpParams::new(TotpAlgorithm::Sha512, 8, period).unwrap();
        for (t, c1, c256, c512) in rows {
            for (p, seed, want) in [
                (sha1, SEED20, c1),
                (sha256, SEED32, c256),
                (sha512, SEED64, c512),
            ] {
                let got = p.format(p.code_at(seed, t / 30));
                assert_eq!(got, want, "{} at {t}", p.algorithm());
                // UnixTime (u64 nanoseconds) ends in 2554; the last row lies beyond it.
                if t < 10_000_000_000 {
                    let now = UnixTime::from_secs(t);
                    assert_eq!(p.step_at(now), t / 30);
                    let code = p.parse_code(want).unwrap();
                    assert_eq!(
                        p.matching_step(seed, code, now, TotpWindow::default()),
                        Some(t / 30)
                    );
                }
            }
        }
    }

    #[test]
    fn the_window_is_one_step_back_and_one_ahead_by_default() {
        let p = TotpParams::default();
        let now = UnixTime::from_secs(1_700_000_000);
        let t = p.step_at(now);
        let w = TotpWindow::default();
        for (step, accepted) in [
            (t - 2, false),
            (t - 1, true),
            (t, true),
            (t + 1, true),
            (t + 2, false),
        ] {
            let code = p.code_at(SEED20, step);
            let got = p.matching_step(SEED20, code, now, w);
            if accepted {
                assert_eq!(got, Some(step), "step {step}");
            } else {
                // A neighbour could share the code by chance (10^-6); these do not.
                assert_eq!(got, None, "step {step}");
            }
        }
        let none = TotpWindow::new(0, 0).unwrap();
        assert_eq!(
            p.matching_step(SEED20, p.code_at(SEED20, t + 1), now, none),
            None
        );
    }

    #[test]
    fn codes_must_be_exactly_the_configured_ascii_digits() {
        let six = TotpParams::default();
        assert_eq!(six.parse_code("000000"), Some(0));
        assert_eq!(six.parse_code("012345"), Some(12345));
        for bad in [
            "",
            "12345",
            "1234567",
            " 012345",
            "012345 ",
            "+12345",
            "-12345",
            "12345a",
            "１２３４５６",
            "٠١٢٣٤٥",
        ] {
            assert_eq!(six.parse_code(bad), None, "{bad:?}");
        }
        let eight = TotpParams::new(TotpAlgorithm::Sha1, 8, Duration::from_secs(30)).unwrap();
        assert_eq!(eight.parse_code("012345"), None);
        assert_eq!(eight.parse_code("99999999"), Some(99_999_999));
    }

    #[test]
    fn params_and_algorithm_names_round_trip() {
        for a in [
            TotpAlgorithm::Sha1,
            TotpAlgorithm::Sha256,
            TotpAlgorithm::Sha512,
        ] {
            assert_eq!(TotpAlgorithm::from_name(a.as_str()), Some(a));
        }
        assert_eq!(TotpAlgorithm::from_name("sha1"), None);
        assert!(TotpParams::new(TotpAlgorithm::Sha1, 6, Duration::from_millis(1500)).is_err());
        assert!(TotpParams::new(TotpAlgorithm::Sha1, 6, Duration::ZERO).is_err());
        assert!(TotpParams::new(TotpAlgorithm::Sha1, 6, Duration::from_secs(601)).is_err());
        assert_eq!(TotpParams::default().format(7), "000007");
    }
}
