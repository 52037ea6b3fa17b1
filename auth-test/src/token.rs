//! [`TokenBuilder`]: the claims and header of one test token, signed by a [`TestKey`].

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use auth_core::ConfigError;
use auth_core::clock::UnixTime;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::key::TestKey;

/// The subject of a token unless [`TokenBuilder::subject`] says otherwise.
pub const DEFAULT_SUBJECT: &str = "test-user";

/// How long a token lives unless [`TokenBuilder::expires_in`] says otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// Makes every `jti` of this process distinct without a random source.
static NEXT_JTI: AtomicU64 = AtomicU64::new(1);

#[derive(Clone, Debug)]
enum Expiry {
    In(Duration),
    At(u64),
}

/// One token under construction: started by
/// [`TestAuthority::token`](crate::TestAuthority::token) with the authority's issuer, audience,
/// `kid` and clock, a subject ([`DEFAULT_SUBJECT`]), `iat` = now, `exp` = now + 5 minutes
/// and a unique `jti`.
///
/// Finish with [`sign`](Self::sign) (a compact JWS), [`bearer`](Self::bearer) (an
/// `Authorization` value), or turn it into a token the verifier must refuse with one of the
/// negative presets ([`expired`](Self::expired), [`tampered`](Self::tampered), ...).
#[derive(Clone)]
#[must_use]
pub struct TokenBuilder {
    pub(crate) key: TestKey,
    pub(crate) header: Map<String, Value>,
    pub(crate) claims: Map<String, Value>,
    iat: u64,
    expiry: Expiry,
    removed: BTreeSet<String>,
}

impl fmt::Debug for TokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBuilder")
            .field("key", &self.key)
            .field("header", &self.header)
            .field("claims", &self.claims)
            .field("removed", &self.removed)
            .finish_non_exhaustive()
    }
}

impl TokenBuilder {
    pub(crate) fn new(key: TestKey, issuer: &str, audience: &str, now: UnixTime) -> Self {
        let mut header = Map::new();
        header.insert("alg".into(), key.algorithm().as_str().into());
        header.insert("typ".into(), "JWT".into());
        header.insert("kid".into(), key.kid().into());
        let mut claims = Map::new();
        claims.insert("iss".into(), issuer.into());
        claims.insert("sub".into(), DEFAULT_SUBJECT.into());
        claims.insert("aud".into(), audience.into());
        let n = NEXT_JTI.fetch_add(1, Ordering::Relaxed);
        claims.insert("jti".into(), format!("test-jti-{n}").into());
        Self {
            key,
            header,
            claims,
            iat: now.as_secs(),
            expiry: Expiry::In(DEFAULT_LIFETIME),
            removed: BTreeSet::new(),
        }
    }

    /// The `sub` claim.
    pub fn subject(self, sub: impl Into<String>) -> Self {
        self.claim("sub", sub.into())
    }

    /// The `roles` claim (a JSON array), what `Principal::roles` reads by default.
    pub fn roles<I, R>(self, roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        let roles: Vec<Value> = roles.into_iter().map(|r| Value::String(r.into())).collect();
        self.claim("roles", roles)
    }

    /// The `scope` claim (RFC 8693: space-separated), what `Principal::scopes` reads.
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let joined = scopes
            .into_iter()
            .map(Into::into)
            .collect::<Vec<String>>()
            .join(" ");
        self.claim("scope", joined)
    }

    /// Any claim, replacing one of the same name (`iss`, `aud`, `exp`... included).
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        self.removed.remove(&name);
        match (name.as_str(), value.into()) {
            ("iat", Value::Number(n)) if n.as_u64().is_some() => {
                self.iat = n.as_u64().unwrap_or(self.iat);
            }
            ("exp", Value::Number(n)) if n.as_u64().is_some() => {
                self.expiry = Expiry::At(n.as_u64().unwrap_or_default());
            }
            (_, value) => {
                self.claims.insert(name, value);
            }
        }
        self
    }

    /// Leaves claim `name` out of the token (also `iss`, `aud`, `sub`, `iat`, `exp`, `jti`).
    pub fn without_claim(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.claims.remove(&name);
        self.removed.insert(name);
        self
    }

    /// The `iss` claim.
    pub fn issuer(self, iss: impl Into<String>) -> Self {
        self.claim("iss", iss.into())
    }

    /// The `aud` claim (one audience).
    pub fn audience(self, aud: impl Into<String>) -> Self {
        self.claim("aud", aud.into())
    }

    /// `exp` = `iat` + `lifetime` (5 minutes by default).
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.removed.remove("exp");
        self.expiry = Expiry::In(lifetime);
        self
    }

    /// `exp` at exactly this time.
    pub fn expires_at(mut self, at: UnixTime) -> Self {
        self.removed.remove("exp");
        self.expiry = Expiry::At(at.as_secs());
        self
    }

    /// `iat` (the authority's clock by default); `exp` follows it unless set with
    /// [`expires_at`](Self::expires_at).
    pub fn issued_at(mut self, at: UnixTime) -> Self {
        self.removed.remove("iat");
        self.iat = at.as_secs();
        self
    }

    /// The `nbf` claim.
    pub fn not_before(self, at: UnixTime) -> Self {
        self.claim("nbf", at.as_secs())
    }

    /// The `typ` header (`JWT` by default), e.g. `at+jwt` for RFC 9068 access tokens.
    pub fn typ(self, typ: impl Into<String>) -> Self {
        self.header("typ", typ.into())
    }

    /// The `kid` header (the key's own by default).
    pub fn kid(self, kid: impl Into<String>) -> Self {
        self.header("kid", kid.into())
    }

    /// Any header member, replacing one of the same name (`alg` included: the signature is
    /// still made with the key's own algorithm).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.header.insert(name.into(), value.into());
        self
    }

    /// Leaves header member `name` out (e.g. `kid`, `typ`).
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// The claims as they will be signed.
    #[must_use]
    pub fn claims(&self) -> Map<String, Value> {
        let mut claims = self.claims.clone();
        let exp = match self.expiry {
            Expiry::In(d) => self.iat.saturating_add(d.as_secs()),
            Expiry::At(t) => t,
        };
        for (name, value) in [("iat", self.iat), ("exp", exp)] {
            if !self.removed.contains(name) {
                claims.insert(name.into(), value.into());
            }
        }
        claims
    }

    /// The compact JWS, signed by the authority's key.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] if the key cannot sign (aws-lc-rs failing; never seen).
    pub fn try_sign(&self) -> Result<String, ConfigError> {
        let input = format!(
            "{}.{}",
            b64_json(&Value::Object(self.header.clone())),
            b64_json(&Value::Object(self.claims()))
        );
        let signature = self.key.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The compact JWS, signed by the authority's key.
    ///
    /// # Panics
    ///
    /// If the key cannot sign (aws-lc-rs failing), which fails the test that asked.
    #[must_use]
    #[allow(clippy::panic)] // A test kit: a key that cannot sign is a broken test environment.
    pub fn sign(&self) -> String {
        self.try_sign()
            .unwrap_or_else(|e| panic!("auth-test could not sign a token: {e}"))
    }

    /// `Bearer <token>`, for an `Authorization` header.
    #[must_use]
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.sign())
    }
}

pub(crate) fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string().as_bytes())
}
