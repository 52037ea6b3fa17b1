//! [`TokenParams`]: what a token is requested for (scopes, resources, audience); also the
//! cache key of a token within one [`TokenManager`](super::TokenManager).

use crate::error::ConfigError;

/// What an access token is requested for: `scope` (RFC 6749 section 3.3), `resource` (RFC
/// 8707) and `audience` (the parameter some servers, e.g. Auth0 and Keycloak token exchange,
/// use instead of `resource`).
///
/// Scopes and resources are kept sorted and without duplicates, so two parameter sets that
/// differ only in order are equal, and are the same cache entry; sets that differ in anything
/// else never share a token.
///
/// ```
/// use auth_core::oauth_client::TokenParams;
///
/// let a = TokenParams::new().scope("orders:read orders:write");
/// let b = TokenParams::new().scopes(["orders:write", "orders:read", "orders:read"]);
/// assert_eq!(a, b);
/// assert_eq!(a.scope_string().as_deref(), Some("orders:read orders:write"));
/// assert_ne!(a, TokenParams::new().scope("orders:read"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenParams {
    scopes: Vec<String>,
    resources: Vec<String>,
    audience: Option<String>,
}

fn insert_sorted(v: &mut Vec<String>, item: String) {
    if let Err(at) = v.binary_search(&item) {
        v.insert(at, item);
    }
}

impl TokenParams {
    /// No scope, resource or audience: the server's defaults for the client.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds scopes; `scope` may hold several separated by spaces (as `AUTH_OUTBOUND_SCOPE`
    /// does).
    #[must_use]
    pub fn scope(mut self, scope: &str) -> Self {
        for s in scope.split_whitespace() {
            insert_sorted(&mut self.scopes, s.to_owned());
        }
        self
    }

    /// Adds scopes, each possibly holding several separated by spaces.
    #[must_use]
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        scopes
            .into_iter()
            .fold(self, |params, s| params.scope(s.as_ref()))
    }

    /// Adds a resource indicator (RFC 8707: an absolute URI without a fragment).
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        insert_sorted(&mut self.resources, resource.into());
        self
    }

    /// Sets the `audience` parameter.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The scopes, sorted.
    #[must_use]
    pub fn scope_list(&self) -> &[String] {
        &self.scopes
    }

    /// The scopes as the space-separated `scope` parameter, or `None` without scopes.
    #[must_use]
    pub fn scope_string(&self) -> Option<String> {
        (!self.scopes.is_empty()).then(|| self.scopes.join(" "))
    }

    /// The resource indicators, sorted.
    #[must_use]
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// The audience, if set.
    #[must_use]
    pub fn audience_value(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Checks every value: scopes are RFC 6749 scope-tokens, resources are absolute URIs
    /// without a fragment, the audience is not empty; none contains control characters.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str, v: &str| {
            Err(ConfigError::Input(format!(
                "{what} `{}` is not acceptable",
                v.escape_debug()
            )))
        };
        for s in &self.scopes {
            // RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
            if !s
                .bytes()
                .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
            {
                return bad("scope", s);
            }
        }
        for r in &self.resources {
            let scheme_ok = r.split_once(':').is_some_and(|(scheme, rest)| {
                !rest.is_empty()
                    && scheme
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            });
            if !scheme_ok || r.contains('#') || r.chars().any(|c| c.is_control() || c == ' ') {
                return bad("resource (an absolute uri without fragment)", r);
            }
        }
        if let Some(a) = &self.audience
            && (a.is_empty() || a.chars().any(char::is_control))
        {
            return bad("audience", a);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_split_sorted_and_deduplicated() {
        let p = TokenParams::new()
            .scope("  b a ")
            .scopes(["c", "a"])
            .scope("");
        assert_eq!(p.scope_list(), ["a", "b", "c"]);
        assert_eq!(p.scope_string().as_deref(), Some("a b c"));
        assert_eq!(TokenParams::new().scope_string(), None);
    }

    #[test]
    fn invalid_values_are_refused() {
        assert!(TokenParams::new().scope("ok:scope").validate().is_ok());
        assert!(TokenParams::new().scope("quo\"te").validate().is_err());
        assert!(TokenParams::new().scope("back\\slash").validate().is_err());
        assert!(TokenParams::new().resource("urn:x:api").validate().is_ok());
        assert!(
            TokenParams::new()
                .resource("https://api.example/v1")
                .validate()
                .is_ok()
        );
        assert!(TokenParams::new().resource("no-scheme").validate().is_err());
        assert!(
            TokenParams::new()
                .resource("https://api.example/#frag")
                .validate()
                .is_err()
        );
        assert!(TokenParams::new().audience("").validate().is_err());
    }
}
