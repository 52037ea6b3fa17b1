//! Extracting credentials from request headers. Never panics, never reads the query string
//! (RFC 6750 section 5.3), and never logs what it finds.
// Built for `bearer` and `csrf`; each uses only part of it.
#![cfg_attr(not(all(feature = "bearer", feature = "csrf")), allow(dead_code))]

use auth_core::{AuthError, InvalidRequest};
use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};

/// Marks `Authorization` values sensitive so `Debug` output and HPACK indexing skip them.
pub(crate) fn mark_sensitive(headers: &mut HeaderMap) {
    if let http::header::Entry::Occupied(mut e) = headers.entry(AUTHORIZATION) {
        for v in e.iter_mut() {
            v.set_sensitive(true);
        }
    }
}

/// Whether `b` may appear in a token68 before its `=` padding.
#[inline]
fn is_token68_byte(b: u8) -> bool {
    // Non-short-circuiting `|` and `&` on purpose: no branch per byte, so the loop over a
    // token (hundreds of bytes, on every request) vectorizes.
    let lower = b | 0x20;
    (lower.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

/// RFC 7235 token68: the character set of a bearer token (RFC 6750 `b64token`).
fn is_token68(s: &[u8]) -> bool {
    let end = s.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    match s.get(..end) {
        Some(body) if !body.is_empty() => body.iter().fold(true, |ok, &b| ok & is_token68_byte(b)),
        _ => false,
    }
}

/// The bearer token from the `Authorization` header.
///
/// - `Ok(None)`: no `Authorization` header, or one for another scheme.
/// - `Err(InvalidRequest)`: several `Authorization` headers, an empty token, or a value that is
///   not `Bearer 1*SP token68` (or, for any scheme, not visible ASCII).
#[cfg(test)]
pub(crate) fn bearer_from_header(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    token_from_header(headers, false).map(|t| t.map(|(token, _)| token))
}

/// The access token from the `Authorization` header and whether its scheme is `DPoP` (RFC 9449
/// section 7.1; only accepted when `dpop` is true, otherwise another scheme). The token68 rules
/// of [`bearer_from_header`] apply to both schemes.
pub(crate) fn token_from_header(
    headers: &HeaderMap,
    dpop: bool,
) -> Result<Option<(&str, bool)>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(InvalidRequest::MultipleAuthorizationHeaders.into());
    }
    // Work on bytes: the token68 check below implies visible ASCII, so the bearer path scans
    // the token once instead of validating it as a string first.
    let bytes = value.as_bytes();
    let (scheme, rest) = match bytes.iter().position(|&b| b == b' ') {
        Some(i) => (
            bytes.get(..i).unwrap_or_default(),
            bytes.get(i + 1..).unwrap_or_default(),
        ),
        None => (bytes, &[][..]),
    };
    // Auth schemes are case-insensitive (RFC 7235 section 2.1).
    let is_dpop = dpop && scheme.eq_ignore_ascii_case(b"dpop");
    if !is_dpop && !scheme.eq_ignore_ascii_case(b"bearer") {
        // Another scheme is not ours, but a value that is not visible ASCII is malformed
        // whatever its scheme.
        return match value.to_str() {
            Ok(_) => Ok(None),
            Err(_) => Err(InvalidRequest::MalformedHeader.into()),
        };
    }
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let end = rest
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| (i + 1).max(start));
    let token = rest.get(start..end).unwrap_or_default();
    if token.is_empty() {
        // Only spaces and tabs after the scheme: visible ASCII, an empty token.
        return Err(InvalidRequest::EmptyToken.into());
    }
    if !is_token68(token) {
        return Err(InvalidRequest::MalformedHeader.into());
    }
    // token68 is ASCII, so this never fails.
    std::str::from_utf8(token)
        .map(|t| Some((t, is_dpop)))
        .map_err(|_| InvalidRequest::MalformedHeader.into())
}

/// The value of cookie `name`, across all `Cookie` headers (HTTP/2 may split them).
///
/// `Err(InvalidRequest::MultipleCredentials)` when the cookie appears more than once, since the
/// browser and the server would then disagree on which one counts.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, AuthError> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let Ok(s) = header.to_str() else { continue };
        for c in cookie::Cookie::split_parse(s).flatten() {
            if c.name() == name {
                if found.is_some() {
                    return Err(InvalidRequest::MultipleCredentials.into());
                }
                // Re-borrow the value from the header string so it lives as long as `headers`.
                let v = c.value();
                found = s
                    .find(v)
                    .and_then(|start| s.get(start..start + v.len()))
                    .filter(|_| !v.is_empty());
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(values: &[&str]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for v in values {
            m.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc", "BeArEr   abc"] {
            assert_eq!(bearer_from_header(&h(&[v])).unwrap(), Some("abc"), "{v}");
        }
    }

    #[test]
    fn other_schemes_and_absence_are_not_bearer_credentials() {
        assert_eq!(bearer_from_header(&h(&[])).unwrap(), None);
        assert_eq!(
            bearer_from_header(&h(&["Basic dXNlcjpwYXNz"])).unwrap(),
            None
        );
        assert_eq!(bearer_from_header(&h(&["Bearerabc"])).unwrap(), None);
    }

    // Issue 20: the DPoP scheme is read only where DPoP is on.
    #[test]
    fn the_dpop_scheme_is_a_credential_only_when_enabled() {
        let m = h(&["DPoP abc.def.ghi"]);
        assert_eq!(
            token_from_header(&m, true).unwrap(),
            Some(("abc.def.ghi", true))
        );
        assert_eq!(token_from_header(&m, false).unwrap(), None);
        assert_eq!(
            token_from_header(&h(&["dpop abc"]), true).unwrap(),
            Some(("abc", true))
        );
        assert_eq!(
            token_from_header(&h(&["Bearer abc"]), true).unwrap(),
            Some(("abc", false))
        );
        assert!(token_from_header(&h(&["DPoP a b"]), true).is_err());
    }

    #[test]
    fn malformed_values_are_invalid_requests() {
        let cases = [
            (
                vec!["Bearer a", "Bearer b"],
                InvalidRequest::MultipleAuthorizationHeaders,
            ),
            (vec!["Bearer"], InvalidRequest::EmptyToken),
            (vec!["Bearer    "], InvalidRequest::EmptyToken),
            (vec!["Bearer a b"], InvalidRequest::MalformedHeader),
            (vec!["Bearer a,b"], InvalidRequest::MalformedHeader),
            (vec!["Bearer ==="], InvalidRequest::MalformedHeader),
        ];
        for (values, expected) in cases {
            assert_eq!(
                bearer_from_header(&h(&values)).unwrap_err(),
                AuthError::InvalidRequest(expected),
                "{values:?}"
            );
        }
    }

    #[test]
    fn non_ascii_header_is_malformed() {
        let mut m = HeaderMap::new();
        m.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        assert_eq!(
            bearer_from_header(&m).unwrap_err(),
            AuthError::InvalidRequest(InvalidRequest::MalformedHeader)
        );
    }

    #[test]
    fn cookie_is_found_across_headers_and_duplicates_refused() {
        let mut m = HeaderMap::new();
        m.append(
            COOKIE,
            HeaderValue::from_static("a=1; access_token=tok.en.x"),
        );
        assert_eq!(cookie(&m, "access_token").unwrap(), Some("tok.en.x"));
        assert_eq!(cookie(&m, "missing").unwrap(), None);
        m.append(COOKIE, HeaderValue::from_static("access_token=other"));
        assert!(cookie(&m, "access_token").is_err());
    }

    #[test]
    fn sensitive_marking_covers_every_value() {
        let mut m = h(&["Bearer a", "Bearer b"]);
        mark_sensitive(&mut m);
        assert!(
            m.get_all(AUTHORIZATION)
                .iter()
                .all(HeaderValue::is_sensitive)
        );
    }
}
