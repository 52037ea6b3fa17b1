//! How the relying party authenticates at the token endpoint: a public client (PKCE only, its
//! `client_id` in the form), `client_secret_basic` or `client_secret_post`.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::form::{self, Form};

/// A client secret; `Debug` prints `REDACTED`.
#[derive(Clone)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Self {
        Self(Arc::from(s.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

/// The client's credentials at the token endpoint.
#[derive(Clone, Debug)]
pub(crate) enum ClientCredentials {
    /// A public client: no secret; PKCE is what binds the code to this client instance.
    Public,
    /// `client_secret_basic` (RFC 6749 section 2.3.1).
    Basic(Secret),
    /// `client_secret_post`.
    Post(Secret),
}

impl ClientCredentials {
    /// The `token_endpoint_auth_method` name (RFC 7591).
    pub(crate) const fn method(&self) -> &'static str {
        match self {
            Self::Public => "none",
            Self::Basic(_) => "client_secret_basic",
            Self::Post(_) => "client_secret_post",
        }
    }

    /// Adds the credentials to a token request: returns the `Authorization` header to send, if
    /// any, and appends form pairs to `form`.
    pub(crate) fn apply(&self, client_id: &str, form: &mut Form) -> Option<String> {
        match self {
            Self::Public => {
                form.pair("client_id", client_id);
                None
            }
            Self::Basic(secret) => Some(basic_authorization(client_id, secret.expose())),
            Self::Post(secret) => {
                form.pair("client_id", client_id);
                form.pair("client_secret", secret.expose());
                None
            }
        }
    }
}

/// `Basic base64(form(id) ":" form(secret))` (RFC 6749 section 2.3.1: each part
/// form-urlencoded first, so `:` and non-ASCII characters survive).
fn basic_authorization(client_id: &str, secret: &str) -> String {
    let mut pair = form::encode(client_id);
    pair.push(':');
    form::encode_into(&mut pair, secret);
    format!("Basic {}", STANDARD.encode(pair))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_puts_the_credentials_where_it_should() {
        let mut f = Form::default();
        assert_eq!(ClientCredentials::Public.apply("rp", &mut f), None);
        assert_eq!(f.as_str(), "client_id=rp");

        let mut f = Form::default();
        let basic = ClientCredentials::Basic(Secret::new("s:e cr+et"));
        let header = basic.apply("my rp", &mut f).unwrap();
        assert!(f.as_str().is_empty());
        let raw = STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(raw, b"my+rp:s%3Ae+cr%2Bet");

        let mut f = Form::default();
        let post = ClientCredentials::Post(Secret::new("p&q"));
        assert_eq!(post.apply("rp", &mut f), None);
        assert_eq!(f.as_str(), "client_id=rp&client_secret=p%26q");
        assert!(!format!("{post:?}").contains("p&q"));
    }
}
