//! Which URLs keys may be fetched from.

use crate::error::ConfigError;

/// Checks that `url` is absolute `https://`, or `http://` to a loopback host (`127.0.0.1`,
/// `[::1]`, `localhost`) unless `allow_plain_http` is set; that it has a host and no user
/// information or fragment.
pub(crate) fn check(url: &str, allow_plain_http: bool) -> Result<(), ConfigError> {
    let bad = |why: &str| Err(ConfigError::InvalidUrl(format!("`{url}`: {why}")));
    let (secure, rest) = if let Some(r) = strip_prefix_ci(url, "https://") {
        (true, r)
    } else if let Some(r) = strip_prefix_ci(url, "http://") {
        (false, r)
    } else {
        return bad("must be an absolute https:// url");
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("contains whitespace or control characters");
    }
    if url.contains('#') {
        return bad("must not have a fragment");
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.contains('@') {
        return bad("must not contain user information");
    }
    let host = host_of(authority);
    if host.is_empty() {
        return bad("has no host");
    }
    if !secure && !allow_plain_http && !is_loopback(host) {
        return bad(
            "plain http is only accepted for loopback hosts (keys fetched over http can be \
             replaced in transit); use https",
        );
    }
    Ok(())
}

/// Whether `url` starts with `https://` (any case).
#[cfg(any(feature = "oidc-login", test))]
pub(crate) fn is_https(url: &str) -> bool {
    strip_prefix_ci(url, "https://").is_some()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

fn host_of(authority: &str) -> &str {
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().map_or("", |h| h);
    }
    authority.split(':').next().unwrap_or("")
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `issuer` + `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 section 4:
/// a trailing `/` on the issuer is removed first).
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_and_http_only_for_loopback() {
        assert!(check("https://idp.example/jwks", false).is_ok());
        assert!(check("HTTPS://idp.example:8443/a?b=c", false).is_ok());
        assert!(check("http://127.0.0.1:4000/jwks", false).is_ok());
        assert!(check("http://localhost/jwks", false).is_ok());
        assert!(check("http://[::1]:9/jwks", false).is_ok());
        assert!(check("http://idp.example/jwks", false).is_err());
        assert!(check("http://10.0.0.1/jwks", false).is_err());
        assert!(check("http://idp.example/jwks", true).is_ok());
        assert!(is_https("HTTPS://idp.example") && !is_https("http://127.0.0.1"));
    }

    #[test]
    fn malformed_urls_are_refused() {
        for u in [
            "idp.example/jwks",
            "ftp://idp.example/jwks",
            "https://",
            "https:///jwks",
            "https://user:pw@idp.example/jwks",
            "https://idp.example/jwks#frag",
            "https://idp.example/j wks",
            "http://127.0.0.1.evil.example/jwks",
        ] {
            assert!(check(u, false).is_err(), "{u}");
        }
    }

    #[test]
    fn discovery_url_drops_one_trailing_slash_form() {
        assert_eq!(
            discovery_url("https://idp.example/tenant/"),
            "https://idp.example/tenant/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://idp.example"),
            "https://idp.example/.well-known/openid-configuration"
        );
    }
}
