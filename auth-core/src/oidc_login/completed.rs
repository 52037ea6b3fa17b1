//! [`CompletedLogin`]: what a successful callback proves, for the application to sign the user
//! in (or link the identity) with.

use std::fmt;

use serde_json::{Map, Value};

use super::identity::ExternalIdentity;
use crate::client_auth::Redacted;
use crate::clock::UnixTime;

/// A verified login: the provider's identity `(iss, sub)` from a validated ID token, its
/// claims, and what the login transaction carried (where to go next, the account to link).
///
/// Only [`OidcLogin::complete`](super::OidcLogin::complete) creates one. `Debug` hides the
/// access token and the claims.
#[derive(Clone)]
pub struct CompletedLogin {
    pub(crate) provider: String,
    pub(crate) identity: ExternalIdentity,
    pub(crate) claims: Map<String, Value>,
    pub(crate) userinfo: Option<Map<String, Value>>,
    pub(crate) return_to: String,
    pub(crate) link_to: Option<String>,
    pub(crate) email_linking: bool,
    pub(crate) access_token: Redacted,
    pub(crate) completed_at: UnixTime,
}

impl fmt::Debug for CompletedLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletedLogin")
            .field("provider", &self.provider)
            .field("identity", &self.identity)
            .field("return_to", &self.return_to)
            .field("link_to", &self.link_to)
            .field("completed_at", &self.completed_at)
            .finish_non_exhaustive()
    }
}

fn email_of(m: &Map<String, Value>) -> Option<(&str, bool)> {
    let email = m.get("email")?.as_str().filter(|e| !e.is_empty())?;
    let verified = m.get("email_verified").and_then(Value::as_bool) == Some(true);
    Some((email, verified))
}

impl CompletedLogin {
    /// The provider's configured name (e.g. `acme`).
    #[must_use]
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The `(iss, sub)` identity: the only key to find or link a local account by.
    #[must_use]
    pub fn identity(&self) -> &ExternalIdentity {
        &self.identity
    }

    /// The ID token's claims (validated: `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`).
    #[must_use]
    pub fn id_token_claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The userinfo response, when the provider is configured to fetch it.
    #[must_use]
    pub fn userinfo(&self) -> Option<&Map<String, Value>> {
        self.userinfo.as_ref()
    }

    /// The email the provider asserts (ID token first, then userinfo), verified or not: for
    /// display and contact, **not** for finding an existing account.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        email_of(&self.claims)
            .or_else(|| self.userinfo.as_ref().and_then(email_of))
            .map(|(e, _)| e)
    }

    /// Whether the provider says [`email`](Self::email) is verified (`email_verified: true`).
    #[must_use]
    pub fn email_verified(&self) -> bool {
        email_of(&self.claims)
            .or_else(|| self.userinfo.as_ref().and_then(email_of))
            .is_some_and(|(_, v)| v)
    }

    /// The email to link an existing local account by, only when the provider was configured
    /// with [`dangerous_link_by_verified_email`](super::ProviderConfig::dangerous_link_by_verified_email)
    /// **and** the provider says it is verified; `None` otherwise.
    #[must_use]
    pub fn email_for_linking(&self) -> Option<&str> {
        if self.email_linking && self.email_verified() {
            self.email()
        } else {
            None
        }
    }

    /// The sanitised return-to path (a same-origin relative path, `/` by default).
    #[must_use]
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// The local account this login should be linked to, when it was started with one (a
    /// signed-in user's "link a provider"); `None` for a sign-in.
    #[must_use]
    pub fn link_to(&self) -> Option<&str> {
        self.link_to.as_deref()
    }

    /// The provider's access token (for calls to the provider's APIs; never log it).
    #[must_use]
    pub fn access_token(&self) -> &str {
        self.access_token.expose()
    }

    /// When the callback completed (the login's authentication time for this application).
    #[must_use]
    pub fn completed_at(&self) -> UnixTime {
        self.completed_at
    }

    /// A login for tests, with `claims` as ID-token claims, not verified by anyone.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[must_use]
    pub fn insecure_for_tests(
        provider: &str,
        issuer: &str,
        subject: &str,
        claims: Map<String, Value>,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            identity: ExternalIdentity::new(issuer, subject),
            claims,
            userinfo: None,
            return_to: "/".to_owned(),
            link_to: None,
            email_linking: false,
            access_token: Redacted::new(String::new()),
            completed_at: UnixTime::from_secs(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn login(claims: Value, email_linking: bool) -> CompletedLogin {
        CompletedLogin {
            provider: "acme".into(),
            identity: ExternalIdentity::new("https://idp.example", "u1"),
            claims: claims.as_object().cloned().unwrap(),
            userinfo: None,
            return_to: "/".into(),
            link_to: None,
            email_linking,
            access_token: Redacted::new("at-secret"),
            completed_at: UnixTime::from_secs(1),
        }
    }

    #[test]
    fn email_for_linking_needs_the_opt_in_and_a_verified_email() {
        let verified = json!({"email": "a@example.com", "email_verified": true});
        let unverified = json!({"email": "a@example.com", "email_verified": false});
        let unstated = json!({"email": "a@example.com"});
        assert_eq!(login(verified.clone(), false).email_for_linking(), None);
        assert_eq!(
            login(verified, true).email_for_linking(),
            Some("a@example.com")
        );
        assert_eq!(login(unverified.clone(), true).email_for_linking(), None);
        assert_eq!(login(unstated, true).email_for_linking(), None);
        assert_eq!(login(unverified, true).email(), Some("a@example.com"));
    }

    #[test]
    fn debug_hides_the_access_token_and_claims() {
        let l = login(json!({"email": "secret@example.com"}), false);
        let shown = format!("{l:?}");
        assert!(!shown.contains("at-secret") && !shown.contains("secret@example.com"));
    }
}
