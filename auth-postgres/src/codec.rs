//! How values are written to the tables: times as Unix nanoseconds in `bigint`.

use auth_core::clock::UnixTime;

use crate::error::Error;

/// `t` as signed nanoseconds; instants past `i64::MAX` ns (the year 2262) are kept as that.
pub(crate) fn nanos(t: UnixTime) -> i64 {
    i64::try_from(t.as_nanos()).unwrap_or(i64::MAX)
}

/// Reads what [`nanos`] wrote.
pub(crate) fn time(op: &'static str, n: i64) -> Result<UnixTime, Error> {
    u64::try_from(n)
        .map(UnixTime::from_nanos)
        .map_err(|_| Error::unexpected(op, "negative time"))
}

/// A `u64` counter (a TOTP step) as `bigint`, order-preserving over the whole `u64` range
/// (0 is `i64::MIN`, `u64::MAX` is `i64::MAX`), so SQL comparisons compare steps.
pub(crate) fn step(s: u64) -> i64 {
    i64::from_be_bytes((s ^ (1 << 63)).to_be_bytes())
}

/// Reads what [`step`] wrote.
pub(crate) fn step_of(n: i64) -> u64 {
    u64::from_be_bytes(n.to_be_bytes()) ^ (1 << 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_steps_keep_their_order() {
        let t = UnixTime::from_nanos(1_700_000_000_123_456_789);
        assert_eq!(time("t", nanos(t)).unwrap(), t);
        assert_eq!(nanos(UnixTime::from_nanos(u64::MAX)), i64::MAX);
        assert!(time("t", -1).is_err());
        for (a, b) in [
            (0, 1),
            (1, 1 << 63),
            (1 << 63, u64::MAX - 1),
            (u64::MAX - 1, u64::MAX),
        ] {
            assert!(step(a) < step(b), "{a} < {b}");
            assert_eq!(step_of(step(a)), a);
        }
        assert_eq!(step_of(step(u64::MAX)), u64::MAX);
    }
}
