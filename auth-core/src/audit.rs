//! The audit trail: one `INFO` event per authentication or authorization decision.
//!
//! Every layer of `auth-tower` (bearer, API key, scope, step-up, brute force, CSRF) and the
//! demo's login, refresh, logout and MFA handlers describe each decision as an [`AuditEvent`]
//! and hand it to [`AuditEvent::emit`], which writes exactly one `tracing` event at `INFO`
//! under the target [`TARGET`] (`auth::audit`). The field names are stable (see [`field`]);
//! fields that are unknown for a decision are left out, never filled with a placeholder.
//!
//! | field | value |
//! |---|---|
//! | `outcome` | [`Outcome`]: `success` or `failure` |
//! | `method` | [`Method`]: `bearer`, `api_key`, `scope`, `step_up`, `brute_force`, `csrf`, `login`, ... |
//! | `reason` | the [`ErrorCode`] of a failure (`TOKEN_EXPIRED`, `INSUFFICIENT_SCOPE`, ...) |
//! | `subject` | the principal's subject, once it is known |
//! | `issuer` | the token's issuer, once it is known |
//! | `client` | the client address, as the brute-force layer resolves it (trusted proxies honoured) |
//! | `route` | the route template (axum's `MatchedPath`, e.g. `/orders/{id}`), never the raw path |
//! | `request_id` | the request's `x-request-id`, when it is set and well-formed |
//! | `account` | for logins: a keyed digest of the account name ([`AccountDigester`]), never the name |
//!
//! # What never appears
//!
//! No token, secret, password, API key or account name (email) is a field of an audit event.
//! The subject is the token's `sub`, which an issuer should make an opaque identifier; the
//! account name someone typed at a login is reduced to a keyed digest, so the trail can still
//! tell that one account was tried from many addresses without storing who it is.
//!
//! # Routing the trail
//!
//! The events are ordinary `tracing` events; any subscriber can route them. With
//! `tracing-subscriber`, keep the trail in its own JSON file while the rest of the log goes to
//! standard output:
//!
//! ```text
//! use tracing_subscriber::{filter::Targets, fmt, prelude::*};
//! let audit = fmt::layer().json().with_writer(audit_file)
//!     .with_filter(Targets::new().with_target(auth_core::audit::TARGET, tracing::Level::INFO));
//! let rest = fmt::layer().with_filter(Targets::new().with_default(tracing::Level::INFO)
//!     .with_target(auth_core::audit::TARGET, tracing::level_filters::LevelFilter::OFF));
//! tracing_subscriber::registry().with(audit).with(rest).init();
//! ```
//!
//! (The README's "Audit trail" section has this as a tested example.)
//!
//! # Example
//!
//! ```
//! use auth_core::ErrorCode;
//! use auth_core::audit::{AuditEvent, Method, Outcome};
//!
//! AuditEvent::new(Outcome::Failure, Method::Bearer)
//!     .reason(ErrorCode::TokenExpired)
//!     .route("/orders/{id}")
//!     .client(&"203.0.113.9")
//!     .emit();
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ErrorCode;
use crate::principal::Principal;

/// The `tracing` target of every audit event.
pub const TARGET: &str = "auth::audit";

/// The field names of an audit event, for filters and log pipelines.
pub mod field {
    /// [`Outcome`](super::Outcome): `success` or `failure`.
    pub const OUTCOME: &str = "outcome";
    /// [`Method`](super::Method).
    pub const METHOD: &str = "method";
    /// The [`ErrorCode`](crate::ErrorCode) of a failure.
    pub const REASON: &str = "reason";
    /// The principal's subject.
    pub const SUBJECT: &str = "subject";
    /// The token's issuer.
    pub const ISSUER: &str = "issuer";
    /// The client address (as the brute-force layer resolves it).
    pub const CLIENT: &str = "client";
    /// The route template.
    pub const ROUTE: &str = "route";
    /// The request id.
    pub const REQUEST_ID: &str = "request_id";
    /// The keyed digest of a login's account name.
    pub const ACCOUNT: &str = "account";
    /// Every field, in the order they are written.
    pub const ALL: [&str; 9] = [
        OUTCOME, METHOD, REASON, SUBJECT, ISSUER, CLIENT, ROUTE, REQUEST_ID, ACCOUNT,
    ];
}

/// Whether a decision let the request through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Authenticated, or authorized.
    Success,
    /// Refused.
    Failure,
}

impl Outcome {
    /// `"success"` or `"failure"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which check made the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// A JWT bearer token from the `Authorization` header.
    Bearer,
    /// A JWT from a session cookie.
    Cookie,
    /// An API key.
    ApiKey,
    /// A scope, role or permission requirement (authorization).
    Scope,
    /// A step-up requirement (`amr`/`acr`/`auth_time`; authorization).
    StepUp,
    /// The brute-force limiter refused an attempt.
    BruteForce,
    /// The CSRF check refused a cookie-authenticated request.
    Csrf,
    /// A password login.
    Login,
    /// A refresh-token exchange.
    Refresh,
    /// A logout.
    Logout,
    /// A second factor (TOTP or recovery code).
    Mfa,
}

impl Method {
    /// The stable name, e.g. `"api_key"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::Cookie => "cookie",
            Self::ApiKey => "api_key",
            Self::Scope => "scope",
            Self::StepUp => "step_up",
            Self::BruteForce => "brute_force",
            Self::Csrf => "csrf",
            Self::Login => "login",
            Self::Refresh => "refresh",
            Self::Logout => "logout",
            Self::Mfa => "mfa",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision, ready to be written with [`emit`](Self::emit).
///
/// Borrowed fields only: building an event allocates nothing.
#[derive(Clone, Copy)]
#[must_use = "an audit event is written by `emit`"]
pub struct AuditEvent<'a> {
    outcome: Outcome,
    method: Method,
    reason: Option<ErrorCode>,
    subject: Option<&'a str>,
    issuer: Option<&'a str>,
    client: Option<&'a dyn fmt::Display>,
    route: Option<&'a str>,
    request_id: Option<&'a str>,
    account: Option<&'a AccountDigest>,
}

impl<'a> AuditEvent<'a> {
    /// An event with only its outcome and method.
    pub fn new(outcome: Outcome, method: Method) -> Self {
        Self {
            outcome,
            method,
            reason: None,
            subject: None,
            issuer: None,
            client: None,
            route: None,
            request_id: None,
            account: None,
        }
    }

    /// A failure of `method` for `reason`.
    pub fn failure(method: Method, reason: ErrorCode) -> Self {
        Self::new(Outcome::Failure, method).reason(reason)
    }

    /// The outcome.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The method.
    #[must_use]
    pub fn method(&self) -> Method {
        self.method
    }

    /// The reason, for failures.
    #[must_use]
    pub fn reason_code(&self) -> Option<ErrorCode> {
        self.reason
    }

    /// Sets the reason (the [`ErrorCode`] the client is answered with).
    pub fn reason(mut self, code: ErrorCode) -> Self {
        self.reason = Some(code);
        self
    }

    /// Sets the subject.
    pub fn subject(mut self, subject: &'a str) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Sets the issuer.
    pub fn issuer(mut self, issuer: &'a str) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Sets subject and issuer from `principal`.
    pub fn principal(mut self, principal: &'a Principal) -> Self {
        self.subject = Some(principal.subject());
        self.issuer = principal.issuer();
        self
    }

    /// Sets the client address (anything that displays as one, e.g. a brute-force `ClientKey`).
    pub fn client(mut self, client: &'a dyn fmt::Display) -> Self {
        self.client = Some(client);
        self
    }

    /// Sets the route template (never the raw path: it may carry identifiers).
    pub fn route(mut self, route: &'a str) -> Self {
        self.route = Some(route);
        self
    }

    /// Sets the request id; ignored unless it is [`is_plain_request_id`].
    pub fn request_id(mut self, id: &'a str) -> Self {
        if is_plain_request_id(id) {
            self.request_id = Some(id);
        }
        self
    }

    /// Sets the keyed digest of the login's account name.
    pub fn account(mut self, account: &'a AccountDigest) -> Self {
        self.account = Some(account);
        self
    }

    /// Writes the event: `INFO`, target [`TARGET`].
    pub fn emit(&self) {
        tracing::info!(
            target: "auth::audit",
            outcome = self.outcome.as_str(),
            method = self.method.as_str(),
            reason = self.reason.map(ErrorCode::as_str),
            subject = self.subject,
            issuer = self.issuer,
            client = self.client.map(tracing::field::display),
            route = self.route,
            request_id = self.request_id,
            account = self.account.map(tracing::field::display),
            "{} {}",
            self.method.as_str(),
            self.outcome.as_str(),
        );
    }
}

impl fmt::Debug for AuditEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditEvent")
            .field("outcome", &self.outcome)
            .field("method", &self.method)
            .field("reason", &self.reason)
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("client", &self.client.map(ToString::to_string))
            .field("route", &self.route)
            .field("request_id", &self.request_id)
            .field("account", &self.account)
            .finish()
    }
}

/// Whether `id` may go into the trail as a request id: 1 to 64 characters from
/// `A-Z a-z 0-9 - _ . :`. Anything else (a client could send any header) is left out rather than
/// escaped, so a request id can never smuggle a credential-sized blob or a line break.
#[must_use]
pub fn is_plain_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Turns account names into [`AccountDigest`]s with a secret key (HMAC-SHA-256).
///
/// With the key, the same name always gives the same digest, so the trail can correlate
/// attempts on one account; without it, a digest cannot be checked against a list of likely
/// emails (which an unkeyed hash would allow). Names are compared as given: normalise them
/// (trim, lower-case) the way the login does before digesting.
#[derive(Clone)]
pub struct AccountDigester {
    mac: Hmac<Sha256>,
}

impl AccountDigester {
    /// A digester keyed with `key` (at least 32 bytes; e.g. from the deployment's secrets).
    ///
    /// # Errors
    ///
    /// [`ConfigError::WeakHmacSecret`](crate::ConfigError::WeakHmacSecret) for a key shorter
    /// than 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self, crate::ConfigError> {
        let weak = crate::ConfigError::WeakHmacSecret {
            alg: "HS256",
            min: 32,
            actual: key.len(),
        };
        if key.len() < 32 {
            return Err(weak);
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| weak)?;
        Ok(Self { mac })
    }

    /// The digest of `account`.
    #[must_use]
    pub fn digest(&self, account: &str) -> AccountDigest {
        let mut mac = self.mac.clone();
        mac.update(b"auth-core/audit/account\0");
        mac.update(account.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        for (o, b) in out.iter_mut().zip(full.iter()) {
            *o = *b;
        }
        AccountDigest(out)
    }
}

impl fmt::Debug for AccountDigester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccountDigester(REDACTED)")
    }
}

/// A keyed digest of an account name: 128 bits, shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountDigest([u8; 16]);

impl fmt::Display for AccountDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for AccountDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountDigest({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"an audit digest key of 32 bytes!";

    #[test]
    fn account_digest_is_stable_per_key_and_hides_the_name() {
        let a = AccountDigester::new(KEY).unwrap();
        let b = AccountDigester::new(b"another audit key, also 32 bytes").unwrap();
        let d = a.digest("alice@example.com");
        assert_eq!(d, a.digest("alice@example.com"));
        assert_ne!(d, a.digest("bob@example.com"));
        assert_ne!(d, b.digest("alice@example.com"));
        let shown = d.to_string();
        assert_eq!(shown.len(), 32);
        assert!(!shown.contains("alice"));
        assert!(shown.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn short_digest_keys_are_refused() {
        assert!(AccountDigester::new(b"short").is_err());
    }

    #[test]
    fn request_ids_are_kept_only_when_plain() {
        assert!(is_plain_request_id("3f2a-11:req_9.x"));
        assert!(!is_plain_request_id(""));
        assert!(!is_plain_request_id("a b"));
        assert!(!is_plain_request_id("line\nbreak"));
        assert!(!is_plain_request_id(&"x".repeat(65)));
        let ev = AuditEvent::new(Outcome::Success, Method::Login).request_id("bad id");
        assert!(ev.request_id.is_none());
    }

    #[test]
    fn names_are_stable() {
        assert_eq!(Method::ApiKey.as_str(), "api_key");
        assert_eq!(Method::StepUp.as_str(), "step_up");
        assert_eq!(Outcome::Failure.to_string(), "failure");
        assert_eq!(field::ALL.len(), 9);
    }
}
