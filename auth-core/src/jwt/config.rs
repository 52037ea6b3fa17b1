//! [`JwtVerifierBuilder`]: every setting is checked in [`build`](JwtVerifierBuilder::build),
//! never per request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::claims::ClaimNames;
use super::key::{KeySet, VerificationKey};
use super::resolver::{KeyResolver, StaticKeys};
use super::verifier::{ClaimCheck, JwtVerifier, VerifierInner};
use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::principal::Principal;

/// The default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// The largest leeway a verifier accepts.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The default maximum token length, checked before anything is decoded.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

const REGISTERED: [&str; 7] = ["sub", "iss", "aud", "exp", "nbf", "iat", "jti"];

/// Builds a [`JwtVerifier`]. Created by [`JwtVerifier::builder`].
///
/// Defaults: 30 s leeway, 8 KiB maximum token length, `exp` and `sub` required, scopes from
/// `scope` (space-delimited) and `scp` (array), roles from `roles`, the system clock. An
/// audience is required unless [`dangerous_accept_any_audience`] is called.
///
/// [`dangerous_accept_any_audience`]: JwtVerifierBuilder::dangerous_accept_any_audience
#[must_use]
pub struct JwtVerifierBuilder {
    keys: Vec<VerificationKey>,
    resolver: Option<Arc<dyn KeyResolver>>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    any_audience: bool,
    leeway: Duration,
    required_typ: Option<String>,
    max_token_len: usize,
    names: ClaimNames,
    clock: Arc<dyn Clock>,
    checks: Vec<ClaimCheck>,
}

impl fmt::Debug for JwtVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifierBuilder")
            .field("keys", &self.keys)
            .field("resolver", &self.resolver)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl Default for JwtVerifierBuilder {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            resolver: None,
            issuers: Vec::new(),
            audiences: Vec::new(),
            any_audience: false,
            leeway: DEFAULT_LEEWAY,
            required_typ: None,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            names: ClaimNames::default(),
            clock: Arc::new(SystemClock),
            checks: Vec::new(),
        }
    }
}

impl JwtVerifierBuilder {
    /// Adds a verification key.
    pub fn key(mut self, key: VerificationKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds several verification keys.
    pub fn keys(mut self, keys: impl IntoIterator<Item = VerificationKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// Uses a custom key source instead of (or, if keys were added, in place of) a static set.
    pub fn key_resolver(mut self, resolver: impl KeyResolver) -> Self {
        self.resolver = Some(Arc::new(resolver));
        self
    }

    /// Requires `iss` to equal this value (call again to accept several issuers).
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuers.push(iss.into());
        self
    }

    /// Requires `aud` to contain this value (call again to accept several audiences).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// Accepts tokens whatever their `aud`.
    ///
    /// **Protection lost:** a token minted by the same issuer for any other service is accepted
    /// here too (RFC 9068 section 4 requires resource servers to check `aud`).
    pub fn dangerous_accept_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat` (default 30 s, at most 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires the header `typ` to be this media type, e.g. `"at+jwt"` (RFC 9068).
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.required_typ = Some(typ.into());
        self
    }

    /// Maximum token length in bytes, enforced before any decoding (default 8 KiB).
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// Name of the space-delimited scope claim (default `scope`).
    pub fn scope_claim(mut self, name: impl Into<String>) -> Self {
        self.names.scope = name.into();
        self
    }

    /// Name of the array scope claim (default `scp`).
    pub fn scp_claim(mut self, name: impl Into<String>) -> Self {
        self.names.scp = name.into();
        self
    }

    /// Name of the roles claim, an array of strings (default `roles`).
    pub fn roles_claim(mut self, name: impl Into<String>) -> Self {
        self.names.roles = name.into();
        self
    }

    /// The clock every time check reads (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds a custom check run on every token after all built-in checks passed. Return
    /// `Err(reason)` to reject the token as `INVALID_TOKEN`; the reason goes to logs only.
    pub fn check<F>(mut self, f: F) -> Self
    where
        F: Fn(&Principal) -> Result<(), String> + Send + Sync + 'static,
    {
        self.checks.push(Arc::new(f));
        self
    }

    /// Validates the configuration and builds the verifier.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when no keys are configured, two keys share a `kid`, no audience is set
    /// (and the dangerous opt-out was not used), the leeway exceeds 300 s, the maximum token
    /// length is zero, or an issuer, audience or claim name is empty or invalid.
    pub fn build(self) -> Result<JwtVerifier, ConfigError> {
        let resolver: Arc<dyn KeyResolver> = match self.resolver {
            Some(r) => r,
            None => Arc::new(StaticKeys::new(KeySet::new(self.keys)?)),
        };
        if self.audiences.is_empty() && !self.any_audience {
            return Err(ConfigError::MissingAudience);
        }
        if self.issuers.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyValue("issuer"));
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyValue("audience"));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge {
                secs: self.leeway.as_secs(),
                max: MAX_LEEWAY.as_secs(),
            });
        }
        if self.max_token_len == 0 {
            return Err(ConfigError::ZeroMaxTokenLength);
        }
        if self.required_typ.as_ref().is_some_and(String::is_empty) {
            return Err(ConfigError::EmptyValue("required type"));
        }
        for n in [&self.names.scope, &self.names.scp, &self.names.roles] {
            if n.is_empty() || REGISTERED.contains(&n.as_str()) {
                return Err(ConfigError::InvalidClaimName(n.clone()));
            }
        }
        Ok(JwtVerifier::from_inner(VerifierInner {
            resolver,
            issuers: self.issuers,
            audiences: if self.any_audience {
                None
            } else {
                Some(self.audiences)
            },
            leeway: self.leeway,
            required_typ: self.required_typ,
            max_token_len: self.max_token_len,
            names: self.names,
            clock: self.clock,
            checks: self.checks,
        }))
    }
}
