//! Where to send the browser after a login: only a same-origin relative path.

/// The longest return-to path kept (longer ones become `/`).
pub const MAX_RETURN_TO_LEN: usize = 512;

/// `raw` if it is a safe same-origin relative path, otherwise `"/"`.
///
/// Safe means: it starts with exactly one `/` (not `//`, which a browser reads as another
/// host, and not `/\`, which browsers treat the same way), it has no backslash, whitespace,
/// control or non-ASCII character anywhere (those must arrive percent-encoded), no scheme can
/// precede it (it starts with `/`), no encoded slash, backslash or dot (`%2F`, `%5C`, `%2E`)
/// hides in its path (a server or proxy that decodes them once would see `//host`), no `.` or
/// `..` path segment, and it is at most [`MAX_RETURN_TO_LEN`] bytes long.
///
/// This is an allow-list of one shape, not a clean-up: anything else is replaced, never
/// repaired.
///
/// ```
/// use auth_core::oidc_login::sanitize_return_to;
///
/// assert_eq!(sanitize_return_to(Some("/orders/42?tab=items")), "/orders/42?tab=items");
/// for evil in ["//evil.example", "https://evil.example", "/\\evil.example",
///              "/%2F%2Fevil.example", "javascript:alert(1)", "orders", "/a/../..//evil.example"] {
///     assert_eq!(sanitize_return_to(Some(evil)), "/", "{evil}");
/// }
/// assert_eq!(sanitize_return_to(None), "/");
/// ```
#[must_use]
pub fn sanitize_return_to(raw: Option<&str>) -> String {
    match raw {
        Some(path) if is_safe(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_safe(p: &str) -> bool {
    if p.is_empty() || p.len() > MAX_RETURN_TO_LEN {
        return false;
    }
    // Visible ASCII only: no whitespace, controls, non-ASCII (browsers strip tabs and newlines
    // from URLs, so "/\t/evil" would become "//evil").
    if !p.bytes().all(|b| b.is_ascii_graphic()) || p.contains('\\') {
        return false;
    }
    let mut chars = p.chars();
    if chars.next() != Some('/') || chars.next() == Some('/') {
        return false;
    }
    let path = p.split(['?', '#']).next().unwrap_or("");
    let lower = path.to_ascii_lowercase();
    if ["%2f", "%5c", "%2e"].iter().any(|e| lower.contains(e)) {
        return false;
    }
    !path.split('/').any(|seg| seg == "." || seg == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 14: the return-to of the issue's list, and other open-redirect shapes.
    #[test]
    fn only_same_origin_relative_paths_are_kept() {
        for ok in [
            "/",
            "/a",
            "/a/b?c=d&e=%2F",
            "/a#frag",
            "/%41bc",
            "/a.b/c..d",
        ] {
            assert_eq!(sanitize_return_to(Some(ok)), ok, "{ok}");
        }
        let long = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN));
        for bad in [
            "",
            "//evil.example",
            "///evil.example",
            "https://evil.example",
            "http:/evil.example",
            "/\\evil.example",
            "/a\\b",
            "/%2F%2Fevil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%2e%2e/x",
            "/\t/evil.example",
            "/ evil",
            "/é",
            "evil.example",
            "javascript:alert(1)",
            "/./x",
            "/a/..",
            long.as_str(),
        ] {
            assert_eq!(sanitize_return_to(Some(bad)), "/", "{bad:?}");
        }
    }
}
