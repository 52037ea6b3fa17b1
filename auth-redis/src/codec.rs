//! How values are written to Redis: times as fixed-width decimal nanoseconds (so scripts compare
//! them exactly, as strings, with no floating point), digests as lowercase hex.

use std::time::Duration;

use auth_core::clock::UnixTime;

/// `t` as 20 decimal digits of nanoseconds: string order equals time order.
pub(crate) fn time20(t: UnixTime) -> String {
    format!("{:020}", t.as_nanos())
}

/// Reads what [`time20`] wrote (or any decimal nanoseconds).
pub(crate) fn parse_time(s: &str) -> Option<UnixTime> {
    s.parse::<u64>().ok().map(UnixTime::from_nanos)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if let Some(&c) = DIGITS.get(usize::from(nibble)) {
                s.push(char::from(c));
            }
        }
    }
    s
}

/// A Redis TTL in milliseconds for something that must live `d`: rounded up, at least 1 ms.
pub(crate) fn ttl_ms(d: Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

/// A duration in whole milliseconds (saturating), for retention periods handed to scripts.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_times_sort_like_numbers() {
        let a = time20(UnixTime::from_nanos(999));
        let b = time20(UnixTime::from_secs(1_700_000_000));
        assert_eq!(a.len(), 20);
        assert_eq!(b.len(), 20);
        assert!(a < b);
        assert_eq!(parse_time(&b), Some(UnixTime::from_secs(1_700_000_000)));
        assert_eq!(time20(UnixTime::from_nanos(u64::MAX)).len(), 20);
    }

    #[test]
    fn ttls_round_up_to_at_least_a_millisecond() {
        assert_eq!(ttl_ms(Duration::ZERO), 1);
        assert_eq!(ttl_ms(Duration::from_nanos(1_000_001)), 2);
        assert_eq!(ttl_ms(Duration::from_secs(2)), 2_000);
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
    }
}
