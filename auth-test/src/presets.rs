//! Negative presets: tokens a correctly configured verifier must refuse, each with the
//! [`ErrorCode`] the layer answers for it.

use std::fmt;
use std::time::Duration;

use auth_core::ErrorCode;
use auth_core::clock::UnixTime;
use serde_json::Value;

use crate::key::TestKey;
use crate::token::{TokenBuilder, b64_json};

/// The issuer a [`wrong_issuer`](TokenBuilder::wrong_issuer) token names.
pub const WRONG_ISSUER: &str = "https://wrong-issuer.auth-test.invalid";

/// The audience a [`wrong_audience`](TokenBuilder::wrong_audience) token names.
pub const WRONG_AUDIENCE: &str = "wrong-audience.auth-test.invalid";

/// How far outside its validity window a preset puts a token: an hour, far beyond the largest
/// leeway a verifier accepts (`auth_core::jwt::MAX_LEEWAY`, five minutes).
pub const OUTSIDE_WINDOW: Duration = Duration::from_secs(3600);

/// A token the verifier must refuse, and the code it must refuse it with.
///
/// ```
/// use auth_test::TestAuthority;
/// use auth_core::ErrorCode;
///
/// let authority = TestAuthority::hs256();
/// let verifier = authority.verifier();
/// let bad = authority.expired();
/// assert_eq!(bad.code(), ErrorCode::TokenExpired);
/// assert_eq!(verifier.verify_sync(bad.token()).unwrap_err().code(), bad.code());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BadToken {
    name: String,
    token: String,
    code: ErrorCode,
}

impl BadToken {
    fn new(name: impl Into<String>, token: String, code: ErrorCode) -> Self {
        Self {
            name: name.into(),
            token,
            code,
        }
    }

    /// Which preset made it (`expired`, `missing_claim(sub)`, ...), for test messages.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compact token.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `Bearer <token>`, for an `Authorization` header.
    #[must_use]
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// The code the verifier, and so the layer's JSON body, answers.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Debug for BadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a test token, but keep the habit: tokens are not printed whole.
        f.debug_struct("BadToken")
            .field("name", &self.name)
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl TokenBuilder {
    fn now(&self) -> u64 {
        self.claims()
            .get("iat")
            .and_then(Value::as_u64)
            .unwrap_or_default()
    }

    /// Expired an hour ago (issued two hours ago): `TOKEN_EXPIRED`.
    #[must_use]
    pub fn expired(self) -> BadToken {
        let now = self.now();
        let issued = now.saturating_sub(2 * OUTSIDE_WINDOW.as_secs());
        let token = self
            .issued_at(UnixTime::from_secs(issued))
            .expires_at(UnixTime::from_secs(
                now.saturating_sub(OUTSIDE_WINDOW.as_secs()),
            ))
            .sign();
        BadToken::new("expired", token, ErrorCode::TokenExpired)
    }

    /// Valid only from an hour from now (`nbf`): `TOKEN_NOT_YET_VALID`.
    #[must_use]
    pub fn not_yet_valid(self) -> BadToken {
        let later = self.now().saturating_add(OUTSIDE_WINDOW.as_secs());
        let token = self
            .not_before(UnixTime::from_secs(later))
            .expires_at(UnixTime::from_secs(later.saturating_add(300)))
            .sign();
        BadToken::new("not_yet_valid", token, ErrorCode::TokenNotYetValid)
    }

    /// For another audience ([`WRONG_AUDIENCE`]): `INVALID_AUDIENCE`.
    #[must_use]
    pub fn wrong_audience(self) -> BadToken {
        let token = self.audience(WRONG_AUDIENCE).sign();
        BadToken::new("wrong_audience", token, ErrorCode::InvalidAudience)
    }

    /// From another issuer ([`WRONG_ISSUER`]), signed by the right key: `INVALID_ISSUER`.
    #[must_use]
    pub fn wrong_issuer(self) -> BadToken {
        let token = self.issuer(WRONG_ISSUER).sign();
        BadToken::new("wrong_issuer", token, ErrorCode::InvalidIssuer)
    }

    /// `alg: none` with an empty signature (RFC 7519 section 6): `INVALID_TOKEN`.
    #[must_use]
    pub fn alg_none(self) -> BadToken {
        let mut header = self.header.clone();
        header.insert("alg".into(), "none".into());
        let token = format!(
            "{}.{}.",
            b64_json(&Value::Object(header)),
            b64_json(&Value::Object(self.claims()))
        );
        BadToken::new("alg_none", token, ErrorCode::InvalidToken)
    }

    /// Signed by another key of the same algorithm under the same `kid` (a forger's key):
    /// `INVALID_TOKEN`.
    ///
    /// # Panics
    ///
    /// If a fresh key cannot be generated (the system random source failing).
    #[must_use]
    #[allow(clippy::panic)] // A test kit: no random source is a broken test environment.
    pub fn wrong_key(mut self) -> BadToken {
        let alg = self.key.algorithm();
        self.key = TestKey::generate(alg, self.key.kid())
            .unwrap_or_else(|e| panic!("auth-test could not generate a key: {e}"));
        BadToken::new("wrong_key", self.sign(), ErrorCode::InvalidToken)
    }

    /// Signed, then its payload changed (subject `admin` with role `admin`) under the original
    /// signature: `INVALID_TOKEN`.
    #[must_use]
    pub fn tampered(self) -> BadToken {
        let signed = self.sign();
        let mut claims = self.claims();
        claims.insert("sub".into(), "admin".into());
        claims.insert("roles".into(), Value::Array(vec!["admin".into()]));
        let mut parts = signed.split('.');
        let header = parts.next().unwrap_or_default();
        let _payload = parts.next();
        let signature = parts.next().unwrap_or_default();
        let token = format!("{header}.{}.{signature}", b64_json(&Value::Object(claims)));
        BadToken::new("tampered", token, ErrorCode::InvalidToken)
    }

    /// Without claim `name`, and the code a verifier that needs it answers: `INVALID_TOKEN`
    /// for `exp` and `sub` (always required), `INVALID_ISSUER` for `iss` and
    /// `INVALID_AUDIENCE` for `aud` (when the verifier pins them, as the authority's does),
    /// `INVALID_TOKEN` for any claim your verifier requires through
    /// [`check`](auth_core::jwt::JwtVerifierBuilder::check).
    ///
    /// A verifier that does not need the claim accepts the token: that is the point of testing
    /// it.
    #[must_use]
    pub fn missing_claim(self, name: &str) -> BadToken {
        let code = match name {
            "iss" => ErrorCode::InvalidIssuer,
            "aud" => ErrorCode::InvalidAudience,
            _ => ErrorCode::InvalidToken,
        };
        let token = self.without_claim(name).sign();
        BadToken::new(format!("missing_claim({name})"), token, code)
    }
}
