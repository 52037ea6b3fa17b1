//! [`SigningKey`]: private key material (or an HMAC secret) pinned to one algorithm and named by
//! a `kid`, with its public half derived once: a [`VerificationKey`] and, for asymmetric keys, a
//! public [`PublicJwk`].

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;
use serde::Serialize;
use serde_json::{Map, Value};

use super::algorithm::{Algorithm, Family};
use super::key::VerificationKey;
use crate::error::ConfigError;

/// The JWK members that carry private key material (RFC 7518 section 6). A [`PublicJwk`] never
/// contains any of them.
pub const PRIVATE_JWK_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/// A key that signs tokens: an HMAC secret or a PKCS#8 private key, pinned to one algorithm
/// and named by a `kid` (required, so verifiers can pick the key after a rotation).
///
/// Building one checks everything once: the secret's length (RFC 7518 section 3.2), that the
/// private key parses for the algorithm (RSA of 2048 to 8192 bits, a P-256 or P-384 key for
/// `ES256`/`ES384`, Ed25519 for `EdDSA`), and that a probe signature made with it verifies
/// with the derived public key, so a key that could not sign or would produce unverifiable
/// tokens is a [`ConfigError`] at start-up, never a failed login later.
///
/// `Debug` never shows key material.
///
/// ```
/// use auth_core::jwt::{Algorithm, SigningKey};
///
/// // A fresh key (generated with aws-lc-rs); the private half never leaves the process.
/// let key = SigningKey::generate(Algorithm::ES256, "2026-05")?;
/// assert_eq!(key.kid(), "2026-05");
/// let jwk = key.public_jwk().expect("asymmetric keys have a public JWK");
/// assert_eq!(jwk.get("kty").and_then(|v| v.as_str()), Some("EC"));
/// assert!(jwk.get("d").is_none());
/// assert!(format!("{key:?}").contains("REDACTED"));
///
/// // HMAC secrets must be at least as long as the hash.
/// assert!(SigningKey::hmac(Algorithm::HS256, b"too short", "k").is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    kid: Arc<str>,
    alg: Algorithm,
    encoding: EncodingKey,
    verification: VerificationKey,
    jwk: Option<PublicJwk>,
}

impl SigningKey {
    /// An HMAC secret for `HS256`, `HS384` or `HS512`.
    ///
    /// HMAC keys have no public half: they are never published as JWKs, and every verifier
    /// holding one could also mint tokens. Prefer an asymmetric algorithm when other services
    /// verify the tokens.
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeyAlgorithmMismatch`] for a non-HMAC algorithm,
    /// [`ConfigError::WeakHmacSecret`] when the secret is shorter than the hash output,
    /// [`ConfigError::EmptyValue`] for an empty `kid`.
    pub fn hmac(
        alg: Algorithm,
        secret: impl AsRef<[u8]>,
        kid: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let kid = kid_from(kid)?;
        let secret = secret.as_ref();
        let verification = VerificationKey::hmac(alg, secret)?.with_kid(kid.as_ref());
        Self::checked(
            kid,
            alg,
            EncodingKey::from_secret(secret),
            verification,
            None,
        )
    }

    /// A private key in PEM: an unencrypted PKCS#8 document (`-----BEGIN PRIVATE KEY-----`,
    /// what `openssl genpkey` writes).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] when the PEM is not an unencrypted PKCS#8 private key (PKCS#1
    /// `RSA PRIVATE KEY`, SEC 1 `EC PRIVATE KEY` and encrypted keys are refused with a message
    /// saying how to convert them), and everything [`SigningKey::from_pkcs8_der`] reports.
    pub fn from_pkcs8_pem(
        alg: Algorithm,
        pem: impl AsRef<[u8]>,
        kid: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let der = pkcs8_pem_to_der(alg, pem.as_ref())?;
        Self::from_pkcs8_der(alg, der, kid)
    }

    /// A private key as DER-encoded unencrypted PKCS#8 (RFC 5208 or RFC 5958).
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeyAlgorithmMismatch`] for HMAC algorithms, [`ConfigError::InvalidKey`]
    /// when the key does not parse for the algorithm (wrong type or curve, RSA outside 2048 to
    /// 8192 bits) or its probe signature does not verify, [`ConfigError::EmptyValue`] for an
    /// empty `kid`.
    pub fn from_pkcs8_der(
        alg: Algorithm,
        der: impl AsRef<[u8]>,
        kid: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let kid = kid_from(kid)?;
        let der = der.as_ref();
        let (encoding, spki) = match alg.family() {
            Family::Hmac => return Err(ConfigError::KeyAlgorithmMismatch { alg: alg.as_str() }),
            Family::Rsa => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(der).map_err(|e| invalid(alg, e))?;
                let spki = pair.public_key().as_der().map_err(|e| invalid(alg, e))?;
                // jsonwebtoken signs RSA with a PKCS#1 key; its PEM loader unwraps PKCS#8.
                let encoding = EncodingKey::from_rsa_pem(armour("PRIVATE KEY", der).as_bytes())
                    .map_err(|e| invalid(alg, e))?;
                (encoding, spki.as_ref().to_vec())
            }
            Family::Ec => {
                let signing = ec_params(alg)?;
                let pair = EcdsaKeyPair::from_pkcs8(signing, der).map_err(|e| invalid(alg, e))?;
                let spki = pair.public_key().as_der().map_err(|e| invalid(alg, e))?;
                (EncodingKey::from_ec_der(der), spki.as_ref().to_vec())
            }
            Family::Ed => {
                let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|e| invalid(alg, e))?;
                let spki = pair.public_key().as_der().map_err(|e| invalid(alg, e))?;
                (EncodingKey::from_ed_der(der), spki.as_ref().to_vec())
            }
        };
        let verification = VerificationKey::from_der(alg, &spki)?.with_kid(kid.as_ref());
        // One JWK encoder for the whole crate: the verification key's public half.
        let jwk = verification
            .to_public_jwk()
            .ok_or_else(|| invalid(alg, "the public key cannot be encoded as a jwk"))?;
        Self::checked(kid, alg, encoding, verification, Some(PublicJwk(jwk)))
    }

    /// Generates a fresh key with aws-lc-rs: a random secret of the hash size for HMAC,
    /// RSA-2048 for `RS*`/`PS*`, P-256 or P-384 for `ES256`/`ES384`, Ed25519 for `EdDSA`.
    ///
    /// Meant for tests, demos and deployments that rotate ephemeral keys; the private half only
    /// lives in this process.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] when the system random source or aws-lc-rs fails, and
    /// everything the other constructors report.
    pub fn generate(alg: Algorithm, kid: impl Into<String>) -> Result<Self, ConfigError> {
        match alg.family() {
            Family::Hmac => {
                let mut secret = vec![0u8; alg.min_hmac_secret_len()];
                getrandom::fill(&mut secret).map_err(|e| invalid(alg, e))?;
                Self::hmac(alg, &secret, kid)
            }
            Family::Rsa => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|e| invalid(alg, e))?;
                let der =
                    aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(
                        &pair,
                    )
                    .map_err(|e| invalid(alg, e))?;
                Self::from_pkcs8_der(alg, der.as_ref(), kid)
            }
            Family::Ec => {
                let signing = ec_params(alg)?;
                let pair = EcdsaKeyPair::generate(signing).map_err(|e| invalid(alg, e))?;
                let der = pair.to_pkcs8v1().map_err(|e| invalid(alg, e))?;
                Self::from_pkcs8_der(alg, der.as_ref(), kid)
            }
            Family::Ed => {
                let pair = Ed25519KeyPair::generate().map_err(|e| invalid(alg, e))?;
                let der = pair.to_pkcs8().map_err(|e| invalid(alg, e))?;
                Self::from_pkcs8_der(alg, der.as_ref(), kid)
            }
        }
    }

    /// Signs a probe message and checks it with the derived verification key, so the two
    /// halves are known to agree before the key is used.
    fn checked(
        kid: Arc<str>,
        alg: Algorithm,
        encoding: EncodingKey,
        verification: VerificationKey,
        jwk: Option<PublicJwk>,
    ) -> Result<Self, ConfigError> {
        let probe = b"auth-core signing key self-check";
        let signature = jsonwebtoken::crypto::sign(probe, &encoding, jwt_algorithm(alg))
            .map_err(|e| invalid(alg, e))?;
        let raw = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| invalid(alg, e))?;
        if !verification.verify_signature(probe, &raw) {
            return Err(invalid(
                alg,
                "a probe signature does not verify with the derived public key",
            ));
        }
        Ok(Self {
            kid,
            alg,
            encoding,
            verification,
            jwk,
        })
    }

    /// The key id, put in the `kid` header of every token this key signs.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key that verifies this key's signatures (the public key, or the HMAC secret), pinned
    /// to the same algorithm and named by the same `kid`.
    #[must_use]
    pub fn verification_key(&self) -> VerificationKey {
        self.verification.clone()
    }

    /// The public key as a JWK (RFC 7517), with `kty`, the public parameters, `kid`, `alg` and
    /// `use: "sig"`; `None` for HMAC keys, whose secret must never be published.
    #[must_use]
    pub fn public_jwk(&self) -> Option<&PublicJwk> {
        self.jwk.as_ref()
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn kid_arc(&self) -> &Arc<str> {
        &self.kid
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key", &"REDACTED")
            .finish()
    }
}

/// The public half of an asymmetric key as a JSON Web Key (RFC 7517).
///
/// Only public members are ever put in one (`kty`, `n`/`e`, `crv`/`x`/`y`, `kid`, `alg`,
/// `use`); none of [`PRIVATE_JWK_MEMBERS`] can appear. Serializes as the JSON object.
///
/// ```
/// use auth_core::jwt::{Algorithm, PRIVATE_JWK_MEMBERS, SigningKey};
///
/// let key = SigningKey::generate(Algorithm::EdDSA, "ed-1")?;
/// let jwk = key.public_jwk().unwrap();
/// assert_eq!(jwk.kid(), Some("ed-1"));
/// let json = serde_json::to_value(jwk).unwrap();
/// assert_eq!(json["crv"], "Ed25519");
/// assert!(PRIVATE_JWK_MEMBERS.iter().all(|m| json.get(m).is_none()));
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PublicJwk(Map<String, Value>);

impl PublicJwk {
    /// A member of the JWK.
    #[must_use]
    pub fn get(&self, member: &str) -> Option<&Value> {
        self.0.get(member)
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.0.get("kid").and_then(Value::as_str)
    }

    /// The JWK as a JSON object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

fn kid_from(kid: impl Into<String>) -> Result<Arc<str>, ConfigError> {
    let kid: String = kid.into();
    if kid.is_empty() {
        return Err(ConfigError::EmptyValue("kid"));
    }
    Ok(Arc::from(kid))
}

fn invalid(alg: Algorithm, e: impl fmt::Display) -> ConfigError {
    ConfigError::InvalidKey {
        alg: alg.as_str(),
        reason: e.to_string(),
    }
}

fn ec_params(alg: Algorithm) -> Result<&'static EcdsaSigningAlgorithm, ConfigError> {
    match alg {
        Algorithm::ES256 => Ok(&ECDSA_P256_SHA256_FIXED_SIGNING),
        Algorithm::ES384 => Ok(&ECDSA_P384_SHA384_FIXED_SIGNING),
        other => Err(ConfigError::KeyAlgorithmMismatch {
            alg: other.as_str(),
        }),
    }
}

/// The jsonwebtoken algorithm of the same name.
pub(crate) fn jwt_algorithm(alg: Algorithm) -> jsonwebtoken::Algorithm {
    use jsonwebtoken::Algorithm as J;
    match alg {
        Algorithm::HS256 => J::HS256,
        Algorithm::HS384 => J::HS384,
        Algorithm::HS512 => J::HS512,
        Algorithm::RS256 => J::RS256,
        Algorithm::RS384 => J::RS384,
        Algorithm::RS512 => J::RS512,
        Algorithm::PS256 => J::PS256,
        Algorithm::PS384 => J::PS384,
        Algorithm::PS512 => J::PS512,
        Algorithm::ES256 => J::ES256,
        Algorithm::ES384 => J::ES384,
        Algorithm::EdDSA => J::EdDSA,
    }
}

/// PEM armour around DER.
fn armour(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// The DER inside an unencrypted PKCS#8 PEM document.
fn pkcs8_pem_to_der(alg: Algorithm, pem: &[u8]) -> Result<Vec<u8>, ConfigError> {
    let text = std::str::from_utf8(pem).map_err(|_| invalid(alg, "pem is not utf-8 text"))?;
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let Some(start) = text.find(BEGIN) else {
        let reason = if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            "encrypted pkcs#8 is not supported; decrypt it first (openssl pkcs8 -nocrypt)"
        } else if text.contains("-----BEGIN RSA PRIVATE KEY-----")
            || text.contains("-----BEGIN EC PRIVATE KEY-----")
        {
            "expected pkcs#8 (BEGIN PRIVATE KEY); convert with `openssl pkcs8 -topk8 -nocrypt`"
        } else {
            "no `BEGIN PRIVATE KEY` block found"
        };
        return Err(invalid(alg, reason));
    };
    let body = text.get(start + BEGIN.len()..).unwrap_or("");
    let end = body
        .find(END)
        .ok_or_else(|| invalid(alg, "unterminated pem block"))?;
    let b64: String = body
        .get(..end)
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|_| invalid(alg, "pem body is not base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asymmetric_algorithm_generates_and_self_checks() {
        for alg in [
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            let key = SigningKey::generate(alg, format!("k-{alg}")).unwrap();
            assert_eq!(key.algorithm(), alg);
            assert_eq!(key.verification_key().kid(), Some(key.kid()));
            let jwk = key.public_jwk().unwrap();
            assert_eq!(jwk.get("alg").and_then(Value::as_str), Some(alg.as_str()));
            for m in PRIVATE_JWK_MEMBERS {
                assert!(jwk.get(m).is_none(), "{alg}: {m}");
            }
        }
    }

    #[test]
    fn hmac_keys_have_no_public_jwk() {
        let key = SigningKey::generate(Algorithm::HS256, "h").unwrap();
        assert!(key.public_jwk().is_none());
    }

    #[test]
    fn pkcs8_pem_round_trips_and_other_pem_kinds_are_explained() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = pair.to_pkcs8v1().unwrap();
        let pem = armour("PRIVATE KEY", der.as_ref());
        let key = SigningKey::from_pkcs8_pem(Algorithm::ES256, &pem, "ec").unwrap();
        assert_eq!(key.kid(), "ec");

        let sec1 = pem.replace("PRIVATE KEY", "EC PRIVATE KEY");
        let err = SigningKey::from_pkcs8_pem(Algorithm::ES256, &sec1, "ec").unwrap_err();
        assert!(err.to_string().contains("openssl pkcs8 -topk8"), "{err}");
        let enc = pem.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY");
        assert!(SigningKey::from_pkcs8_pem(Algorithm::ES256, &enc, "ec").is_err());
    }

    #[test]
    fn a_key_of_the_wrong_type_or_curve_is_refused() {
        let p256 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .unwrap()
            .to_pkcs8v1()
            .unwrap();
        assert!(SigningKey::from_pkcs8_der(Algorithm::ES384, p256.as_ref(), "k").is_err());
        assert!(SigningKey::from_pkcs8_der(Algorithm::RS256, p256.as_ref(), "k").is_err());
        assert!(SigningKey::from_pkcs8_der(Algorithm::EdDSA, p256.as_ref(), "k").is_err());
        assert!(matches!(
            SigningKey::from_pkcs8_der(Algorithm::HS256, p256.as_ref(), "k"),
            Err(ConfigError::KeyAlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn empty_kid_is_refused() {
        assert_eq!(
            SigningKey::hmac(Algorithm::HS256, [1u8; 32], "").unwrap_err(),
            ConfigError::EmptyValue("kid")
        );
    }

    #[test]
    fn debug_redacts_the_key() {
        let key = SigningKey::hmac(Algorithm::HS256, [b'z'; 32], "k").unwrap();
        let s = format!("{key:?}");
        assert!(s.contains("REDACTED") && !s.contains("zzzz"), "{s}");
    }
}
