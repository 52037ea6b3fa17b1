//! [`check_url`]: the transport rule for the URLs outbound calls go to.

use crate::error::ConfigError;

/// Checks a URL an access token will be sent to (a downstream API's base URL) by the same rule
/// as token endpoints, issuers and JWKS URLs: absolute `https://`, or `http://` only to a
/// loopback host (`127.0.0.0/8`, `[::1]`, `localhost`); a host, no user information, no
/// fragment, no whitespace.
///
/// ```
/// use auth_core::oauth_client::check_url;
///
/// assert!(check_url("https://orders.example/api").is_ok());
/// assert!(check_url("http://127.0.0.1:8080").is_ok());
/// assert!(check_url("http://orders.example").is_err());
/// ```
///
/// # Errors
///
/// [`ConfigError::InvalidUrl`] saying what is wrong.
pub fn check_url(url: &str) -> Result<(), ConfigError> {
    crate::jwks::url::check(url, false)
}
