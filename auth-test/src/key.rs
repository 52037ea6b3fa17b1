//! [`TestKey`]: a freshly generated key pair (or HMAC secret) that signs whatever the tests
//! ask, including headers and claims a production issuer would never write.

use std::fmt;
use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::jwt::{Algorithm, SigningKey, VerificationKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256,
};
use serde_json::{Map, Value};

/// The algorithms a [`TestKey`] can generate keys for.
pub const SUPPORTED_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

enum Signer {
    Hmac(Box<aws_lc_rs::hmac::Key>),
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A signing key for tests: HS256, RS256 (2048 bits), ES256 (P-256) or EdDSA (Ed25519),
/// generated with aws-lc-rs, named by a `kid`.
///
/// It signs any bytes ([`TestKey::sign`]), so a test can build tokens with any header, and its
/// public half comes from `auth-core` itself ([`SigningKey`]), so what a verifier trusts is
/// exactly what production code would derive from the same key.
///
/// Cloning is cheap (the key is shared). `Debug` never shows key material.
#[derive(Clone)]
pub struct TestKey {
    inner: Arc<Inner>,
}

struct Inner {
    alg: Algorithm,
    kid: String,
    signer: Signer,
    signing_key: SigningKey,
}

impl TestKey {
    /// A fresh key for `alg` named `kid`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] for algorithms other than
    /// [`SUPPORTED_ALGORITHMS`], and what `auth-core` reports if the generated key were
    /// refused (it never is).
    pub fn generate(alg: Algorithm, kid: impl Into<String>) -> Result<Self, ConfigError> {
        let kid = kid.into();
        let rng = SystemRandom::new();
        let (signer, signing_key) = match alg {
            Algorithm::HS256 => {
                let mut secret = [0u8; 32];
                aws_lc_rs::rand::fill(&mut secret).map_err(|e| invalid(alg, e))?;
                return Self::hs256(secret, kid);
            }
            Algorithm::RS256 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|e| invalid(alg, e))?;
                let der =
                    aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(
                        &pair,
                    )
                    .map_err(|e| invalid(alg, e))?;
                let signing = SigningKey::from_pkcs8_der(alg, der.as_ref(), kid.as_str())?;
                (Signer::Rsa(pair), signing)
            }
            Algorithm::ES256 => {
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|e| invalid(alg, e))?;
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                        .map_err(|e| invalid(alg, e))?;
                let signing = SigningKey::from_pkcs8_der(alg, pkcs8.as_ref(), kid.as_str())?;
                (Signer::Ec(pair), signing)
            }
            Algorithm::EdDSA => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| invalid(alg, e))?;
                let pair =
                    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| invalid(alg, e))?;
                let signing = SigningKey::from_pkcs8_der(alg, pkcs8.as_ref(), kid.as_str())?;
                (Signer::Ed(pair), signing)
            }
            other => {
                return Err(invalid(
                    other,
                    "auth-test generates HS256, RS256, ES256 and EdDSA keys only",
                ));
            }
        };
        Ok(Self::from_parts(alg, kid, signer, signing_key))
    }

    /// An HS256 key with a known secret, for an application whose configuration holds the
    /// secret (e.g. read from an environment variable in production).
    ///
    /// # Errors
    ///
    /// [`ConfigError::WeakHmacSecret`] for a secret shorter than 32 bytes,
    /// [`ConfigError::EmptyValue`] for an empty `kid`.
    pub fn hs256(secret: impl AsRef<[u8]>, kid: impl Into<String>) -> Result<Self, ConfigError> {
        let kid = kid.into();
        let secret = secret.as_ref();
        let signing = SigningKey::hmac(Algorithm::HS256, secret, kid.as_str())?;
        let signer = Signer::Hmac(Box::new(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            secret,
        )));
        Ok(Self::from_parts(Algorithm::HS256, kid, signer, signing))
    }

    fn from_parts(alg: Algorithm, kid: String, signer: Signer, signing_key: SigningKey) -> Self {
        Self {
            inner: Arc::new(Inner {
                alg,
                kid,
                signer,
                signing_key,
            }),
        }
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.inner.alg
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// The key that verifies this key's signatures, pinned to its algorithm, named by its
    /// `kid` (from `auth-core`, as production code derives it).
    #[must_use]
    pub fn verification_key(&self) -> VerificationKey {
        self.inner.signing_key.verification_key()
    }

    /// The same key as an `auth-core` [`SigningKey`], e.g. for a
    /// [`KeyRing`](auth_core::jwt::KeyRing) of a `TokenIssuer` under test.
    #[must_use]
    pub fn signing_key(&self) -> SigningKey {
        self.inner.signing_key.clone()
    }

    /// The public JWK (`kty`, public parameters, `kid`, `alg`, `use`); `None` for HS256,
    /// whose secret is never published.
    #[must_use]
    pub fn public_jwk(&self) -> Option<Map<String, Value>> {
        self.inner
            .signing_key
            .public_jwk()
            .and_then(|j| j.to_json().as_object().cloned())
    }

    /// Signs `message` (the JWS signing input) and returns the raw signature bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] if aws-lc-rs fails to sign (it does not for these keys).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ConfigError> {
        let alg = self.inner.alg;
        match &self.inner.signer {
            Signer::Hmac(key) => Ok(aws_lc_rs::hmac::sign(key, message).as_ref().to_vec()),
            Signer::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
                    .map_err(|e| invalid(alg, e))?;
                Ok(sig)
            }
            Signer::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| invalid(alg, e)),
            Signer::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl TestKey {
    /// A compact JWS over exactly `header` and `claims`, serialized as given (no defaults
    /// added, `alg` not checked): for tests about headers and claims no builder would write.
    ///
    /// ```
    /// use auth_test::TestKey;
    /// use auth_core::jwt::Algorithm;
    /// use serde_json::json;
    ///
    /// let key = TestKey::generate(Algorithm::EdDSA, "k1")?;
    /// let token = key.sign_compact(&json!({"alg": "EdDSA", "crit": ["exp"]}), &json!({"sub": "x"}));
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If the key cannot sign (aws-lc-rs failing), which fails the test that asked.
    #[must_use]
    #[allow(clippy::panic)] // A test kit: a key that cannot sign is a broken test environment.
    pub fn sign_compact(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            crate::token::b64_json(header),
            crate::token::b64_json(claims)
        );
        let signature = self
            .sign(input.as_bytes())
            .unwrap_or_else(|e| panic!("auth-test could not sign a token: {e}"));
        format!(
            "{input}.{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
        )
    }
}

impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestKey")
            .field("alg", &self.inner.alg)
            .field("kid", &self.inner.kid)
            .field("key", &"REDACTED")
            .finish()
    }
}

fn invalid(alg: Algorithm, e: impl fmt::Display) -> ConfigError {
    ConfigError::InvalidKey {
        alg: alg.as_str(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_algorithm_signs_what_its_verification_key_accepts() {
        for alg in SUPPORTED_ALGORITHMS {
            let key = TestKey::generate(alg, "k1").unwrap();
            let sig = key.sign(b"message").unwrap();
            // The key's own self-check in auth-core went through SigningKey; here the public
            // half published as a JWK must match for asymmetric keys.
            assert_eq!(key.algorithm(), alg);
            assert_eq!(key.public_jwk().is_none(), alg == Algorithm::HS256);
            assert!(!sig.is_empty());
        }
    }

    #[test]
    fn unsupported_algorithms_are_a_config_error() {
        assert!(matches!(
            TestKey::generate(Algorithm::PS256, "k"),
            Err(ConfigError::InvalidKey { .. })
        ));
    }

    #[test]
    fn debug_redacts_the_key() {
        let key = TestKey::generate(Algorithm::HS256, "k1").unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("REDACTED") && shown.contains("k1"));
    }
}
