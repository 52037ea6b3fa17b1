//! [`TokenIssuer`]: signs RFC 9068 access tokens with a [`KeyRing`]'s active key.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::config::JwtVerifierBuilder;
use super::keyring::KeyRing;
use super::signing::jwt_algorithm;
use super::verifier::JwtVerifier;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::error::ConfigError;

/// The default access-token lifetime: 15 minutes.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The `typ` header of every issued token (RFC 9068 section 2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Claims the issuer sets itself; an [`AccessGrant`] cannot override them.
const RESERVED: [&str; 11] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "roles",
    "scope",
    "scp",
    "client_id",
];

/// Signs access tokens: JWTs with header `typ: at+jwt` (RFC 9068) and the active key's `kid`,
/// and claims `iss`, `sub`, `aud`, `iat`, `exp`, `jti` (128 random bits), `roles` and `scope`
/// (space-delimited), plus `client_id` and custom claims when the grant has them.
///
/// `iat` and `exp` come from the injected [`Clock`]; the lifetime defaults to 15 minutes. The
/// issuer signs with whatever key its [`KeyRing`] has active at that moment, and
/// [`verifier_builder`](Self::verifier_builder) gives a verifier that reads the same ring, so a
/// rotation reaches both at once.
///
/// ```
/// use auth_core::clock::{ManualClock, UnixTime};
/// use auth_core::jwt::{AccessGrant, Algorithm, KeyRing, SigningKey, TokenIssuer};
/// use auth_core::ErrorCode;
/// use std::time::Duration;
///
/// let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
/// let ring = KeyRing::new(SigningKey::generate(Algorithm::EdDSA, "2026-05")?);
/// let issuer = TokenIssuer::builder(ring)
///     .issuer("https://auth.example")
///     .audience("orders-api")
///     .clock(clock.clone())
///     .build()?;
/// let verifier = issuer.verifier_builder().build()?;
///
/// let token = issuer.issue(&AccessGrant::new("alice").role("user").scope("read:orders"))?;
/// assert_eq!(token.expires_in(), Duration::from_secs(15 * 60));
///
/// let principal = verifier.verify_sync(token.as_str())?;
/// assert_eq!(principal.subject(), "alice");
/// assert!(principal.has_scope("read:orders"));
/// assert_eq!(principal.token_id(), Some(token.jti()));
///
/// clock.advance(Duration::from_secs(15 * 60 + 31)); // past exp and the 30 s leeway
/// assert_eq!(verifier.verify_sync(token.as_str()).unwrap_err().code(), ErrorCode::TokenExpired);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenIssuer {
    inner: Arc<IssuerInner>,
}

struct IssuerInner {
    ring: KeyRing,
    issuer: String,
    audiences: Vec<String>,
    lifetime: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("TokenIssuer")
            .field("ring", &i.ring)
            .field("issuer", &i.issuer)
            .field("audiences", &i.audiences)
            .field("lifetime", &i.lifetime)
            .field("clock", &i.clock)
            .finish()
    }
}

/// Builds a [`TokenIssuer`]; created by [`TokenIssuer::builder`].
#[must_use]
pub struct TokenIssuerBuilder {
    ring: KeyRing,
    issuer: Option<String>,
    audiences: Vec<String>,
    lifetime: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for TokenIssuerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuerBuilder")
            .field("ring", &self.ring)
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl TokenIssuerBuilder {
    /// The `iss` claim (required).
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }

    /// Adds an `aud` value (at least one is required; several make `aud` an array).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// How long tokens live (default 15 minutes; whole seconds, at least one).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The clock `iat` and `exp` are read from (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyValue`] when the issuer is missing or empty or an audience is empty,
    /// [`ConfigError::MissingAudience`] without an audience, [`ConfigError::InvalidDuration`]
    /// for a lifetime under one second.
    pub fn build(self) -> Result<TokenIssuer, ConfigError> {
        let issuer = self
            .issuer
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::EmptyValue("issuer"))?;
        if self.audiences.is_empty() {
            return Err(ConfigError::MissingAudience);
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyValue("audience"));
        }
        if self.lifetime.as_secs() == 0 {
            return Err(ConfigError::InvalidDuration {
                what: "access token lifetime",
            });
        }
        Ok(TokenIssuer {
            inner: Arc::new(IssuerInner {
                ring: self.ring,
                issuer,
                audiences: self.audiences,
                lifetime: Duration::from_secs(self.lifetime.as_secs()),
                clock: self.clock,
            }),
        })
    }
}

impl TokenIssuer {
    /// Starts building an issuer that signs with `ring`'s active key.
    pub fn builder(ring: KeyRing) -> TokenIssuerBuilder {
        TokenIssuerBuilder {
            ring,
            issuer: None,
            audiences: Vec::new(),
            lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            clock: Arc::new(SystemClock),
        }
    }

    /// The key ring (rotate keys through it).
    #[must_use]
    pub fn key_ring(&self) -> &KeyRing {
        &self.inner.ring
    }

    /// The access-token lifetime.
    #[must_use]
    pub fn lifetime(&self) -> Duration {
        self.inner.lifetime
    }

    /// The clock this issuer reads.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// A verifier builder that accepts exactly what this issuer signs: keys from the same
    /// [`KeyRing`] (so rotations apply to both), this issuer and these audiences, `typ: at+jwt`
    /// required, and the same clock. Add settings (leeway, claim checks) and call `build`.
    pub fn verifier_builder(&self) -> JwtVerifierBuilder {
        let i = &*self.inner;
        let mut b = JwtVerifier::builder()
            .key_resolver(i.ring.clone())
            .issuer(i.issuer.clone())
            .require_type(ACCESS_TOKEN_TYPE)
            .clock(Arc::clone(&i.clock));
        for aud in &i.audiences {
            b = b.audience(aud.clone());
        }
        b
    }

    /// Signs an access token for `grant`.
    ///
    /// # Errors
    ///
    /// [`IssueError::InvalidGrant`] when the subject is empty, a scope is not an RFC 6749
    /// scope-token, a role is empty, or a custom claim name is empty or reserved;
    /// [`IssueError::Random`] when the system random source fails; [`IssueError::Signing`] when
    /// signing fails (it cannot for a key that passed its build-time self-check).
    pub fn issue(&self, grant: &AccessGrant) -> Result<AccessToken, IssueError> {
        grant.validate()?;
        let i = &*self.inner;
        let ring = i.ring.snapshot();
        let key = &ring.active;

        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| IssueError::Random(e.to_string()))?;
        let jti = URL_SAFE_NO_PAD.encode(raw);

        let iat = i.clock.now().as_secs();
        let exp = iat.saturating_add(i.lifetime.as_secs());

        let mut claims = Map::with_capacity(10 + grant.extra.len());
        claims.insert("iss".into(), i.issuer.clone().into());
        claims.insert("sub".into(), grant.subject.clone().into());
        claims.insert(
            "aud".into(),
            match i.audiences.as_slice() {
                [one] => Value::String(one.clone()),
                many => many.iter().cloned().map(Value::String).collect(),
            },
        );
        claims.insert("iat".into(), iat.into());
        claims.insert("exp".into(), exp.into());
        claims.insert("jti".into(), jti.clone().into());
        if let Some(client_id) = &grant.client_id {
            claims.insert("client_id".into(), client_id.clone().into());
        }
        claims.insert(
            "roles".into(),
            grant.roles.iter().cloned().map(Value::String).collect(),
        );
        claims.insert("scope".into(), grant.scopes.join(" ").into());
        for (name, value) in &grant.extra {
            claims.insert(name.clone(), value.clone());
        }

        let mut header = jsonwebtoken::Header::new(jwt_algorithm(key.algorithm()));
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(key.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key.encoding_key())
            .map_err(|e| IssueError::Signing(e.to_string()))?;

        tracing::debug!(
            target: "auth::issuer",
            subject = grant.subject.as_str(),
            jti = jti.as_str(),
            kid = key.kid(),
            exp,
            "access token issued",
        );
        Ok(AccessToken {
            token,
            jti,
            kid: Arc::clone(key.kid_arc()),
            issued_at: UnixTime::from_secs(iat),
            expires_at: UnixTime::from_secs(exp),
        })
    }
}

/// What an access token grants: the subject, roles, scopes and optional extra claims.
///
/// ```
/// use auth_core::jwt::AccessGrant;
///
/// let grant = AccessGrant::new("alice")
///     .roles(["user", "billing"])
///     .scopes(["read:orders", "write:orders"])
///     .client_id("web")
///     .claim("tenant", "acme");
/// assert_eq!(grant.subject(), "alice");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct AccessGrant {
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    client_id: Option<String>,
    extra: Map<String, Value>,
}

impl AccessGrant {
    /// A grant for `subject` with no roles or scopes.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            roles: Vec::new(),
            scopes: Vec::new(),
            client_id: None,
            extra: Map::new(),
        }
    }

    /// The subject.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Adds a role (duplicates are ignored).
    pub fn role(mut self, role: impl Into<String>) -> Self {
        push_unique(&mut self.roles, role.into());
        self
    }

    /// Adds roles.
    pub fn roles<I, R>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        for r in roles {
            push_unique(&mut self.roles, r.into());
        }
        self
    }

    /// Adds a scope (duplicates are ignored).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        push_unique(&mut self.scopes, scope.into());
        self
    }

    /// Adds scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for s in scopes {
            push_unique(&mut self.scopes, s.into());
        }
        self
    }

    /// Sets the `client_id` claim (RFC 9068 section 2.2).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Adds a custom claim. Names the issuer sets itself (`iss`, `sub`, `aud`, `exp`, `nbf`,
    /// `iat`, `jti`, `roles`, `scope`, `scp`, `client_id`) are refused when issuing.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    fn validate(&self) -> Result<(), IssueError> {
        if self.subject.is_empty() {
            return Err(IssueError::InvalidGrant("empty subject".into()));
        }
        if let Some(bad) = self.scopes.iter().find(|s| !is_scope_token(s)) {
            return Err(IssueError::InvalidGrant(format!(
                "scope {bad:?} is not an rfc 6749 scope-token"
            )));
        }
        if self.roles.iter().any(String::is_empty) {
            return Err(IssueError::InvalidGrant("empty role".into()));
        }
        if self.client_id.as_ref().is_some_and(String::is_empty) {
            return Err(IssueError::InvalidGrant("empty client_id".into()));
        }
        if let Some(bad) = self
            .extra
            .keys()
            .find(|k| k.is_empty() || RESERVED.contains(&k.as_str()))
        {
            return Err(IssueError::InvalidGrant(format!(
                "claim name {bad:?} is empty or reserved"
            )));
        }
        Ok(())
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// RFC 6749 section 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// A signed access token and what the issuer knows about it. `Debug` hides the token.
#[derive(Clone)]
pub struct AccessToken {
    token: String,
    jti: String,
    kid: Arc<str>,
    issued_at: UnixTime,
    expires_at: UnixTime,
}

impl AccessToken {
    /// The compact JWT, to hand to the client.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The compact JWT, by value.
    #[must_use]
    pub fn into_string(self) -> String {
        self.token
    }

    /// The token id (`jti`), e.g. for revocation.
    #[must_use]
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The `kid` of the key that signed it.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `iat`.
    #[must_use]
    pub fn issued_at(&self) -> UnixTime {
        self.issued_at
    }

    /// `exp`.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// The lifetime (`exp - iat`), e.g. for an OAuth `expires_in` or a cookie's `Max-Age`.
    #[must_use]
    pub fn expires_in(&self) -> Duration {
        self.expires_at.saturating_duration_since(self.issued_at)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"REDACTED")
            .field("jti", &self.jti)
            .field("kid", &self.kid)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why a token could not be issued.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueError {
    /// The grant is not valid (the reason says why).
    InvalidGrant(String),
    /// The system random source failed.
    Random(String),
    /// Signing failed.
    Signing(String),
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidGrant(m) => write!(f, "invalid grant: {m}"),
            Self::Random(m) => write!(f, "random source failed: {m}"),
            Self::Signing(m) => write!(f, "signing failed: {m}"),
        }
    }
}

impl std::error::Error for IssueError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::jwt::{Algorithm, SigningKey};

    fn issuer() -> TokenIssuer {
        let ring = KeyRing::new(SigningKey::generate(Algorithm::HS256, "k1").unwrap());
        TokenIssuer::builder(ring)
            .issuer("https://auth.example")
            .audience("api")
            .clock(ManualClock::new(UnixTime::from_secs(1_000)))
            .build()
            .unwrap()
    }

    #[test]
    fn builder_requires_issuer_audience_and_a_lifetime() {
        let ring = KeyRing::new(SigningKey::generate(Algorithm::HS256, "k").unwrap());
        let b = || TokenIssuer::builder(ring.clone());
        assert_eq!(
            b().audience("a").build().unwrap_err(),
            ConfigError::EmptyValue("issuer")
        );
        assert_eq!(
            b().issuer("i").build().unwrap_err(),
            ConfigError::MissingAudience
        );
        assert!(matches!(
            b().issuer("i")
                .audience("a")
                .lifetime(Duration::from_millis(500))
                .build(),
            Err(ConfigError::InvalidDuration { .. })
        ));
    }

    #[test]
    fn invalid_grants_are_refused() {
        let i = issuer();
        for g in [
            AccessGrant::new(""),
            AccessGrant::new("a").scope("two words"),
            AccessGrant::new("a").scope("quote\""),
            AccessGrant::new("a").role(""),
            AccessGrant::new("a").claim("exp", 5),
            AccessGrant::new("a").claim("", 5),
        ] {
            assert!(
                matches!(i.issue(&g), Err(IssueError::InvalidGrant(_))),
                "{g:?}"
            );
        }
    }

    #[test]
    fn jtis_are_128_bits_and_unique() {
        let i = issuer();
        let a = i.issue(&AccessGrant::new("a")).unwrap();
        let b = i.issue(&AccessGrant::new("a")).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(a.jti()).unwrap().len(), 16);
        assert_ne!(a.jti(), b.jti());
    }

    #[test]
    fn debug_hides_the_token() {
        let t = issuer().issue(&AccessGrant::new("a")).unwrap();
        assert!(!format!("{t:?}").contains(t.as_str()));
    }
}
