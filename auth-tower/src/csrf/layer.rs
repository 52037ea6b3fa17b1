use std::sync::Arc;

use auth_core::ConfigError;
use http::HeaderName;
use tower_layer::Layer;

use super::service::Csrf;
use crate::response::DefaultRejection;

/// The default name of the header that echoes the CSRF cookie.
pub const DEFAULT_CSRF_HEADER: &str = "x-csrf-token";

/// Validated, shared configuration of a [`CsrfLayer`].
#[derive(Debug)]
pub(crate) struct CsrfConfig {
    /// Double-submit: the readable cookie and the header that must echo it.
    pub(crate) double_submit: Option<(Box<str>, HeaderName)>,
    /// Allowed `Origin` values (`scheme://host[:port]`), compared exactly.
    pub(crate) origins: Vec<Box<str>>,
    /// When not empty, requests no authentication layer recorded a credential for are checked
    /// only if they carry one of these cookies.
    pub(crate) session_cookies: Vec<Box<str>>,
}

/// Layer that protects cookie-authenticated unsafe requests against CSRF. See the
/// [module docs](super).
///
/// `R` renders rejections (default: [`DefaultRejection`]).
#[derive(Clone, Debug)]
#[must_use]
pub struct CsrfLayer<R = DefaultRejection> {
    config: Arc<CsrfConfig>,
    responder: R,
}

impl CsrfLayer {
    /// Starts building a layer.
    pub fn builder() -> CsrfLayerBuilder {
        CsrfLayerBuilder {
            double_submit: None,
            header: DEFAULT_CSRF_HEADER.to_owned(),
            origins: Vec::new(),
            session_cookies: Vec::new(),
        }
    }
}

impl<R> CsrfLayer<R> {
    /// Replaces the responder that renders rejections.
    pub fn responder<R2>(self, responder: R2) -> CsrfLayer<R2> {
        CsrfLayer {
            config: self.config,
            responder,
        }
    }
}

impl<S, R: Clone> Layer<S> for CsrfLayer<R> {
    type Service = Csrf<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Csrf::from_parts(inner, Arc::clone(&self.config), self.responder.clone())
    }
}

/// Builds a [`CsrfLayer`]; created by [`CsrfLayer::builder`].
#[derive(Debug)]
#[must_use]
pub struct CsrfLayerBuilder {
    double_submit: Option<String>,
    header: String,
    origins: Vec<String>,
    session_cookies: Vec<String>,
}

fn is_cookie_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// `scheme://host[:port]`, lowercase scheme and host, no path, as browsers send `Origin`.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !rest.is_empty()
        && rest.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
        })
}

impl CsrfLayerBuilder {
    /// Double-submit check: unsafe cookie-authenticated requests must echo the value of the
    /// readable cookie `cookie` in the CSRF header (default `X-CSRF-Token`); the two are compared
    /// in constant time. Set the cookie with
    /// [`SessionCookies::csrf`](crate::cookies::SessionCookies::csrf).
    pub fn double_submit(mut self, cookie: impl Into<String>) -> Self {
        self.double_submit = Some(cookie.into());
        self
    }

    /// The header that echoes the CSRF cookie (default `x-csrf-token`).
    pub fn header_name(mut self, name: impl Into<String>) -> Self {
        self.header = name.into();
        self
    }

    /// Allows unsafe requests whose `Origin` is exactly `origin` (`https://app.example.com`,
    /// with a port if not the default). Call again for several. With an allow-list, an unsafe
    /// cookie-authenticated request with another `Origin` is refused; one without `Origin` is
    /// refused unless the double-submit check is also configured (and then must pass it).
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// A session cookie (the access-token cookie, or the refresh-token cookie of a route that
    /// reads it); call again for several. When no authentication layer recorded which
    /// credential authenticated the request (a route that verifies cookies itself, or an
    /// anonymous request), an unsafe request is checked only if it carries one of these
    /// cookies (or one of them twice): without them it cannot ride on a victim's session.
    /// Without any session cookie configured, every such unsafe request is checked.
    ///
    /// Requests an authentication layer authenticated are decided by its record
    /// ([`CredentialSource`](crate::CredentialSource)) instead: exempt when a header credential
    /// authenticated them, checked otherwise.
    pub fn session_cookie(mut self, name: impl Into<String>) -> Self {
        self.session_cookies.push(name.into());
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyValue`] when neither a double-submit cookie nor an allowed origin
    /// is configured (the layer would check nothing); [`ConfigError::InvalidHeaderValue`] for
    /// a cookie or header name that is not a valid token, or an origin that is not
    /// `http(s)://host[:port]` in lowercase.
    pub fn build(self) -> Result<CsrfLayer, ConfigError> {
        if self.double_submit.is_none() && self.origins.is_empty() {
            return Err(ConfigError::EmptyValue(
                "csrf protection (double-submit cookie or allowed origin)",
            ));
        }
        let header_name = |n: &str, what: &'static str| {
            HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| ConfigError::InvalidHeaderValue { what })
        };
        let double_submit = match self.double_submit {
            Some(cookie) if is_cookie_name(&cookie) => Some((
                cookie.into_boxed_str(),
                header_name(&self.header, "csrf header name")?,
            )),
            Some(_) => {
                return Err(ConfigError::InvalidHeaderValue {
                    what: "csrf cookie name",
                });
            }
            None => None,
        };
        if self.session_cookies.iter().any(|c| !is_cookie_name(c)) {
            return Err(ConfigError::InvalidHeaderValue {
                what: "session cookie name",
            });
        }
        if self.origins.iter().any(|o| !is_origin(o)) {
            return Err(ConfigError::InvalidHeaderValue {
                what: "allowed origin",
            });
        }
        Ok(CsrfLayer {
            config: Arc::new(CsrfConfig {
                double_submit,
                origins: self
                    .origins
                    .into_iter()
                    .map(String::into_boxed_str)
                    .collect(),
                session_cookies: self
                    .session_cookies
                    .into_iter()
                    .map(String::into_boxed_str)
                    .collect(),
            }),
            responder: DefaultRejection,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_that_checks_nothing_is_refused() {
        assert!(CsrfLayer::builder().build().is_err());
    }

    #[test]
    fn origins_must_be_exact_lowercase_origins() {
        for ok in [
            "https://app.example.com",
            "http://127.0.0.1:3000",
            "https://[::1]:8443",
        ] {
            assert!(
                CsrfLayer::builder().allowed_origin(ok).build().is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "app.example.com",
            "https://App.example.com",
            "https://app.example.com/",
            "null",
            "ftp://x",
            "https://",
        ] {
            assert!(
                CsrfLayer::builder().allowed_origin(bad).build().is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn names_must_be_tokens() {
        assert!(CsrfLayer::builder().double_submit("a b").build().is_err());
        assert!(
            CsrfLayer::builder()
                .double_submit("csrf")
                .header_name("x y")
                .build()
                .is_err()
        );
        assert!(
            CsrfLayer::builder()
                .double_submit("csrf")
                .session_cookie("a;b")
                .build()
                .is_err()
        );
        assert!(
            CsrfLayer::builder()
                .double_submit("csrf")
                .session_cookie("access_token")
                .session_cookie("a b")
                .build()
                .is_err()
        );
    }
}
