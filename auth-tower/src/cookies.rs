//! `Set-Cookie` values for browser sessions: the access token, the refresh token, the CSRF
//! token, and clearing them at logout.
//!
//! | cookie | attributes | why |
//! |---|---|---|
//! | access token | `HttpOnly; Secure; SameSite=Lax; Path=/` | scripts cannot read it; sent on top-level navigation, not on cross-site subrequests |
//! | refresh token | `HttpOnly; Secure; SameSite=Strict; Path=<refresh path>` | only ever sent to the refresh endpoint, never cross-site |
//! | CSRF token | `Secure; SameSite=Lax; Path=/` (readable) | the page's script echoes it in `X-CSRF-Token` ([`crate::csrf`]) |
//!
//! Every cookie gets a `Max-Age` (the token's lifetime); clearing sends the same name, path
//! and domain with an empty value, `Max-Age=0` and an `Expires` in the past.
//!
//! # Example
//!
//! ```
//! use auth_tower::cookies::SessionCookies;
//! use std::time::Duration;
//!
//! let cookies = SessionCookies::builder().refresh_path("/auth/refresh").build()?;
//! let set = cookies.access("eyJhbGciOi.eyJzdWIi.c2ln", Duration::from_secs(900))?;
//! let set = set.to_str().unwrap();
//! assert!(set.starts_with("access_token=eyJhbGciOi.eyJzdWIi.c2ln;"));
//! for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=900"] {
//!     assert!(set.contains(attr), "{set}");
//! }
//! let clear = cookies.clear_refresh();
//! assert!(clear.to_str().unwrap().contains("Max-Age=0"));
//! # Ok::<(), auth_core::ConfigError>(())
//! ```
//!
//! # Security considerations
//!
//! - `Secure` is always set. Browsers accept `Secure` cookies from `http://localhost`, so local
//!   development works; anywhere else, serve HTTPS.
//! - Pair cookie authentication with [`CsrfLayer`](crate::csrf::CsrfLayer) for unsafe methods.
//! - Values are checked against the RFC 6265 cookie-value grammar, so a token can never inject
//!   attributes.

use std::time::Duration;

use auth_core::ConfigError;
use cookie::{Cookie, SameSite};
use http::HeaderValue;

/// Names, paths and domain of a browser session's cookies. Build once; cheap to share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCookies {
    access: Box<str>,
    refresh: Box<str>,
    refresh_path: Box<str>,
    csrf: Box<str>,
    domain: Option<Box<str>>,
}

/// Builds [`SessionCookies`]; created by [`SessionCookies::builder`].
#[derive(Debug)]
#[must_use]
pub struct SessionCookiesBuilder {
    access: String,
    refresh: String,
    refresh_path: String,
    csrf: String,
    domain: Option<String>,
}

impl SessionCookiesBuilder {
    /// The access-token cookie's name (default `access_token`); give the same name to
    /// `BearerLayer::builder(v).cookie(..)`.
    pub fn access_name(mut self, name: impl Into<String>) -> Self {
        self.access = name.into();
        self
    }

    /// The refresh-token cookie's name (default `refresh_token`).
    pub fn refresh_name(mut self, name: impl Into<String>) -> Self {
        self.refresh = name.into();
        self
    }

    /// The path of the refresh endpoint, the only path the refresh cookie is sent to (default
    /// `/auth/refresh`).
    pub fn refresh_path(mut self, path: impl Into<String>) -> Self {
        self.refresh_path = path.into();
        self
    }

    /// The readable CSRF cookie's name (default `csrf_token`).
    pub fn csrf_name(mut self, name: impl Into<String>) -> Self {
        self.csrf = name.into();
        self
    }

    /// A `Domain` attribute (default none: host-only cookies, the safer choice).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] for a name that is not an RFC 6265 token, a path that
    /// does not start with `/` or holds `;`, spaces or control characters, or such a domain.
    pub fn build(self) -> Result<SessionCookies, ConfigError> {
        for (name, what) in [
            (&self.access, "access cookie name"),
            (&self.refresh, "refresh cookie name"),
            (&self.csrf, "csrf cookie name"),
        ] {
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            if !token {
                return Err(ConfigError::InvalidHeaderValue { what });
            }
        }
        let attr_ok =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b';');
        if !self.refresh_path.starts_with('/') || !attr_ok(&self.refresh_path) {
            return Err(ConfigError::InvalidHeaderValue {
                what: "refresh cookie path",
            });
        }
        if self.domain.as_deref().is_some_and(|d| !attr_ok(d)) {
            return Err(ConfigError::InvalidHeaderValue {
                what: "cookie domain",
            });
        }
        Ok(SessionCookies {
            access: self.access.into_boxed_str(),
            refresh: self.refresh.into_boxed_str(),
            refresh_path: self.refresh_path.into_boxed_str(),
            csrf: self.csrf.into_boxed_str(),
            domain: self.domain.map(String::into_boxed_str),
        })
    }
}

/// RFC 6265 `cookie-octet`.
fn is_cookie_value(v: &str) -> bool {
    v.bytes()
        .all(|b| matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e))
}

impl SessionCookies {
    /// A builder with the default names (`access_token`, `refresh_token`, `csrf_token`) and
    /// refresh path (`/auth/refresh`).
    pub fn builder() -> SessionCookiesBuilder {
        SessionCookiesBuilder {
            access: "access_token".to_owned(),
            refresh: "refresh_token".to_owned(),
            refresh_path: "/auth/refresh".to_owned(),
            csrf: "csrf_token".to_owned(),
            domain: None,
        }
    }

    /// The access-token cookie's name.
    #[must_use]
    pub fn access_name(&self) -> &str {
        &self.access
    }

    /// The refresh-token cookie's name.
    #[must_use]
    pub fn refresh_name(&self) -> &str {
        &self.refresh
    }

    /// The refresh cookie's path.
    #[must_use]
    pub fn refresh_path(&self) -> &str {
        &self.refresh_path
    }

    /// The CSRF cookie's name.
    #[must_use]
    pub fn csrf_name(&self) -> &str {
        &self.csrf
    }

    fn cookie<'c>(
        &'c self,
        name: &'c str,
        value: &'c str,
        path: &'c str,
        http_only: bool,
        same_site: SameSite,
    ) -> Cookie<'c> {
        let mut b = Cookie::build((name, value))
            .path(path)
            .secure(true)
            .http_only(http_only)
            .same_site(same_site);
        if let Some(d) = self.domain.as_deref() {
            b = b.domain(d);
        }
        b.build()
    }

    fn set(
        &self,
        name: &str,
        value: &str,
        path: &str,
        http_only: bool,
        same_site: SameSite,
        max_age: Duration,
    ) -> Result<HeaderValue, ConfigError> {
        if value.is_empty() || !is_cookie_value(value) {
            return Err(ConfigError::InvalidHeaderValue {
                what: "cookie value",
            });
        }
        let mut c = self.cookie(name, value, path, http_only, same_site);
        let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        c.set_max_age(cookie::time::Duration::seconds(secs));
        header(&c)
    }

    fn clear(&self, name: &str, path: &str, http_only: bool, same_site: SameSite) -> HeaderValue {
        let mut c = self.cookie(name, "", path, http_only, same_site);
        c.make_removal();
        // Names, path and domain were validated at build time; an empty value is valid.
        header(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
    }

    /// `Set-Cookie` for the access token: `HttpOnly; Secure; SameSite=Lax; Path=/`, with
    /// `Max-Age` (use the token's lifetime).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] when `token` is empty or not a valid cookie value.
    pub fn access(&self, token: &str, max_age: Duration) -> Result<HeaderValue, ConfigError> {
        self.set(&self.access, token, "/", true, SameSite::Lax, max_age)
    }

    /// `Set-Cookie` for the refresh token: `HttpOnly; Secure; SameSite=Strict`, scoped to the
    /// refresh path, with `Max-Age`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] when `token` is empty or not a valid cookie value.
    pub fn refresh(&self, token: &str, max_age: Duration) -> Result<HeaderValue, ConfigError> {
        self.set(
            &self.refresh,
            token,
            &self.refresh_path,
            true,
            SameSite::Strict,
            max_age,
        )
    }

    /// `Set-Cookie` for the CSRF token: readable by scripts (no `HttpOnly`), `Secure;
    /// SameSite=Lax; Path=/`, with `Max-Age`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] when `token` is empty or not a valid cookie value.
    pub fn csrf(&self, token: &str, max_age: Duration) -> Result<HeaderValue, ConfigError> {
        self.set(&self.csrf, token, "/", false, SameSite::Lax, max_age)
    }

    /// `Set-Cookie` that deletes the access-token cookie.
    #[must_use]
    pub fn clear_access(&self) -> HeaderValue {
        self.clear(&self.access, "/", true, SameSite::Lax)
    }

    /// `Set-Cookie` that deletes the refresh-token cookie (same path as when set).
    #[must_use]
    pub fn clear_refresh(&self) -> HeaderValue {
        self.clear(&self.refresh, &self.refresh_path, true, SameSite::Strict)
    }

    /// `Set-Cookie` that deletes the CSRF cookie.
    #[must_use]
    pub fn clear_csrf(&self) -> HeaderValue {
        self.clear(&self.csrf, "/", false, SameSite::Lax)
    }

    /// The three `Set-Cookie` values a logout response sends.
    #[must_use]
    pub fn clear_all(&self) -> [HeaderValue; 3] {
        [self.clear_access(), self.clear_refresh(), self.clear_csrf()]
    }
}

fn header(c: &Cookie<'_>) -> Result<HeaderValue, ConfigError> {
    HeaderValue::from_str(&c.to_string())
        .map_err(|_| ConfigError::InvalidHeaderValue { what: "cookie" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &HeaderValue) -> Cookie<'static> {
        Cookie::parse(v.to_str().unwrap().to_owned()).unwrap()
    }

    #[test]
    fn access_cookie_is_http_only_secure_lax_at_root() {
        let c = SessionCookies::builder().build().unwrap();
        let v = parse(&c.access("a.b.c", Duration::from_secs(900)).unwrap());
        assert_eq!((v.name(), v.value()), ("access_token", "a.b.c"));
        assert_eq!(v.http_only(), Some(true));
        assert_eq!(v.secure(), Some(true));
        assert_eq!(v.same_site(), Some(SameSite::Lax));
        assert_eq!(v.path(), Some("/"));
        assert_eq!(v.max_age(), Some(cookie::time::Duration::seconds(900)));
        assert_eq!(v.domain(), None);
    }

    #[test]
    fn refresh_cookie_is_strict_and_scoped_to_the_refresh_path() {
        let c = SessionCookies::builder()
            .refresh_path("/api/auth/refresh")
            .domain("example.com")
            .build()
            .unwrap();
        let v = parse(
            &c.refresh("r-token_1", Duration::from_secs(30 * 86_400))
                .unwrap(),
        );
        assert_eq!(v.name(), "refresh_token");
        assert_eq!(v.http_only(), Some(true));
        assert_eq!(v.secure(), Some(true));
        assert_eq!(v.same_site(), Some(SameSite::Strict));
        assert_eq!(v.path(), Some("/api/auth/refresh"));
        assert_eq!(v.domain(), Some("example.com"));
        assert_eq!(v.max_age(), Some(cookie::time::Duration::days(30)));
    }

    #[test]
    fn csrf_cookie_is_readable_by_scripts() {
        let c = SessionCookies::builder().build().unwrap();
        let v = parse(&c.csrf("tok", Duration::from_secs(60)).unwrap());
        assert_eq!(v.http_only(), None);
        assert_eq!(v.secure(), Some(true));
        assert_eq!(v.same_site(), Some(SameSite::Lax));
    }

    #[test]
    fn clearing_matches_name_and_path_and_expires_now() {
        let c = SessionCookies::builder().build().unwrap();
        let [access, refresh, csrf] = c.clear_all();
        for (v, name, path) in [
            (access, "access_token", "/"),
            (refresh, "refresh_token", "/auth/refresh"),
            (csrf, "csrf_token", "/"),
        ] {
            let p = parse(&v);
            assert_eq!((p.name(), p.value(), p.path()), (name, "", Some(path)));
            assert_eq!(p.max_age(), Some(cookie::time::Duration::ZERO));
            assert!(p.expires_datetime().is_some());
            assert_eq!(p.secure(), Some(true));
        }
    }

    #[test]
    fn values_cannot_inject_attributes() {
        let c = SessionCookies::builder().build().unwrap();
        for bad in ["a; Domain=evil.com", "a b", "a\"b", "a,b", "", "é"] {
            assert!(c.access(bad, Duration::from_secs(1)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn builder_validates_names_paths_and_domains() {
        assert!(
            SessionCookies::builder()
                .access_name("a b")
                .build()
                .is_err()
        );
        assert!(
            SessionCookies::builder()
                .refresh_path("auth")
                .build()
                .is_err()
        );
        assert!(
            SessionCookies::builder()
                .refresh_path("/a;b")
                .build()
                .is_err()
        );
        assert!(SessionCookies::builder().domain("a b").build().is_err());
    }
}
