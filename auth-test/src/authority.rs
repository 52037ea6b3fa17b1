//! [`TestAuthority`]: a token issuer for tests, and the production verifier that trusts it.

use serde_json::{Value, json};

use auth_core::ConfigError;
use auth_core::clock::{Clock as _, ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, JwtVerifierBuilder, VerificationKey};

use crate::key::TestKey;
use crate::presets::BadToken;
use crate::token::TokenBuilder;

/// The issuer of a [`TestAuthority`] unless [`with_issuer`](TestAuthority::with_issuer) says
/// otherwise.
pub const DEFAULT_ISSUER: &str = "https://issuer.auth-test.invalid";

/// The audience of a [`TestAuthority`] unless [`with_audience`](TestAuthority::with_audience)
/// says otherwise.
pub const DEFAULT_AUDIENCE: &str = "auth-test-api";

/// The `kid` of a [`TestAuthority`]'s key unless [`with_kid`](TestAuthority::with_kid) says
/// otherwise.
pub const DEFAULT_KID: &str = "auth-test-1";

/// The start of a [`TestAuthority`]'s own clock: 2026-01-01T00:00:00Z, a fixed instant so runs
/// are reproducible.
pub const DEFAULT_START: UnixTime = UnixTime::from_secs(1_767_225_600);

/// A token issuer for tests: a fresh key (HS256, RS256, ES256 or EdDSA), an issuer, an
/// audience and a [`ManualClock`], and the production [`JwtVerifier`] that trusts exactly
/// them.
///
/// Tests mint tokens with [`token`](Self::token) and send them through the real verifier (and
/// the real layers built on it), never around them: a token the kit makes is accepted only if
/// production code would accept it.
///
/// ```
/// use auth_test::TestAuthority;
/// use std::time::Duration;
///
/// let authority = TestAuthority::es256().with_audience("orders-api");
/// let verifier = authority.verifier();
///
/// let token = authority
///     .token()
///     .subject("alice")
///     .roles(["admin"])
///     .scopes(["read:orders", "write:orders"])
///     .claim("tenant", "acme")
///     .expires_in(Duration::from_secs(60))
///     .sign();
/// let principal = verifier.verify_sync(&token).unwrap();
/// assert_eq!(principal.subject(), "alice");
/// assert!(principal.has_scope("write:orders"));
///
/// // Time moves only when the test says so.
/// authority.clock().advance(Duration::from_secs(61 + 30)); // past exp and the 30 s leeway
/// assert!(verifier.verify_sync(&token).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct TestAuthority {
    key: TestKey,
    issuer: String,
    audience: String,
    clock: ManualClock,
}

impl TestAuthority {
    /// An authority with a fresh key for `alg` (HS256, RS256, ES256 or EdDSA), the
    /// [`DEFAULT_ISSUER`], the [`DEFAULT_AUDIENCE`] and a clock at [`DEFAULT_START`].
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] for another algorithm.
    pub fn new(alg: Algorithm) -> Result<Self, ConfigError> {
        Ok(Self::with_key(TestKey::generate(alg, DEFAULT_KID)?))
    }

    /// An authority signing with `key`.
    #[must_use]
    pub fn with_key(key: TestKey) -> Self {
        Self {
            key,
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            clock: ManualClock::new(DEFAULT_START),
        }
    }

    /// An HS256 authority with a random 32-byte secret.
    ///
    /// # Panics
    ///
    /// If the system random source fails.
    #[must_use]
    pub fn hs256() -> Self {
        Self::generated(Algorithm::HS256)
    }

    /// An HS256 authority with a known secret: the one your application is configured with,
    /// so its own verifier accepts the kit's tokens.
    ///
    /// # Errors
    ///
    /// [`ConfigError::WeakHmacSecret`] for a secret shorter than 32 bytes.
    pub fn hs256_with_secret(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Ok(Self::with_key(TestKey::hs256(secret, DEFAULT_KID)?))
    }

    /// An RS256 authority with a fresh RSA-2048 key.
    ///
    /// # Panics
    ///
    /// If the system random source fails.
    #[must_use]
    pub fn rs256() -> Self {
        Self::generated(Algorithm::RS256)
    }

    /// An ES256 authority with a fresh P-256 key.
    ///
    /// # Panics
    ///
    /// If the system random source fails.
    #[must_use]
    pub fn es256() -> Self {
        Self::generated(Algorithm::ES256)
    }

    /// An EdDSA authority with a fresh Ed25519 key.
    ///
    /// # Panics
    ///
    /// If the system random source fails.
    #[must_use]
    pub fn eddsa() -> Self {
        Self::generated(Algorithm::EdDSA)
    }

    #[allow(clippy::panic)] // A test kit: no random source is a broken test environment.
    fn generated(alg: Algorithm) -> Self {
        Self::new(alg).unwrap_or_else(|e| panic!("auth-test could not generate a key: {e}"))
    }

    /// Names the issuer (`iss` of every token, and what the verifier requires).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Names the audience (`aud` of every token, and what the verifier requires).
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Shares `clock` (e.g. the one your application is built with) instead of the
    /// authority's own.
    #[must_use]
    pub fn with_clock(mut self, clock: ManualClock) -> Self {
        self.clock = clock;
        self
    }

    /// A fresh key of the same algorithm under another `kid` (e.g. for key rotation tests).
    ///
    /// # Panics
    ///
    /// If the system random source fails.
    #[must_use]
    #[allow(clippy::panic)] // A test kit: no random source is a broken test environment.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.key = TestKey::generate(self.key.algorithm(), kid)
            .unwrap_or_else(|e| panic!("auth-test could not generate a key: {e}"));
        self
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The clock tokens are issued by and the verifier checks them against; clones share
    /// time, so `authority.clock().advance(..)` moves both.
    #[must_use]
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// The signing key.
    #[must_use]
    pub fn key(&self) -> &TestKey {
        &self.key
    }

    /// The algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// The verification key (public key, or the HMAC secret), pinned and named by `kid`.
    #[must_use]
    pub fn verification_key(&self) -> VerificationKey {
        self.key.verification_key()
    }

    /// The JWK Set a provider would publish for this key (`{"keys":[]}` for HS256).
    #[must_use]
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .key
            .public_jwk()
            .map(Value::Object)
            .into_iter()
            .collect();
        json!({ "keys": keys })
    }

    /// A [`JwtVerifier`] builder with the key, the issuer, the audience and the clock set:
    /// add your application's own rules (`require_type`, `check`, claim names, leeway) and
    /// build.
    pub fn verifier_builder(&self) -> JwtVerifierBuilder {
        JwtVerifier::builder()
            .key(self.verification_key())
            .issuer(self.issuer.as_str())
            .audience(self.audience.as_str())
            .clock(self.clock.clone())
    }

    /// The production verifier for this authority's tokens, with the library's defaults.
    ///
    /// # Panics
    ///
    /// Never for the authority's own settings (an empty issuer or audience given to
    /// `with_issuer`/`with_audience` would be refused by the verifier builder).
    #[must_use]
    #[allow(clippy::panic)] // A test kit: a refused configuration fails the test that built it.
    pub fn verifier(&self) -> JwtVerifier {
        self.verifier_builder()
            .build()
            .unwrap_or_else(|e| panic!("auth-test could not build the verifier: {e}"))
    }

    /// A token issued now (the authority's clock), for the authority's issuer and audience,
    /// subject `test-user`, valid for five minutes: change what the test needs, then
    /// [`sign`](TokenBuilder::sign).
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder::new(
            self.key.clone(),
            &self.issuer,
            &self.audience,
            self.clock.now(),
        )
    }

    /// [`TokenBuilder::expired`] on a default token.
    #[must_use]
    pub fn expired(&self) -> BadToken {
        self.token().expired()
    }

    /// [`TokenBuilder::not_yet_valid`] on a default token.
    #[must_use]
    pub fn not_yet_valid(&self) -> BadToken {
        self.token().not_yet_valid()
    }

    /// [`TokenBuilder::wrong_audience`] on a default token.
    #[must_use]
    pub fn wrong_audience(&self) -> BadToken {
        self.token().wrong_audience()
    }

    /// [`TokenBuilder::wrong_issuer`] on a default token.
    #[must_use]
    pub fn wrong_issuer(&self) -> BadToken {
        self.token().wrong_issuer()
    }

    /// [`TokenBuilder::alg_none`] on a default token.
    #[must_use]
    pub fn alg_none(&self) -> BadToken {
        self.token().alg_none()
    }

    /// [`TokenBuilder::wrong_key`] on a default token.
    #[must_use]
    pub fn wrong_key(&self) -> BadToken {
        self.token().wrong_key()
    }

    /// [`TokenBuilder::tampered`] on a default token.
    #[must_use]
    pub fn tampered(&self) -> BadToken {
        self.token().tampered()
    }

    /// [`TokenBuilder::missing_claim`] on a default token.
    #[must_use]
    pub fn missing_claim(&self, name: &str) -> BadToken {
        self.token().missing_claim(name)
    }

    /// Every preset on a default token (`missing_claim` for `sub`, `exp`, `iss` and `aud`),
    /// for a table-driven test that a route refuses them all with the right code.
    #[must_use]
    pub fn bad_tokens(&self) -> Vec<BadToken> {
        let mut all = vec![
            self.expired(),
            self.not_yet_valid(),
            self.wrong_audience(),
            self.wrong_issuer(),
            self.alg_none(),
            self.wrong_key(),
            self.tampered(),
        ];
        all.extend(
            ["sub", "exp", "iss", "aud"]
                .into_iter()
                .map(|c| self.missing_claim(c)),
        );
        all
    }
}
