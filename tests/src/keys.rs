//! Signing keys for tests, generated at run time so no private key is ever committed.
//!
//! [`TestKey::generate`] makes a fresh key pair (or HMAC secret) with `aws-lc-rs` for one
//! algorithm and keeps it in the two forms the tests need:
//!
//! - the private half as a [`jsonwebtoken::EncodingKey`], in the encoding jsonwebtoken 11's
//!   aws-lc-rs backend parses: a PKCS#1 `RSAPrivateKey` for RSA (`from_rsa_der` hands its bytes
//!   to `RsaKeyPair::from_der`), PKCS#8 for ECDSA and Ed25519 (`from_ec_der`/`from_ed_der` hand
//!   theirs to `from_pkcs8`);
//! - the public half as SPKI DER and PEM (for [`VerificationKey::from_der`] and
//!   [`VerificationKey::from_pem`]) and as a JWK, or the raw HMAC secret.
//!
//! [`KeyRing`] holds one key per algorithm the security tests cover and signs with
//! [`KeyRing::sign`]; [`sign`] signs with any [`EncodingKey`] (for example an RSA public key's
//! PEM bytes misused as an HMAC secret). Header overrides are merged into the JOSE header as
//! given, so tests can set `alg` to `none`, add `crit`, `jwk` or `jku`, or drop `typ`; the
//! signature is always made with the algorithm passed in, whatever the header claims.
//!
//! Nothing here panics: every helper returns a [`Result`] with a [`KeyError`].
//!
//! [`TestKey::generate`]: crate::keys::TestKey::generate
//! [`VerificationKey::from_der`]: auth_core::jwt::VerificationKey::from_der
//! [`VerificationKey::from_pem`]: auth_core::jwt::VerificationKey::from_pem
//! [`KeyRing`]: crate::keys::KeyRing
//! [`KeyRing::sign`]: crate::keys::KeyRing::sign
//! [`sign`]: crate::keys::sign
//! [`EncodingKey`]: jsonwebtoken::EncodingKey
//! [`KeyError`]: crate::keys::KeyError

use std::fmt;
use std::str::FromStr as _;

use auth_core::ConfigError;
use auth_core::jwt::{Algorithm, VerificationKey};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;
use serde_json::{Map, Value};

/// The algorithms a [`KeyRing`] holds keys for, in a stable order.
pub const RING_ALGORITHMS: [Algorithm; 8] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The public half of a [`TestKey`].
#[derive(Clone)]
enum Public {
    /// HMAC: the secret is both halves.
    Secret(Vec<u8>),
    /// RSA: SPKI DER plus modulus and exponent (big-endian) for the JWK.
    Rsa {
        spki: Vec<u8>,
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// ECDSA: SPKI DER plus the uncompressed point `04 || x || y`.
    Ec {
        spki: Vec<u8>,
        crv: &'static str,
        point: Vec<u8>,
    },
    /// Ed25519: SPKI DER plus the raw 32-byte public key.
    Ed { spki: Vec<u8>, raw: Vec<u8> },
}

/// A generated key for one algorithm: what signs tokens and what verifies them.
#[derive(Clone)]
pub struct TestKey {
    alg: Algorithm,
    encoding: EncodingKey,
    public: Public,
}

impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestKey")
            .field("alg", &self.alg)
            .field("key", &"REDACTED")
            .finish()
    }
}

impl TestKey {
    /// Generates a fresh key for `alg`: a random secret of the hash size for HMAC, RSA-2048 for
    /// `RS*`/`PS*`, P-256 or P-384 for `ES256`/`ES384`, Ed25519 for `EdDSA`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Generate`] when aws-lc-rs fails, [`KeyError::Der`] when its PKCS#8 output
    /// cannot be unwrapped, [`KeyError::UnsupportedAlgorithm`] for an algorithm this module has
    /// no generator for.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        match alg {
            Algorithm::HS256 => hmac(alg, 32),
            Algorithm::HS384 => hmac(alg, 48),
            Algorithm::HS512 => hmac(alg, 64),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => rsa(alg),
            Algorithm::ES256 => ecdsa(alg, &ECDSA_P256_SHA256_FIXED_SIGNING, "P-256"),
            Algorithm::ES384 => ecdsa(alg, &ECDSA_P384_SHA384_FIXED_SIGNING, "P-384"),
            Algorithm::EdDSA => ed25519(alg),
            other => Err(KeyError::UnsupportedAlgorithm(other.as_str())),
        }
    }

    /// The same key material used with another algorithm of the same family (e.g. one RSA key
    /// for both `RS256` and `PS256`).
    ///
    /// # Errors
    ///
    /// [`KeyError::FamilyMismatch`] when `alg` needs another kind of key.
    pub fn with_algorithm(&self, alg: Algorithm) -> Result<Self, KeyError> {
        let same_family = matches!(
            (&self.public, alg),
            (
                Public::Secret(_),
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
            ) | (
                Public::Rsa { .. },
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (Public::Ed { .. }, Algorithm::EdDSA)
        ) || matches!(&self.public, Public::Ec { .. }) && alg == self.alg;
        if !same_family {
            return Err(KeyError::FamilyMismatch {
                key: self.alg.as_str(),
                requested: alg.as_str(),
            });
        }
        Ok(Self {
            alg,
            ..self.clone()
        })
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The signing key, as jsonwebtoken wants it.
    #[must_use]
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The HMAC secret, for HMAC keys only.
    #[must_use]
    pub fn hmac_secret(&self) -> Option<&[u8]> {
        match &self.public {
            Public::Secret(s) => Some(s),
            _ => None,
        }
    }

    /// The public key as DER `SubjectPublicKeyInfo`, for asymmetric keys only.
    #[must_use]
    pub fn public_key_der(&self) -> Option<&[u8]> {
        match &self.public {
            Public::Secret(_) => None,
            Public::Rsa { spki, .. } | Public::Ec { spki, .. } | Public::Ed { spki, .. } => {
                Some(spki)
            }
        }
    }

    /// The public key as a `-----BEGIN PUBLIC KEY-----` PEM, for asymmetric keys only.
    #[must_use]
    pub fn public_key_pem(&self) -> Option<String> {
        self.public_key_der().map(spki_pem)
    }

    /// The public key as a JWK (RFC 7517) with `kty`, `alg`, `use: "sig"` and the key
    /// parameters, for asymmetric keys only.
    #[must_use]
    pub fn public_jwk(&self) -> Option<Value> {
        let b64 = |b: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(b));
        let mut jwk = Map::new();
        match &self.public {
            Public::Secret(_) => return None,
            Public::Rsa { n, e, .. } => {
                jwk.insert("kty".into(), "RSA".into());
                jwk.insert("n".into(), b64(n));
                jwk.insert("e".into(), b64(e));
            }
            Public::Ec { crv, point, .. } => {
                // Uncompressed point: 0x04, then x and y of equal length.
                let coords = point.get(1..)?;
                let (x, y) = coords.split_at(coords.len() / 2);
                jwk.insert("kty".into(), "EC".into());
                jwk.insert("crv".into(), (*crv).into());
                jwk.insert("x".into(), b64(x));
                jwk.insert("y".into(), b64(y));
            }
            Public::Ed { raw, .. } => {
                jwk.insert("kty".into(), "OKP".into());
                jwk.insert("crv".into(), "Ed25519".into());
                jwk.insert("x".into(), b64(raw));
            }
        }
        jwk.insert("alg".into(), self.alg.as_str().into());
        jwk.insert("use".into(), "sig".into());
        Some(Value::Object(jwk))
    }

    /// The key a verifier needs to accept this key's tokens: the secret for HMAC, the SPKI DER
    /// public key otherwise, pinned to [`algorithm`](Self::algorithm).
    ///
    /// # Errors
    ///
    /// [`KeyError::Verification`] when [`VerificationKey`] refuses the material.
    pub fn verification_key(&self) -> Result<VerificationKey, KeyError> {
        let key = match &self.public {
            Public::Secret(s) => VerificationKey::hmac(self.alg, s),
            Public::Rsa { spki, .. } | Public::Ec { spki, .. } | Public::Ed { spki, .. } => {
                VerificationKey::from_der(self.alg, spki)
            }
        };
        key.map_err(KeyError::Verification)
    }

    /// Signs `claims_json` with this key; see [`sign`].
    ///
    /// # Errors
    ///
    /// As [`sign`].
    pub fn sign(&self, claims_json: &Value, header_overrides: &Value) -> Result<String, KeyError> {
        sign(self.alg, &self.encoding, claims_json, header_overrides)
    }
}

/// One [`TestKey`] for each of [`RING_ALGORITHMS`]; `RS256` and `PS256` share an RSA key.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<TestKey>,
}

impl KeyRing {
    /// Generates every key (one RSA-2048 key pair, so this takes a moment: generate once per
    /// test binary).
    ///
    /// # Errors
    ///
    /// As [`TestKey::generate`].
    pub fn generate() -> Result<Self, KeyError> {
        let rsa = TestKey::generate(Algorithm::RS256)?;
        let mut keys = Vec::with_capacity(RING_ALGORITHMS.len());
        for alg in RING_ALGORITHMS {
            let key = match alg {
                Algorithm::RS256 | Algorithm::PS256 => rsa.with_algorithm(alg)?,
                other => TestKey::generate(other)?,
            };
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// The key for `alg`.
    ///
    /// # Errors
    ///
    /// [`KeyError::UnsupportedAlgorithm`] when `alg` is not one of [`RING_ALGORITHMS`].
    pub fn get(&self, alg: Algorithm) -> Result<&TestKey, KeyError> {
        self.keys
            .iter()
            .find(|k| k.alg == alg)
            .ok_or(KeyError::UnsupportedAlgorithm(alg.as_str()))
    }

    /// Signs `claims_json` with the ring's key for `alg`; see [`sign`].
    ///
    /// # Errors
    ///
    /// As [`KeyRing::get`] and [`sign`].
    pub fn sign(
        &self,
        alg: Algorithm,
        claims_json: &Value,
        header_overrides: &Value,
    ) -> Result<String, KeyError> {
        self.get(alg)?.sign(claims_json, header_overrides)
    }
}

/// Builds a compact JWS: the header `{"alg": <alg>, "typ": "JWT"}` with `header_overrides` (a
/// JSON object, or `null` for none) merged in, where a `null` member removes that header
/// member; the payload `claims_json` serialized as is (any JSON value); and a signature made
/// with `key` under `alg`, whatever the header says.
///
/// # Errors
///
/// [`KeyError::HeaderOverrides`] when `header_overrides` is neither an object nor `null`,
/// [`KeyError::Sign`] when jsonwebtoken cannot sign (e.g. `key` is for another family).
pub fn sign(
    alg: Algorithm,
    key: &EncodingKey,
    claims_json: &Value,
    header_overrides: &Value,
) -> Result<String, KeyError> {
    let mut header = Map::new();
    header.insert("alg".into(), alg.as_str().into());
    header.insert("typ".into(), "JWT".into());
    match header_overrides {
        Value::Null => {}
        Value::Object(overrides) => {
            for (name, value) in overrides {
                if value.is_null() {
                    header.remove(name);
                } else {
                    header.insert(name.clone(), value.clone());
                }
            }
        }
        _ => return Err(KeyError::HeaderOverrides),
    }
    let header = Value::Object(header).to_string();
    let payload = claims_json.to_string();
    sign_raw(alg, key, header.as_bytes(), payload.as_bytes())
}

/// Builds a compact JWS from raw header and payload bytes (which need not be JSON), signed with
/// `key` under `alg`.
///
/// # Errors
///
/// [`KeyError::Sign`] when jsonwebtoken cannot sign.
pub fn sign_raw(
    alg: Algorithm,
    key: &EncodingKey,
    header: &[u8],
    payload: &[u8],
) -> Result<String, KeyError> {
    let jwt_alg = jsonwebtoken::Algorithm::from_str(alg.as_str()).map_err(KeyError::Sign)?;
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), key, jwt_alg).map_err(KeyError::Sign)?;
    Ok(format!("{message}.{signature}"))
}

fn hmac(alg: Algorithm, len: usize) -> Result<TestKey, KeyError> {
    let mut secret = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| KeyError::Generate("hmac secret"))?;
    Ok(TestKey {
        alg,
        encoding: EncodingKey::from_secret(&secret),
        public: Public::Secret(secret),
    })
}

fn rsa(alg: Algorithm) -> Result<TestKey, KeyError> {
    let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| KeyError::Generate("rsa-2048 key pair"))?;
    let pkcs8 = pair
        .as_der()
        .map_err(|_| KeyError::Generate("rsa pkcs#8 export"))?;
    let pkcs1 = pkcs8_private_key(pkcs8.as_ref())?;
    let public = pair.public_key();
    let spki = public
        .as_der()
        .map_err(|_| KeyError::Generate("rsa spki export"))?;
    let components = PublicKeyComponents::<Vec<u8>>::from(public);
    Ok(TestKey {
        alg,
        encoding: EncodingKey::from_rsa_der(pkcs1),
        public: Public::Rsa {
            spki: spki.as_ref().to_vec(),
            n: components.n,
            e: components.e,
        },
    })
}

fn ecdsa(
    alg: Algorithm,
    signing: &'static aws_lc_rs::signature::EcdsaSigningAlgorithm,
    crv: &'static str,
) -> Result<TestKey, KeyError> {
    let pair = EcdsaKeyPair::generate(signing).map_err(|_| KeyError::Generate("ecdsa key"))?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|_| KeyError::Generate("ecdsa pkcs#8 export"))?;
    let spki = pair
        .public_key()
        .as_der()
        .map_err(|_| KeyError::Generate("ecdsa spki export"))?;
    Ok(TestKey {
        alg,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        public: Public::Ec {
            spki: spki.as_ref().to_vec(),
            crv,
            point: pair.public_key().as_ref().to_vec(),
        },
    })
}

fn ed25519(alg: Algorithm) -> Result<TestKey, KeyError> {
    let pair = Ed25519KeyPair::generate().map_err(|_| KeyError::Generate("ed25519 key"))?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|_| KeyError::Generate("ed25519 pkcs#8 export"))?;
    let spki = pair
        .public_key()
        .as_der()
        .map_err(|_| KeyError::Generate("ed25519 spki export"))?;
    Ok(TestKey {
        alg,
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        public: Public::Ed {
            spki: spki.as_ref().to_vec(),
            raw: pair.public_key().as_ref().to_vec(),
        },
    })
}

fn spki_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    pem.push_str("-----BEGIN PUBLIC KEY-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        pem.push_str(line);
        pem.push('\n');
        rest = tail;
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// Splits one DER TLV off `input`: `(tag, contents, rest)`. Definite lengths only.
fn der_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), KeyError> {
    let (&tag, rest) = input.split_first().ok_or(KeyError::Der("truncated tag"))?;
    let (&first, mut rest) = rest
        .split_first()
        .ok_or(KeyError::Der("truncated length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Err(KeyError::Der("unsupported length encoding"));
        }
        let (bytes, tail) = rest
            .split_at_checked(count)
            .ok_or(KeyError::Der("truncated length"))?;
        rest = tail;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let (contents, rest) = rest
        .split_at_checked(len)
        .ok_or(KeyError::Der("truncated contents"))?;
    Ok((tag, contents, rest))
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo` (RFC 5208): for RSA, the PKCS#1
/// `RSAPrivateKey` that jsonwebtoken's `EncodingKey::from_rsa_der` expects.
fn pkcs8_private_key(pkcs8: &[u8]) -> Result<&[u8], KeyError> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OCTET_STRING: u8 = 0x04;
    let (tag, info, _) = der_tlv(pkcs8)?;
    if tag != SEQUENCE {
        return Err(KeyError::Der("PrivateKeyInfo is not a sequence"));
    }
    let (tag, _version, rest) = der_tlv(info)?;
    if tag != INTEGER {
        return Err(KeyError::Der("version is not an integer"));
    }
    let (tag, _algorithm, rest) = der_tlv(rest)?;
    if tag != SEQUENCE {
        return Err(KeyError::Der("privateKeyAlgorithm is not a sequence"));
    }
    let (tag, private_key, _) = der_tlv(rest)?;
    if tag != OCTET_STRING {
        return Err(KeyError::Der("privateKey is not an octet string"));
    }
    Ok(private_key)
}

/// Why a test key could not be made or used.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// aws-lc-rs failed to generate or export the named thing.
    Generate(&'static str),
    /// The PKCS#8 document aws-lc-rs exported did not have the expected shape.
    Der(&'static str),
    /// This module has no key generator for the algorithm.
    UnsupportedAlgorithm(&'static str),
    /// The key cannot be used with the requested algorithm.
    FamilyMismatch {
        /// The key's algorithm.
        key: &'static str,
        /// The algorithm asked for.
        requested: &'static str,
    },
    /// Header overrides must be a JSON object or `null`.
    HeaderOverrides,
    /// jsonwebtoken refused to sign.
    Sign(jsonwebtoken::errors::Error),
    /// auth-core refused the public key or secret.
    Verification(ConfigError),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Generate(what) => write!(f, "aws-lc-rs could not generate the {what}"),
            Self::Der(why) => write!(f, "unexpected pkcs#8 encoding: {why}"),
            Self::UnsupportedAlgorithm(alg) => write!(f, "no test key generator for {alg}"),
            Self::FamilyMismatch { key, requested } => {
                write!(f, "a {key} key cannot sign {requested}")
            }
            Self::HeaderOverrides => f.write_str("header overrides must be an object or null"),
            Self::Sign(e) => write!(f, "signing failed: {e}"),
            Self::Verification(e) => write!(f, "verification key refused: {e}"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Sign(e) => Some(e),
            Self::Verification(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::clock::{ManualClock, UnixTime};
    use auth_core::jwt::JwtVerifier;
    use serde_json::json;

    fn verify(key: &TestKey, token: &str) -> Result<String, auth_core::AuthError> {
        let verifier = JwtVerifier::builder()
            .key(key.verification_key().unwrap())
            .audience("aud")
            .clock(ManualClock::new(UnixTime::from_secs(1_000)))
            .build()
            .unwrap();
        verifier.verify_sync(token).map(|p| p.subject().to_owned())
    }

    #[test]
    fn every_ring_key_signs_tokens_its_own_verification_key_accepts() {
        let ring = KeyRing::generate().unwrap();
        let claims = json!({"sub": "alice", "aud": "aud", "exp": 2_000});
        for alg in RING_ALGORITHMS {
            let token = ring.sign(alg, &claims, &Value::Null).unwrap();
            let subject =
                verify(ring.get(alg).unwrap(), &token).unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(subject, "alice", "{alg}");
        }
    }

    #[test]
    fn pem_and_jwk_forms_name_the_same_public_key_as_the_der() {
        let key = TestKey::generate(Algorithm::ES256).unwrap();
        let token = key
            .sign(
                &json!({"sub": "a", "aud": "aud", "exp": 2_000}),
                &Value::Null,
            )
            .unwrap();
        let from_pem = VerificationKey::from_pem(Algorithm::ES256, key.public_key_pem().unwrap());
        let from_jwk = VerificationKey::from_jwk_json(&key.public_jwk().unwrap().to_string(), None);
        for vk in [from_pem.unwrap(), from_jwk.unwrap()] {
            let verifier = JwtVerifier::builder()
                .key(vk)
                .audience("aud")
                .clock(ManualClock::new(UnixTime::from_secs(1_000)))
                .build()
                .unwrap();
            assert_eq!(verifier.verify_sync(&token).unwrap().subject(), "a");
        }
    }

    #[test]
    fn header_overrides_replace_add_and_remove_members() {
        let key = TestKey::generate(Algorithm::HS256).unwrap();
        let token = key
            .sign(
                &json!({}),
                &json!({"alg": "none", "kid": "k1", "typ": null}),
            )
            .unwrap();
        let header = token.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "none", "kid": "k1"}));
    }

    #[test]
    fn header_overrides_that_are_not_an_object_are_refused() {
        let key = TestKey::generate(Algorithm::HS256).unwrap();
        assert!(matches!(
            key.sign(&json!({}), &json!(["alg"])),
            Err(KeyError::HeaderOverrides)
        ));
    }

    #[test]
    fn rsa_keys_cannot_be_reused_for_another_family() {
        let key = TestKey::generate(Algorithm::RS256).unwrap();
        assert!(key.with_algorithm(Algorithm::PS256).is_ok());
        assert!(matches!(
            key.with_algorithm(Algorithm::ES256),
            Err(KeyError::FamilyMismatch { .. })
        ));
    }

    #[test]
    fn der_reader_refuses_truncated_input() {
        assert!(pkcs8_private_key(&[]).is_err());
        assert!(pkcs8_private_key(&[0x30, 0x05, 0x02]).is_err());
        assert!(pkcs8_private_key(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(pkcs8_private_key(&[0x04, 0x00]).is_err());
    }

    #[test]
    fn debug_output_redacts_key_material() {
        let key = TestKey::generate(Algorithm::HS256).unwrap();
        let secret = STANDARD.encode(key.hmac_secret().unwrap());
        let debug = format!("{key:?}");
        assert!(debug.contains("REDACTED"));
        assert!(!debug.contains(&secret));
    }
}
