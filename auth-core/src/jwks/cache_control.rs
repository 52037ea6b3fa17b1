//! `Cache-Control` reading (RFC 9111 section 5.2): only what a key cache needs.

use std::time::Duration;

/// The freshness lifetime a response asks for: `max-age` in seconds, `Some(0)` for
/// `no-cache`/`no-store` (the caller's lower bound then applies), `None` when the header says
/// nothing about it. A malformed or duplicated `max-age` counts as absent.
pub(crate) fn max_age(header: Option<&str>) -> Option<Duration> {
    let header = header?;
    let mut max_age = None;
    let mut seen = 0usize;
    let mut no_cache = false;
    for directive in header.split(',') {
        let directive = directive.trim();
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("max-age") {
            seen += 1;
            // RFC 9111 section 1.2.2: delta-seconds is 1*DIGIT; a quoted form is tolerated.
            max_age = value
                .map(|v| v.trim_matches('"'))
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                // Saturate absurdly large values; the caller clamps to its maximum anyway.
                .map(|v| v.parse::<u64>().unwrap_or(u64::MAX))
                .map(Duration::from_secs);
        } else if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            no_cache = true;
        }
    }
    if no_cache {
        return Some(Duration::ZERO);
    }
    if seen == 1 { max_age } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn max_age_is_read_among_other_directives() {
        assert_eq!(max_age(Some("max-age=300")), secs(300));
        assert_eq!(
            max_age(Some("public, max-age=3600, must-revalidate")),
            secs(3600)
        );
        assert_eq!(max_age(Some("Max-Age = 60")), secs(60));
        assert_eq!(max_age(Some(r#"max-age="90""#)), secs(90));
    }

    #[test]
    fn absent_or_malformed_max_age_is_none() {
        assert_eq!(max_age(None), None);
        assert_eq!(max_age(Some("public")), None);
        assert_eq!(max_age(Some("max-age=")), None);
        assert_eq!(max_age(Some("max-age=-5")), None);
        assert_eq!(max_age(Some("max-age=1e3")), None);
        assert_eq!(max_age(Some("max-age=10, max-age=20")), None);
    }

    #[test]
    fn no_cache_and_no_store_ask_for_the_minimum() {
        assert_eq!(max_age(Some("no-cache")), secs(0));
        assert_eq!(max_age(Some("max-age=600, no-store")), secs(0));
    }

    #[test]
    fn huge_values_saturate() {
        assert_eq!(
            max_age(Some("max-age=99999999999999999999999")),
            Some(Duration::from_secs(u64::MAX))
        );
    }
}
