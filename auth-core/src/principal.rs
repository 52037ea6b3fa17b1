//! The authenticated caller.
//!
//! A [`Principal`] is a capability: its fields are private and only this crate's verifiers
//! create one, so holding a `Principal` means a check really happened. Handlers and other
//! crates can read it but never fabricate it (tests can, behind the `test-util` feature, through
//! an obviously named constructor).

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::clock::UnixTime;
use crate::error::{AuthError, InvalidToken};

/// How the request authenticated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// A bearer token (JWT) from the `Authorization` header or a cookie.
    Bearer,
    /// An API key; `key_id` is its public, non-secret id.
    ApiKey {
        /// The key's public id (safe to log).
        key_id: String,
    },
}

impl AuthMethod {
    /// A short stable name: `"bearer"` or `"api_key"`.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::ApiKey { .. } => "api_key",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller of a request. Cheap to clone (one reference count).
///
/// ```
/// # #[cfg(feature = "jwt")] {
/// use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
/// # use auth_core::clock::{ManualClock, UnixTime};
/// # let secret = b"an example secret of at least thirty-two bytes";
/// # let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
/// # let token = {
/// #     let claims = serde_json::json!({"sub": "alice", "exp": 1_700_000_600u64,
/// #         "iss": "https://issuer.example", "aud": "api", "scope": "read:orders write:orders",
/// #         "roles": ["user"]});
/// #     jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims,
/// #         &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap()
/// # };
/// let verifier = JwtVerifier::builder()
///     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
///     .issuer("https://issuer.example")
///     .audience("api")
///     .clock(clock)
///     .build()?;
/// let principal = verifier.verify_sync(&token)?;
/// assert_eq!(principal.subject(), "alice");
/// assert!(principal.has_scope("read:orders"));
/// assert!(principal.has_role("user"));
/// assert_eq!(principal.auth_method().as_str(), "bearer");
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Principal {
    inner: Arc<Inner>,
}

struct Inner {
    subject: Text,
    /// `None` for no roles (no allocation); shared between principals with the same list.
    roles: Option<Arc<[String]>>,
    scopes: Option<Arc<[String]>>,
    method: AuthMethod,
    token_id: Option<Text>,
    issuer: Option<Text>,
    session_id: Option<Text>,
    expires_at: Option<UnixTime>,
    issued_at: Option<UnixTime>,
    not_before: Option<UnixTime>,
    claims_json: Option<Box<str>>,
    claims: OnceLock<Option<Map<String, Value>>>,
    confirmation: Option<Text>,
}

/// A string of a principal: a range of its claims JSON (a token's `sub`, `jti`, ... are
/// slices of the payload unless they hold escapes, so they cost no allocation of their own),
/// or a string of its own.
#[derive(Debug)]
pub(crate) enum Text {
    /// `claims_json[start..end]` (made only by token verification).
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))]
    Claims(u32, u32),
    /// Held separately.
    Owned(Box<str>),
}

impl Text {
    /// `s` as a range of `base` when it is a slice of it, else a copy.
    #[cfg(feature = "jwt")]
    pub(crate) fn within(s: std::borrow::Cow<'_, str>, base: &str) -> Self {
        if let std::borrow::Cow::Borrowed(b) = s {
            let start = (b.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
            let end = start.wrapping_add(b.len());
            if base.get(start..end).is_some_and(|r| std::ptr::eq(r, b))
                && let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end))
            {
                return Self::Claims(start, end);
            }
        }
        Self::Owned(s.into_owned().into_boxed_str())
    }

    #[cfg_attr(not(any(feature = "api-key", feature = "test-util")), allow(dead_code))]
    fn owned(s: String) -> Self {
        Self::Owned(s.into_boxed_str())
    }
}

impl Inner {
    fn text<'a>(&'a self, t: &'a Text) -> &'a str {
        match t {
            Text::Owned(s) => s,
            Text::Claims(start, end) => self
                .claims_json
                .as_deref()
                .and_then(|c| c.get(*start as usize..*end as usize))
                .unwrap_or(""),
        }
    }

    fn opt<'a>(&'a self, t: &'a Option<Text>) -> Option<&'a str> {
        t.as_ref().map(|t| self.text(t))
    }
}

/// A verified token's principal: its strings are ranges of `claims_json` where they can be
/// (see [`Text::within`]), its role and scope lists possibly shared.
#[cfg(feature = "jwt")]
#[derive(Debug)]
pub(crate) struct TokenParts {
    pub(crate) claims_json: Box<str>,
    pub(crate) subject: Text,
    pub(crate) roles: Option<Arc<[String]>>,
    pub(crate) scopes: Option<Arc<[String]>>,
    pub(crate) token_id: Option<Text>,
    pub(crate) issuer: Option<Text>,
    pub(crate) session_id: Option<Text>,
    pub(crate) expires_at: Option<UnixTime>,
    pub(crate) issued_at: Option<UnixTime>,
    pub(crate) not_before: Option<UnixTime>,
    pub(crate) confirmation: Option<Text>,
    /// The claims, when a claim mapping parsed them already.
    pub(crate) claims: Option<Map<String, Value>>,
}

/// A list held only when it has names.
#[cfg_attr(not(any(feature = "api-key", feature = "test-util")), allow(dead_code))]
fn shared(v: Vec<String>) -> Option<Arc<[String]>> {
    (!v.is_empty()).then(|| v.into())
}

/// Everything a verifier knows when it creates a principal.
#[derive(Debug)]
// Without a credential feature no verifier creates principals (only `test-util` might).
#[cfg_attr(not(any(feature = "api-key", feature = "test-util")), allow(dead_code))]
pub(crate) struct PrincipalParts {
    pub(crate) subject: String,
    pub(crate) roles: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) method: AuthMethod,
    pub(crate) token_id: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) expires_at: Option<UnixTime>,
    pub(crate) issued_at: Option<UnixTime>,
    pub(crate) not_before: Option<UnixTime>,
    pub(crate) claims_json: Option<Box<str>>,
    /// The RFC 7638 thumbprint the token is bound to (`cnf.jkt`, RFC 9449 section 6).
    pub(crate) confirmation: Option<String>,
}

impl Principal {
    #[cfg_attr(not(any(feature = "api-key", feature = "test-util")), allow(dead_code))]
    pub(crate) fn from_parts(p: PrincipalParts) -> Self {
        Self::with_claims_cell(p, OnceLock::new())
    }

    /// A principal whose claims (its `claims_json`) were already parsed into `claims`.
    /// A verified token's principal: one allocation (this one) besides the claims JSON.
    #[cfg(feature = "jwt")]
    pub(crate) fn from_token(p: TokenParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                subject: p.subject,
                roles: p.roles,
                scopes: p.scopes,
                method: AuthMethod::Bearer,
                token_id: p.token_id,
                issuer: p.issuer,
                session_id: p.session_id,
                expires_at: p.expires_at,
                issued_at: p.issued_at,
                not_before: p.not_before,
                claims_json: Some(p.claims_json),
                claims: p
                    .claims
                    .map_or_else(OnceLock::new, |c| OnceLock::from(Some(c))),
                confirmation: p.confirmation,
            }),
        }
    }

    #[cfg_attr(not(any(feature = "api-key", feature = "test-util")), allow(dead_code))]
    fn with_claims_cell(p: PrincipalParts, claims: OnceLock<Option<Map<String, Value>>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                subject: Text::owned(p.subject),
                roles: shared(p.roles),
                scopes: shared(p.scopes),
                method: p.method,
                token_id: p.token_id.map(Text::owned),
                issuer: p.issuer.map(Text::owned),
                session_id: p.session_id.map(Text::owned),
                expires_at: p.expires_at,
                issued_at: p.issued_at,
                not_before: p.not_before,
                claims_json: p.claims_json,
                claims,
                confirmation: p.confirmation.map(Text::owned),
            }),
        }
    }

    /// Fabricates a principal **without any verification**. For tests only.
    ///
    /// Only available with the `test-util` feature; never enable it in production builds.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[must_use]
    pub fn insecure_for_tests(subject: &str, roles: &[&str], scopes: &[&str]) -> Self {
        Self::from_parts(PrincipalParts {
            subject: subject.to_owned(),
            roles: roles.iter().map(|s| (*s).to_owned()).collect(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            method: AuthMethod::Bearer,
            token_id: None,
            issuer: None,
            session_id: None,
            expires_at: None,
            issued_at: None,
            not_before: None,
            claims_json: None,
            confirmation: None,
        })
    }

    /// Fabricates a token-like principal (with `jti`, `iat` and `exp`) **without any
    /// verification**, so revocation checks can be exercised in tests. For tests only.
    ///
    /// Only available with the `test-util` feature; never enable it in production builds.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[must_use]
    pub fn insecure_token_for_tests(
        subject: &str,
        jti: &str,
        issued_at: UnixTime,
        expires_at: UnixTime,
    ) -> Self {
        Self::from_parts(PrincipalParts {
            subject: subject.to_owned(),
            roles: Vec::new(),
            scopes: Vec::new(),
            method: AuthMethod::Bearer,
            token_id: Some(jti.to_owned()),
            issuer: None,
            session_id: None,
            expires_at: Some(expires_at),
            issued_at: Some(issued_at),
            not_before: None,
            claims_json: None,
            confirmation: None,
        })
    }

    /// Fabricates a token-like principal of `issuer` (with `jti`, `iat`, `exp` and an optional
    /// `sid`) **without any verification**, so per-issuer and per-session revocation can be
    /// exercised in tests. For tests only.
    ///
    /// Only available with the `test-util` feature; never enable it in production builds.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[must_use]
    pub fn insecure_issued_token_for_tests(
        issuer: Option<&str>,
        subject: &str,
        jti: &str,
        session_id: Option<&str>,
        issued_at: UnixTime,
        expires_at: UnixTime,
    ) -> Self {
        Self::from_parts(PrincipalParts {
            subject: subject.to_owned(),
            roles: Vec::new(),
            scopes: Vec::new(),
            method: AuthMethod::Bearer,
            token_id: Some(jti.to_owned()),
            issuer: issuer.map(str::to_owned),
            session_id: session_id.map(str::to_owned),
            expires_at: Some(expires_at),
            issued_at: Some(issued_at),
            not_before: None,
            claims_json: None,
            confirmation: None,
        })
    }

    /// The subject (`sub` claim for tokens).
    ///
    /// A subject is unique only **within its issuer**: two trusted issuers may both name a user
    /// `alice`. Key per-user records by [`account_key`](Self::account_key) when more than one
    /// issuer is trusted.
    #[must_use]
    pub fn subject(&self) -> &str {
        self.inner.text(&self.inner.subject)
    }

    /// The issuer-qualified subject: [`Principal::account_key_for`] of this principal's issuer
    /// and subject. Use it (not [`subject`](Self::subject)) as the owner of per-user records
    /// (refresh-token families, API keys, ...) when tokens of several issuers are accepted, so
    /// a provider's `alice` never acts on a local `alice`'s records.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use auth_core::Principal;
    /// use auth_core::clock::UnixTime;
    ///
    /// let t = UnixTime::from_secs(100);
    /// let local = Principal::insecure_issued_token_for_tests(
    ///     Some("https://auth.example"), "alice", "j1", None, t, t);
    /// let provider = Principal::insecure_issued_token_for_tests(
    ///     Some("https://idp.example"), "alice", "j2", None, t, t);
    /// assert_eq!(local.subject(), provider.subject());
    /// assert_ne!(local.account_key(), provider.account_key());
    /// assert_eq!(local.account_key(), Principal::account_key_for(Some("https://auth.example"), "alice"));
    /// # }
    /// ```
    #[must_use]
    pub fn account_key(&self) -> String {
        Self::account_key_for(self.issuer(), self.subject())
    }

    /// An account key naming `subject` of `issuer`, injectively: two different
    /// `(issuer, subject)` pairs never give the same key, whatever characters they hold.
    ///
    /// The form is `<n>:<issuer>:<subject>` with `n` the issuer's length in bytes (decimal), or
    /// `-:<subject>` without an issuer: readable in logs and store keys, and unambiguous because
    /// the length says where the issuer ends. Use it wherever an application keys per-user
    /// records and accepts tokens of more than one issuer (see [`account_key`](Self::account_key)
    /// for a principal at hand, this for an account looked up at login).
    ///
    /// ```
    /// use auth_core::Principal;
    ///
    /// assert_eq!(Principal::account_key_for(Some("https://idp.example"), "alice"), "19:https://idp.example:alice");
    /// assert_eq!(Principal::account_key_for(None, "alice"), "-:alice");
    /// // The issuer's length keeps look-alike pairs apart.
    /// assert_ne!(
    ///     Principal::account_key_for(Some("a:b"), "c"),
    ///     Principal::account_key_for(Some("a"), "b:c"),
    /// );
    /// ```
    #[must_use]
    pub fn account_key_for(issuer: Option<&str>, subject: &str) -> String {
        match issuer {
            Some(iss) => {
                let len = iss.len().to_string();
                let mut key = String::with_capacity(len.len() + iss.len() + subject.len() + 2);
                key.push_str(&len);
                key.push(':');
                key.push_str(iss);
                key.push(':');
                key.push_str(subject);
                key
            }
            None => {
                let mut key = String::with_capacity(subject.len() + 2);
                key.push_str("-:");
                key.push_str(subject);
                key
            }
        }
    }

    /// The roles granted.
    #[must_use]
    pub fn roles(&self) -> &[String] {
        self.inner.roles.as_deref().unwrap_or_default()
    }

    /// The scopes granted.
    #[must_use]
    pub fn scopes(&self) -> &[String] {
        self.inner.scopes.as_deref().unwrap_or_default()
    }

    /// The RFC 7638 JWK thumbprint the token is bound to: its `cnf.jkt` claim (RFC 9449
    /// section 6), or the `cnf.jkt` of an introspection response. A token bound to a key must be
    /// presented with a DPoP proof signed by that key; `BearerLayer` refuses it as a plain bearer
    /// token.
    #[must_use]
    pub fn confirmation_jkt(&self) -> Option<&str> {
        self.inner.opt(&self.inner.confirmation)
    }

    /// Whether `scope` was granted (exact, case-sensitive match as RFC 6749 section 3.3 says).
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().iter().any(|s| s == scope)
    }

    /// Whether `role` was granted (exact match).
    #[must_use]
    pub fn has_role(&self, role: &str) -> bool {
        self.roles().iter().any(|r| r == role)
    }

    /// How the request authenticated.
    #[must_use]
    pub fn auth_method(&self) -> &AuthMethod {
        &self.inner.method
    }

    /// The token id (`jti`), when the credential had one.
    #[must_use]
    pub fn token_id(&self) -> Option<&str> {
        self.inner.opt(&self.inner.token_id)
    }

    /// The issuer (`iss`), when the credential had one.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.inner.opt(&self.inner.issuer)
    }

    /// The session the credential belongs to (the `sid` claim of OpenID Connect and RFC 9068
    /// access tokens), when it names one. An empty `sid` counts as none.
    ///
    /// A [`Revoker`](crate::revocation::Revoker) can revoke every token of a session at once
    /// (`revoke_session`), e.g. when its refresh-token family is revoked.
    #[must_use]
    pub fn session_id(&self) -> Option<&str> {
        self.inner.opt(&self.inner.session_id)
    }

    /// When the credential expires (`exp`), if it does.
    #[must_use]
    pub fn expires_at(&self) -> Option<UnixTime> {
        self.inner.expires_at
    }

    /// When the credential was issued (`iat`), if it says.
    #[must_use]
    pub fn issued_at(&self) -> Option<UnixTime> {
        self.inner.issued_at
    }

    /// When the credential becomes valid (`nbf` claim for tokens), if it says.
    #[must_use]
    pub fn not_before(&self) -> Option<UnixTime> {
        self.inner.not_before
    }

    /// The verified claims as JSON text, exactly as signed.
    #[must_use]
    pub fn claims_json(&self) -> Option<&str> {
        self.inner.claims_json.as_deref()
    }

    /// The verified claims as a JSON object. Parsed on first use, then cached.
    #[must_use]
    pub fn claims(&self) -> Option<&Map<String, Value>> {
        self.inner
            .claims
            .get_or_init(|| {
                let json = self.inner.claims_json.as_deref()?;
                serde_json::from_str(json).ok()
            })
            .as_ref()
    }

    /// The verified claims deserialized into an application type.
    ///
    /// # Errors
    ///
    /// When the principal has no claims (not token-based) or they do not fit `C`.
    pub fn deserialize_claims<C: DeserializeOwned>(&self) -> Result<C, serde_json::Error> {
        let json = self.inner.claims_json.as_deref().unwrap_or("null");
        serde_json::from_str(json)
    }

    /// The verified claims as a [`VerifiedClaims<C>`] capability.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] with [`InvalidToken::ClaimsShape`] when the claims do not
    /// fit `C` (or the principal has none).
    pub fn verified_claims<C: DeserializeOwned>(&self) -> Result<VerifiedClaims<C>, AuthError> {
        self.deserialize_claims()
            .map(VerifiedClaims)
            .map_err(|_| AuthError::InvalidToken(InvalidToken::ClaimsShape))
    }
}

/// Typed claims of a verified token. Only this crate creates them, so holding one means the
/// token's signature and registered claims were checked.
#[derive(Clone, Debug)]
pub struct VerifiedClaims<C>(C);

impl<C> VerifiedClaims<C> {
    /// The claims.
    pub fn into_inner(self) -> C {
        self.0
    }
}

impl<C> std::ops::Deref for VerifiedClaims<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.0
    }
}

impl fmt::Debug for Principal {
    // Claims may hold personal data; they are left out of Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("subject", &self.subject())
            .field("roles", &self.roles())
            .field("scopes", &self.scopes())
            .field("method", &self.inner.method)
            .field("token_id", &self.token_id())
            .field("issuer", &self.issuer())
            .field("session_id", &self.session_id())
            .field("expires_at", &self.inner.expires_at)
            .field("issued_at", &self.inner.issued_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(json: Option<&str>) -> Principal {
        Principal::from_parts(PrincipalParts {
            subject: "alice".into(),
            roles: vec!["admin".into()],
            scopes: vec!["read:orders".into()],
            method: AuthMethod::Bearer,
            token_id: Some("t-1".into()),
            issuer: Some("iss".into()),
            session_id: Some("s-1".into()),
            expires_at: Some(UnixTime::from_secs(5)),
            issued_at: Some(UnixTime::from_secs(1)),
            not_before: None,
            claims_json: json.map(Into::into),
            confirmation: None,
        })
    }

    #[test]
    fn scope_and_role_checks_are_exact() {
        let p = sample(None);
        assert!(p.has_scope("read:orders"));
        assert!(!p.has_scope("read:Orders"));
        assert!(!p.has_scope("read"));
        assert!(p.has_role("admin"));
        assert!(!p.has_role("Admin"));
    }

    #[test]
    fn claims_are_parsed_lazily_and_typed_on_demand() {
        #[derive(serde::Deserialize)]
        struct C {
            tenant: String,
        }
        let p = sample(Some(r#"{"sub":"alice","tenant":"acme"}"#));
        assert_eq!(p.claims().unwrap()["tenant"], "acme");
        assert_eq!(p.deserialize_claims::<C>().unwrap().tenant, "acme");
        assert!(sample(None).claims().is_none());
        assert!(sample(None).deserialize_claims::<C>().is_err());
    }

    #[test]
    fn account_keys_are_injective_over_issuer_and_subject() {
        // Issue 12, item 7: records keyed by the bare `sub` let one issuer's `alice` act on
        // another's; the issuer-qualified key never confuses two pairs.
        let pairs: [(Option<&str>, &str); 9] = [
            (None, "alice"),
            (None, "-:alice"),
            (Some(""), "alice"),
            (Some("a"), "b:c"),
            (Some("a:b"), "c"),
            (Some("1:a"), "b"),
            (Some("https://idp.example"), "alice"),
            (Some("https://auth.example"), "alice"),
            (Some("https://idp.example"), ""),
        ];
        let keys: std::collections::HashSet<String> = pairs
            .iter()
            .map(|(i, s)| Principal::account_key_for(*i, s))
            .collect();
        assert_eq!(keys.len(), pairs.len());
        assert_eq!(sample(None).account_key(), "3:iss:alice");
    }

    proptest::proptest! {
        #[test]
        fn account_keys_never_collide(
            a in (proptest::option::of("[a-z:0-9-]{0,4}"), "[a-z:0-9-]{0,4}"),
            b in (proptest::option::of("[a-z:0-9-]{0,4}"), "[a-z:0-9-]{0,4}"),
        ) {
            let ka = Principal::account_key_for(a.0.as_deref(), &a.1);
            let kb = Principal::account_key_for(b.0.as_deref(), &b.1);
            proptest::prop_assert_eq!(ka == kb, a == b);
        }
    }

    #[cfg(feature = "jwt")]
    fn verify(claims: &Value) -> Result<Principal, AuthError> {
        use crate::clock::ManualClock;
        use crate::jwt::{Algorithm, JwtVerifier, VerificationKey};
        let secret = b"an example secret of at least thirty-two bytes";
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap();
        JwtVerifier::builder()
            .key(VerificationKey::hmac(Algorithm::HS256, secret).unwrap())
            .audience("api")
            .clock(ManualClock::new(UnixTime::from_secs(1_000)))
            .build()
            .unwrap()
            .verify_sync(&token)
    }

    #[cfg(feature = "jwt")]
    #[test]
    fn a_verified_token_exposes_its_session_id() {
        // Issue 12, item 6: the `sid` claim names the session a revocation can target.
        let p =
            verify(&serde_json::json!({"sub": "a", "aud": "api", "exp": 2_000, "sid": "fam-1"}))
                .unwrap();
        assert_eq!(p.session_id(), Some("fam-1"));
        let p = verify(&serde_json::json!({"sub": "a", "aud": "api", "exp": 2_000})).unwrap();
        assert_eq!(p.session_id(), None);
    }

    #[cfg(feature = "jwt")]
    #[test]
    fn a_token_whose_sid_is_not_a_string_is_refused_as_invalid() {
        // Issue 12, item 6: a mistyped `sid` could otherwise dodge a session revocation.
        let err = verify(&serde_json::json!({"sub": "a", "aud": "api", "exp": 2_000, "sid": 7}))
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidToken);
    }

    #[test]
    fn debug_omits_claims() {
        let p = sample(Some(r#"{"email":"alice@example.com"}"#));
        assert!(!format!("{p:?}").contains("alice@example.com"));
    }
}
