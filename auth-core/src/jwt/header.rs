//! Parsing of the JOSE header, strict and borrowed.

use std::borrow::Cow;

use serde::Deserialize;

use super::algorithm::Algorithm;
use super::claims::Str;
use crate::error::InvalidToken;

/// What a verifier reads from a token's header. `jwk`, `jku`, `x5u` and `x5c` are ignored on
/// purpose: keys never come from the token itself.
#[derive(Debug)]
pub(crate) struct TokenHeader<'a> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<Cow<'a, str>>,
    pub(crate) typ: Option<Cow<'a, str>>,
}

// `Option<Cow<str>>` is always deserialized owned (serde borrows a `Cow` only outside an
// `Option`); `Str` borrows whenever the string has no escapes, so a header costs no allocation.
#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Str<'a>>,
    #[serde(borrow, default)]
    typ: Option<Str<'a>>,
    #[serde(default)]
    crit: Presence,
    #[serde(default)]
    b64: Presence,
}

/// Records that a member was present, whatever its value (even `null`).
#[derive(Default)]
struct Presence(bool);

impl<'de> Deserialize<'de> for Presence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Self(true))
    }
}

/// The decoded bytes of a header or payload as UTF-8 text. RFC 7515 section 5.2 requires
/// rejecting a header that is not UTF-8; checked before any JSON parsing because serde_json
/// skips the members it ignores without validating their bytes.
pub(crate) fn utf8(json: &[u8]) -> Result<&str, InvalidToken> {
    std::str::from_utf8(json).map_err(|_| InvalidToken::BadJson)
}

/// Parses the decoded header JSON. Duplicate members are refused by serde's derive.
pub(crate) fn parse(json: &[u8]) -> Result<TokenHeader<'_>, InvalidToken> {
    let raw: RawHeader<'_> =
        serde_json::from_str(utf8(json)?).map_err(|_| InvalidToken::BadJson)?;
    // We implement no JWS extension, so any `crit` (even an empty one, which RFC 7515
    // section 4.1.11 forbids) makes the token unacceptable.
    if raw.crit.0 {
        return Err(InvalidToken::UnsupportedCritical);
    }
    // RFC 7797 `b64` changes what the signature covers. We never support unencoded payloads,
    // so its mere presence (whatever the value, and even without `crit`, which RFC 7797
    // requires alongside it) makes the token unacceptable.
    if raw.b64.0 {
        return Err(InvalidToken::UnencodedPayload);
    }
    let alg = Algorithm::from_name(&raw.alg).ok_or(InvalidToken::UnsupportedAlgorithm)?;
    Ok(TokenHeader {
        alg,
        kid: raw.kid.map(|s| s.0),
        typ: raw.typ.map(|s| s.0),
    })
}

/// RFC 7515 section 4.1.9: `typ` is a media type, compared case-insensitively, and the
/// `application/` prefix may be omitted.
pub(crate) fn typ_matches(actual: &str, required: &str) -> bool {
    fn strip(s: &str) -> &str {
        match s.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => s.get(12..).unwrap_or(""),
            _ => s,
        }
    }
    strip(actual).eq_ignore_ascii_case(strip(required))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_unsupported() {
        for alg in ["none", "None", "NONE"] {
            let h = format!(r#"{{"alg":"{alg}"}}"#);
            assert_eq!(
                parse(h.as_bytes()).unwrap_err(),
                InvalidToken::UnsupportedAlgorithm
            );
        }
    }

    #[test]
    fn crit_is_refused_and_duplicates_are_bad_json() {
        assert_eq!(
            parse(br#"{"alg":"HS256","crit":["exp"]}"#).unwrap_err(),
            InvalidToken::UnsupportedCritical
        );
        assert_eq!(
            parse(br#"{"alg":"HS256","crit":null}"#).unwrap_err(),
            InvalidToken::UnsupportedCritical
        );
        assert_eq!(
            parse(br#"{"alg":"HS256","crit":[]}"#).unwrap_err(),
            InvalidToken::UnsupportedCritical
        );
        assert_eq!(
            parse(br#"{"alg":"HS256","alg":"none"}"#).unwrap_err(),
            InvalidToken::BadJson
        );
        assert_eq!(parse(b"[1]").unwrap_err(), InvalidToken::BadJson);
        assert_eq!(parse(br#"{"alg":5}"#).unwrap_err(), InvalidToken::BadJson);
    }

    #[test]
    fn headers_that_are_not_utf8_are_bad_json() {
        // Issue 12, item 11: the invalid bytes sit in a member serde_json would skip.
        assert_eq!(
            parse(b"{\"alg\":\"HS256\",\"x\":\"\xff\"}").unwrap_err(),
            InvalidToken::BadJson
        );
        assert!(parse("{\"alg\":\"HS256\",\"x\":\"\u{e9}\"}".as_bytes()).is_ok());
    }

    #[test]
    fn b64_is_refused_whatever_its_value() {
        // Issue 12, item 12.
        for v in ["false", "true", "null", "{}"] {
            let h = format!(r#"{{"alg":"HS256","b64":{v}}}"#);
            assert_eq!(
                parse(h.as_bytes()).unwrap_err(),
                InvalidToken::UnencodedPayload
            );
        }
    }

    #[test]
    fn typ_comparison_follows_rfc7515() {
        assert!(typ_matches("at+jwt", "at+jwt"));
        assert!(typ_matches("application/AT+JWT", "at+jwt"));
        assert!(!typ_matches("JWT", "at+jwt"));
        assert!(!typ_matches("", "at+jwt"));
    }

    #[test]
    fn kid_and_typ_are_read() {
        let h = parse(br#"{"alg":"ES256","kid":"k1","typ":"at+jwt","jku":"http://x"}"#).unwrap();
        assert_eq!(h.alg, Algorithm::ES256);
        assert_eq!(h.kid.as_deref(), Some("k1"));
        assert_eq!(h.typ.as_deref(), Some("at+jwt"));
    }
}
