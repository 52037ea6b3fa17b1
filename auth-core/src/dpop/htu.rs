//! `htu`: the request URI a DPoP proof names, rebuilt from a configured external origin and
//! compared after RFC 3986 normalisation.

use std::fmt;

use crate::error::ConfigError;

/// The origin (and optional path prefix) clients use to reach this server, e.g.
/// `https://api.example` or `https://example.com/orders-service` behind a proxy that strips
/// the prefix. A proof's `htu` is compared with this origin plus the request's path: never
/// with the `Host` header, which a client or a proxy can set to anything.
///
/// ```
/// use auth_core::dpop::ExternalOrigin;
///
/// let origin = ExternalOrigin::parse("HTTPS://API.example:443/")?;
/// assert_eq!(origin.as_str(), "https://api.example");
/// assert_eq!(origin.htu("/orders/7"), "https://api.example/orders/7");
///
/// let prefixed = ExternalOrigin::parse("https://example.com/orders-service")?;
/// assert_eq!(prefixed.htu("/7"), "https://example.com/orders-service/7");
/// assert!(ExternalOrigin::parse("https://api.example/?q").is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalOrigin(Box<str>);

impl fmt::Debug for ExternalOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ExternalOrigin").field(&&*self.0).finish()
    }
}

impl ExternalOrigin {
    /// Parses `http(s)://host[:port][/prefix]`, normalised (lower-case scheme and host, no
    /// default port, no trailing `/`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] for another scheme, user info, a query or fragment, or an
    /// invalid percent-encoding.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if url.contains(['?', '#']) {
            return Err(ConfigError::InvalidUrl(format!(
                "external origin `{}` must not have a query or fragment",
                url.escape_debug()
            )));
        }
        let normalised = normalize(url).ok_or_else(|| {
            ConfigError::InvalidUrl(format!(
                "external origin `{}` is not http(s)://host[:port][/prefix]",
                url.escape_debug()
            ))
        })?;
        let trimmed = normalised.strip_suffix('/').unwrap_or(&normalised);
        Ok(Self(trimmed.into()))
    }

    /// The normalised origin (and prefix), without a trailing `/`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `htu` a proof for a request to `path` must carry (normalised like a proof's).
    #[must_use]
    pub fn htu(&self, path: &str) -> String {
        let mut s = String::with_capacity(self.0.len() + path.len() + 1);
        s.push_str(&self.0);
        if !path.starts_with('/') {
            s.push('/');
        }
        s.push_str(path);
        normalize(&s).unwrap_or(s)
    }
}

/// RFC 9449 section 4.3 / RFC 3986 sections 6.2.2 and 6.2.3: the URI without query and
/// fragment, scheme and host in lower case, the default port removed, an empty path as `/`,
/// percent-encodings in upper case and unreserved characters decoded. `None` for something that
/// is not an absolute `http(s)` URI with a host, or that has user info or a bad `%` escape.
pub(crate) fn normalize(uri: &str) -> Option<String> {
    let uri = uri.split(['?', '#']).next().unwrap_or("");
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    // The port follows the last `:` after any IPv6 literal's `]`.
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    let (host, port) = match authority.get(host_end..).and_then(|t| t.rfind(':')) {
        Some(i) => {
            let split = host_end + i;
            (authority.get(..split)?, Some(authority.get(split + 1..)?))
        }
        None => (authority.as_str(), None),
    };
    if host.is_empty() || port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut out = String::with_capacity(uri.len());
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(host);
    match port {
        Some(p) if !p.is_empty() && p != default_port => {
            out.push(':');
            out.push_str(p);
        }
        _ => {}
    }
    if path.is_empty() {
        out.push('/');
    } else {
        normalize_path(path, &mut out)?;
    }
    Some(out)
}

fn normalize_path(path: &str, out: &mut String) -> Option<()> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (*hex.first()? as char).to_digit(16)?;
            let lo = (*hex.get(1)? as char).to_digit(16)?;
            let value = u8::try_from(hi * 16 + lo).ok()?;
            if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(value));
            } else {
                out.push('%');
                out.push(char::from(hex.first()?.to_ascii_uppercase()));
                out.push(char::from(hex.get(1)?.to_ascii_uppercase()));
            }
            i += 3;
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    // Only ASCII input keeps the byte-to-char copy above exact.
    path.is_ascii().then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_normalised_as_rfc_3986_says() {
        for (raw, want) in [
            (
                "https://Server.Example.com/token",
                "https://server.example.com/token",
            ),
            (
                "HTTPS://server.example.com:443/a?b=c#d",
                "https://server.example.com/a",
            ),
            ("http://h:80", "http://h/"),
            ("http://h:8080/%7euser/%2f", "http://h:8080/~user/%2F"),
            ("https://[::1]:8443/x", "https://[::1]:8443/x"),
        ] {
            assert_eq!(normalize(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn uris_that_are_not_http_or_carry_user_info_are_refused() {
        for raw in [
            "ftp://h/x",
            "https://user@h/x",
            "https:///x",
            "h/x",
            "https://h/%zz",
            "https://h:x/",
            "https://h/é",
        ] {
            assert_eq!(normalize(raw), None, "{raw}");
        }
    }
}
