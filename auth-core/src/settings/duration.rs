//! Durations in settings: a whole number of seconds (`30`) or a number with a unit (`"500ms"`,
//! `"30s"`, `"15m"`, `"1h"`, `"7d"`).

use std::fmt;
use std::time::Duration;

use serde::{Deserializer, Serializer, de};

/// Parses a duration as settings write it: digits followed by `ms`, `s`, `m`, `h` or `d`
/// (surrounding spaces ignored); bare digits are seconds.
///
/// ```
/// use auth_core::settings::parse_duration;
/// use std::time::Duration;
///
/// assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
/// assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert!(parse_duration("1.5h").is_err());
/// assert!(parse_duration("-1s").is_err());
/// ```
///
/// # Errors
///
/// A message saying what is expected, when the text is not of that form or overflows.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let bad = || {
        format!(
            "`{}` is not a duration: write seconds (`30`) or a whole number with a unit \
             (`500ms`, `30s`, `15m`, `1h`, `7d`)",
            text.escape_debug()
        )
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let (per, millis) = match unit.trim() {
        "" | "s" => (1, false),
        "ms" => (1, true),
        "m" => (60, false),
        "h" => (3600, false),
        "d" => (86_400, false),
        _ => return Err(bad()),
    };
    let value = n.checked_mul(per).ok_or_else(bad)?;
    Ok(if millis {
        Duration::from_millis(value)
    } else {
        Duration::from_secs(value)
    })
}

/// The shortest exact text [`parse_duration`] reads back as `d`.
pub(crate) fn format_duration(d: Duration) -> String {
    // Sub-second values (anything below a millisecond is dropped: settings cannot say it).
    if d.subsec_nanos() != 0 {
        return format!("{}ms", d.as_millis());
    }
    let s = d.as_secs();
    match s {
        0 => "0s".to_owned(),
        s if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        s if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        s if s.is_multiple_of(60) => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

struct DurationVisitor;

impl de::Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration: seconds, or a string such as \"30s\", \"15m\" or \"500ms\"")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_secs)
            .map_err(|_| E::custom(format!("a duration cannot be negative ({v})")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration(v).map_err(E::custom)
    }
}

/// Reads one duration (seconds, or text with a unit).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

/// `#[serde(with = "duration::option")]` for `Option<Duration>`.
pub(crate) mod option {
    use super::*;

    #[allow(clippy::ref_option)] // serde's `with` hands us `&Option<T>`
    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        super::deserialize(d).map(Some)
    }
}

/// `#[serde(with = "duration::list")]` for `Vec<Duration>`.
#[cfg_attr(not(feature = "brute-force"), allow(dead_code))]
pub(crate) mod list {
    use serde::Deserialize;

    use super::*;

    #[derive(serde::Deserialize)]
    struct One(#[serde(deserialize_with = "super::deserialize")] Duration);

    #[allow(clippy::ptr_arg)] // serde's `with` hands us `&Vec<T>`
    pub(crate) fn serialize<S: Serializer>(d: &Vec<Duration>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(d.iter().map(|d| format_duration(*d)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Ok(Vec::<One>::deserialize(d)?
            .into_iter()
            .map(|o| o.0)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatted_durations_parse_back_to_themselves() {
        for ms in [
            0, 1, 999, 1000, 1500, 30_000, 60_000, 90_000, 3_600_000, 86_400_000,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{ms}");
        }
        assert_eq!(format_duration(Duration::from_secs(900)), "15m");
        assert_eq!(format_duration(Duration::from_secs(86_400)), "1d");
    }

    #[test]
    fn malformed_durations_say_what_is_expected() {
        for bad in [
            "",
            "s",
            "1.5s",
            "-1",
            "1 y",
            "30 secs",
            "99999999999999999999d",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("is not a duration"), "{bad}: {err}");
        }
        assert_eq!(parse_duration(" 7d "), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("5 m"), Ok(Duration::from_secs(300)));
    }
}
