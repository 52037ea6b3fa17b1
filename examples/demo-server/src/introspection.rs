//! Opaque tokens of the OpenID Provider (`AUTH_OIDC_ISSUER`), introspected (RFC 7662).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_OIDC_INTROSPECTION` | `true`: the provider's opaque (not JWT-shaped) access tokens are sent to its `introspection_endpoint` (from its discovery document); its JWTs are still verified locally | `false` |
//! | `AUTH_OIDC_CLIENT_ID` | the demo's client id at the provider (`client_secret_basic`); required with introspection | |
//! | `AUTH_OIDC_CLIENT_SECRET` | its secret; required with introspection | |
//! | `AUTH_OIDC_INTROSPECTION_TTL` | seconds an active answer is cached at most (never past the token's `exp`): the **revocation delay**, how long a token revoked at the provider is still accepted | `60` |
//!
//! Inactive answers are cached for 5 s; a provider that fails or does not answer within 5 s
//! gives 503 `AUTH_BACKEND_UNAVAILABLE` (never cached), not 401. The cache is keyed by an HMAC
//! of the token under a per-process random key, and concurrent requests with one token share
//! one introspection request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::ConfigError;
use auth_core::client_auth::ClientAuth;
use auth_core::clock::Clock;
use auth_core::introspection::{DEFAULT_ACTIVE_TTL, Introspector};

/// The longest `AUTH_OIDC_INTROSPECTION_TTL` accepted (an hour).
const MAX_TTL_SECS: u64 = 3600;

/// `AUTH_OIDC_INTROSPECTION=true` with its client credentials and cache bound.
#[derive(Clone, PartialEq, Eq)]
pub struct IntrospectionConfig {
    /// `AUTH_OIDC_CLIENT_ID`.
    pub client_id: String,
    client_secret: String,
    /// `AUTH_OIDC_INTROSPECTION_TTL`: how long an active answer is cached at most.
    pub active_ttl: Duration,
}

impl fmt::Debug for IntrospectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"REDACTED")
            .field("active_ttl", &self.active_ttl)
            .finish()
    }
}

impl IntrospectionConfig {
    /// Reads `AUTH_OIDC_INTROSPECTION*` and `AUTH_OIDC_CLIENT_*`; `has_issuer` says whether
    /// `AUTH_OIDC_ISSUER` is set.
    ///
    /// # Errors
    ///
    /// A message naming the variable at fault: introspection without `AUTH_OIDC_ISSUER` or
    /// without the client credentials, a value other than `true`/`false`, or a TTL that is not
    /// a number of seconds within 0..=3600.
    pub fn from_env(
        get: &impl Fn(&str) -> Option<String>,
        has_issuer: bool,
    ) -> Result<Option<Self>, ConfigError> {
        let input = |m: &str| ConfigError::Input(m.to_owned());
        let on = match get("AUTH_OIDC_INTROSPECTION").as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(input("AUTH_OIDC_INTROSPECTION must be `true` or `false`")),
        };
        if !on {
            if get("AUTH_OIDC_INTROSPECTION_TTL").is_some() {
                return Err(input(
                    "AUTH_OIDC_INTROSPECTION_TTL needs AUTH_OIDC_INTROSPECTION=true",
                ));
            }
            return Ok(None);
        }
        if !has_issuer {
            return Err(input("AUTH_OIDC_INTROSPECTION needs AUTH_OIDC_ISSUER"));
        }
        let (Some(client_id), Some(client_secret)) =
            (get("AUTH_OIDC_CLIENT_ID"), get("AUTH_OIDC_CLIENT_SECRET"))
        else {
            return Err(input(
                "AUTH_OIDC_INTROSPECTION needs AUTH_OIDC_CLIENT_ID and AUTH_OIDC_CLIENT_SECRET",
            ));
        };
        let active_ttl = match get("AUTH_OIDC_INTROSPECTION_TTL") {
            None => DEFAULT_ACTIVE_TTL,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(secs) if secs <= MAX_TTL_SECS => Duration::from_secs(secs),
                _ => {
                    return Err(input(
                        "AUTH_OIDC_INTROSPECTION_TTL must be a number of seconds (0 to 3600)",
                    ));
                }
            },
        };
        // The credentials' own checks, here so the message names the variables.
        ClientAuth::client_secret_basic(client_id.clone(), client_secret.clone())
            .map_err(|e| ConfigError::Input(format!("AUTH_OIDC_CLIENT_ID / _SECRET: {e}")))?;
        Ok(Some(Self {
            client_id,
            client_secret,
            active_ttl,
        }))
    }

    /// The introspector for `issuer` (endpoint by discovery), requiring `audience`.
    ///
    /// # Errors
    ///
    /// When the issuer URL or the credentials are invalid.
    pub fn build(
        &self,
        issuer: &str,
        audience: &str,
        clock: &Arc<dyn Clock>,
    ) -> Result<Introspector, ConfigError> {
        let auth = ClientAuth::client_secret_basic(&*self.client_id, &*self.client_secret)?;
        Introspector::builder(auth, issuer)
            .audience(audience)
            .active_ttl(self.active_ttl)
            .shared_clock(Arc::clone(clock))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn introspection_is_off_by_default_and_needs_issuer_and_credentials() {
        assert_eq!(
            IntrospectionConfig::from_env(&env(&[]), true).unwrap(),
            None
        );
        let on = [("AUTH_OIDC_INTROSPECTION", "true")];
        assert!(IntrospectionConfig::from_env(&env(&on), true).is_err());
        let full = [
            on[0],
            ("AUTH_OIDC_CLIENT_ID", "demo"),
            ("AUTH_OIDC_CLIENT_SECRET", "s3cr3t"),
        ];
        assert!(IntrospectionConfig::from_env(&env(&full), false).is_err());
        let c = IntrospectionConfig::from_env(&env(&full), true)
            .unwrap()
            .unwrap();
        assert_eq!(c.active_ttl, Duration::from_secs(60));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        for bad in [
            [("AUTH_OIDC_INTROSPECTION", "yes")].as_slice(),
            &[("AUTH_OIDC_INTROSPECTION_TTL", "5")],
            &[
                full[0],
                full[1],
                full[2],
                ("AUTH_OIDC_INTROSPECTION_TTL", "-1"),
            ],
            &[
                full[0],
                full[1],
                full[2],
                ("AUTH_OIDC_INTROSPECTION_TTL", "3601"),
            ],
        ] {
            assert!(
                IntrospectionConfig::from_env(&env(bad), true).is_err(),
                "{bad:?}"
            );
        }
        let short = [
            full[0],
            full[1],
            full[2],
            ("AUTH_OIDC_INTROSPECTION_TTL", "1"),
        ];
        let c = IntrospectionConfig::from_env(&env(&short), true)
            .unwrap()
            .unwrap();
        assert_eq!(c.active_ttl, Duration::from_secs(1));
    }
}
