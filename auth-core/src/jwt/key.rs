//! Verification keys, each pinned to exactly one algorithm, and the set they form.

use std::fmt;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::ParsedPublicKey;
use aws_lc_rs::{hmac, rsa};
use base64::Engine as _;
use jsonwebtoken::{DecodingKey, DecodingKeyKind};

use super::algorithm::{Algorithm, Family};
use super::key_checks;
use crate::error::ConfigError;

/// A public key (or HMAC secret) pinned to one algorithm, optionally named by a `kid`.
///
/// A token is only ever checked with a key whose pinned algorithm equals the token's `alg`, so
/// an RSA public key can never be used as an HMAC secret (algorithm confusion), and PEM/DER/JWK
/// material is refused for HMAC algorithms outright.
///
/// ```
/// use auth_core::jwt::{Algorithm, VerificationKey};
///
/// let key = VerificationKey::hmac(Algorithm::HS256, b"0123456789abcdef0123456789abcdef")?
///     .with_kid("2026-01");
/// assert_eq!(key.algorithm(), Algorithm::HS256);
/// assert_eq!(key.kid(), Some("2026-01"));
///
/// // Too short for HS256 (RFC 7518 section 3.2 wants at least the hash size).
/// assert!(VerificationKey::hmac(Algorithm::HS256, b"short").is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct VerificationKey {
    kid: Option<String>,
    alg: Algorithm,
    prepared: Prepared,
}

/// Key material parsed once, at configuration time, so verification neither parses nor
/// allocates key material per request.
#[derive(Clone)]
enum Prepared {
    // Boxed: the HMAC context is large and keys are moved around at build time.
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

/// Parses public key bytes (as jsonwebtoken extracted them from PEM/JWK) for `alg`.
fn prepare_public(alg: Algorithm, key: &DecodingKey) -> Result<Prepared, ConfigError> {
    let verification = alg
        .public_key_algorithm()
        .ok_or(ConfigError::KeyAlgorithmMismatch { alg: alg.as_str() })?;
    let parsed = match key.kind() {
        DecodingKeyKind::SecretOrDer(bytes) => ParsedPublicKey::new(verification, bytes),
        DecodingKeyKind::RsaModulusExponent { n, e } => {
            let spki = rsa::PublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .as_der()
            .map_err(|e| invalid(alg, e))?;
            ParsedPublicKey::new(verification, spki.as_ref())
        }
    };
    let parsed = parsed.map_err(|e| invalid(alg, e))?;
    if alg.family() == Family::Rsa {
        // Read the modulus back from the parsed key, so PEM, DER and JWK are checked alike.
        let spki = parsed.as_der().map_err(|e| invalid(alg, e))?;
        let public = rsa::PublicKey::from_der(spki.as_ref()).map_err(|e| invalid(alg, e))?;
        let components = rsa::PublicKeyComponents::<Vec<u8>>::from(&public);
        key_checks::rsa_modulus(alg, &components.n)?;
    }
    Ok(Prepared::Public(parsed))
}

fn invalid(alg: Algorithm, e: impl fmt::Display) -> ConfigError {
    ConfigError::InvalidKey {
        alg: alg.as_str(),
        reason: e.to_string(),
    }
}

/// Counts signature checks (and RSA fingerprint checks) per thread, so tests can show what a
/// cache hit skips and that key checks run at build time only.
#[cfg(test)]
pub(crate) mod test_counter {
    use std::cell::Cell;

    thread_local! {
        pub(crate) static SIGNATURE_CHECKS: Cell<u64> = const { Cell::new(0) };
    }

    /// Signature checks made on this thread so far.
    pub(crate) fn signature_checks() -> u64 {
        SIGNATURE_CHECKS.with(Cell::get)
    }

    thread_local! {
        pub(crate) static ROCA_CHECKS: Cell<u64> = const { Cell::new(0) };
    }

    /// ROCA fingerprint checks made on this thread so far.
    pub(crate) fn roca_checks() -> u64 {
        ROCA_CHECKS.with(Cell::get)
    }
}

impl VerificationKey {
    /// An HMAC secret for `HS256`, `HS384` or `HS512`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeyAlgorithmMismatch`] for a non-HMAC algorithm, and
    /// [`ConfigError::WeakHmacSecret`] when the secret is shorter than the hash output
    /// (32, 48 or 64 bytes).
    pub fn hmac(alg: Algorithm, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        if alg.family() != Family::Hmac {
            return Err(ConfigError::KeyAlgorithmMismatch { alg: alg.as_str() });
        }
        let min = alg.min_hmac_secret_len();
        if secret.len() < min {
            return Err(ConfigError::WeakHmacSecret {
                alg: alg.as_str(),
                min,
                actual: secret.len(),
            });
        }
        let hmac_alg = alg
            .hmac_algorithm()
            .ok_or(ConfigError::KeyAlgorithmMismatch { alg: alg.as_str() })?;
        Ok(Self {
            kid: None,
            alg,
            prepared: Prepared::Hmac(Box::new(hmac::Key::new(hmac_alg, secret))),
        })
    }

    /// A public key in PEM (`-----BEGIN PUBLIC KEY-----`, or `RSA PUBLIC KEY` for RSA).
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeyAlgorithmMismatch`] for HMAC algorithms (a PEM is never an HMAC
    /// secret), [`ConfigError::InvalidKey`] when the PEM does not parse as a key of the
    /// algorithm's type, [`ConfigError::WeakRsaKey`] for an RSA modulus shorter than 2048 bits
    /// and [`ConfigError::VulnerableRsaKey`] for one with the ROCA fingerprint
    /// (CVE-2017-15361).
    pub fn from_pem(alg: Algorithm, pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let pem = pem.as_ref();
        let key = match alg.family() {
            Family::Hmac => return Err(ConfigError::KeyAlgorithmMismatch { alg: alg.as_str() }),
            Family::Rsa => DecodingKey::from_rsa_pem(pem),
            Family::Ec => DecodingKey::from_ec_pem(pem),
            Family::Ed => DecodingKey::from_ed_pem(pem),
        }
        .map_err(|e| invalid(alg, e))?;
        Ok(Self {
            kid: None,
            alg,
            prepared: prepare_public(alg, &key)?,
        })
    }

    /// A public key as DER `SubjectPublicKeyInfo` (what `openssl pkey -pubout -outform DER`
    /// writes).
    ///
    /// # Errors
    ///
    /// As [`VerificationKey::from_pem`].
    pub fn from_der(alg: Algorithm, der: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        // Re-armour as PEM so the one SPKI parser in jsonwebtoken handles both encodings.
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let mut pem = String::with_capacity(b64.len() + 64);
        pem.push_str("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).map_err(|e| invalid(alg, e))?);
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        Self::from_pem(alg, pem)
    }

    /// A public key from a JWK (RFC 7517) in JSON.
    ///
    /// The JWK's `alg`, when present, pins the key; otherwise `default_alg` does. The JWK's
    /// `kid` becomes the key id. Symmetric (`oct`) JWKs are refused, and so are keys not meant
    /// for verifying signatures: a `use` other than `sig`, or a `key_ops` without `verify`.
    /// An EC or OKP key must name its pinned algorithm's curve in `crv` (`P-256` for ES256,
    /// `P-384` for ES384, `Ed25519` for EdDSA).
    ///
    /// # Errors
    ///
    /// [`ConfigError::JwkAlgorithm`] when no usable algorithm is known or it contradicts
    /// `default_alg`, [`ConfigError::JwkPurpose`] for a key not meant for verifying,
    /// [`ConfigError::KeyAlgorithmMismatch`] when `kty` does not fit the algorithm,
    /// [`ConfigError::InvalidKey`] when `crv` is missing or not the algorithm's curve, or the
    /// JWK does not parse; for RSA, as [`VerificationKey::from_pem`].
    pub fn from_jwk_json(json: &str, default_alg: Option<Algorithm>) -> Result<Self, ConfigError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| ConfigError::JwkAlgorithm(e.to_string()))?;
        let alg_name = value.get("alg").and_then(serde_json::Value::as_str);
        let alg = match (alg_name, default_alg) {
            (Some(name), Some(d)) if name != d.as_str() => {
                return Err(ConfigError::JwkAlgorithm(format!(
                    "jwk alg `{name}` contradicts the configured {d}"
                )));
            }
            (Some(name), _) => Algorithm::from_name(name).ok_or_else(|| {
                ConfigError::JwkAlgorithm(format!("unsupported jwk alg `{name}`"))
            })?,
            (None, Some(d)) => d,
            (None, None) => {
                return Err(ConfigError::JwkAlgorithm(
                    "jwk has no alg and no default algorithm was given".into(),
                ));
            }
        };
        key_checks::jwk_purpose(&value).map_err(ConfigError::JwkPurpose)?;
        let kty = value.get("kty").and_then(serde_json::Value::as_str);
        let kty_ok = matches!(
            (alg.family(), kty),
            (Family::Rsa, Some("RSA")) | (Family::Ec, Some("EC")) | (Family::Ed, Some("OKP"))
        );
        if !kty_ok {
            return Err(ConfigError::KeyAlgorithmMismatch { alg: alg.as_str() });
        }
        key_checks::jwk_curve(&value, alg).map_err(|reason| invalid(alg, reason))?;
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(value.clone()).map_err(|e| invalid(alg, e))?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(alg, e))?;
        let kid = value
            .get("kid")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        Ok(Self {
            kid,
            alg,
            prepared: prepare_public(alg, &key)?,
        })
    }

    /// Names this key; tokens whose header `kid` equals it select it.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm this key is pinned to.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Checks `signature` (raw bytes) over `message` with this key. HMAC tags are compared in
    /// constant time by aws-lc-rs.
    pub(crate) fn verify_signature(&self, message: &[u8], signature: &[u8]) -> bool {
        #[cfg(test)]
        test_counter::SIGNATURE_CHECKS.with(|c| c.set(c.get() + 1));
        match &self.prepared {
            Prepared::Hmac(k) => hmac::verify(k, message, signature).is_ok(),
            Prepared::Public(k) => k.verify_sig(message, signature).is_ok(),
        }
    }

    /// The public half of this key as a JWK (RFC 7517) object: `kty`, the public parameters
    /// (`n`/`e` for RSA, `crv`/`x`/`y` for EC, `crv`/`x` for Ed25519), `alg`, `use: "sig"`
    /// and the `kid` when set. Never a private parameter: the key only ever holds public
    /// material (or an HMAC secret, for which this returns `None`, since a symmetric key has
    /// no public half to publish).
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, VerificationKey};
    ///
    /// let jwk = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    /// let key = VerificationKey::from_jwk_json(jwk, Some(Algorithm::EdDSA))?.with_kid("ed-1");
    /// let public = key.to_public_jwk().expect("asymmetric keys have a public half");
    /// assert_eq!(public["kty"], "OKP");
    /// assert_eq!(public["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    /// assert_eq!(public["kid"], "ed-1");
    /// assert_eq!(public["alg"], "EdDSA");
    /// assert!(public.get("d").is_none());
    ///
    /// let hmac = VerificationKey::hmac(Algorithm::HS256, [7u8; 32])?;
    /// assert!(hmac.to_public_jwk().is_none());
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn to_public_jwk(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        let Prepared::Public(parsed) = &self.prepared else {
            return None;
        };
        let spki = parsed.as_der().ok()?;
        let spki = spki.as_ref();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = serde_json::Map::new();
        let mut put = |k: &str, v: String| {
            jwk.insert(k.to_owned(), serde_json::Value::String(v));
        };
        match self.alg.family() {
            Family::Rsa => {
                let public = rsa::PublicKey::from_der(spki).ok()?;
                let components = rsa::PublicKeyComponents::<Vec<u8>>::from(&public);
                put("kty", "RSA".to_owned());
                put("n", b64(&components.n));
                put("e", b64(&components.e));
            }
            Family::Ec => {
                // aws-lc writes a canonical SubjectPublicKeyInfo whose BIT STRING ends with the
                // uncompressed point 0x04 || x || y; its total length is fixed per curve.
                let (crv, spki_len, coord) = match self.alg {
                    Algorithm::ES256 => ("P-256", 91, 32),
                    Algorithm::ES384 => ("P-384", 120, 48),
                    _ => return None,
                };
                if spki.len() != spki_len {
                    return None;
                }
                let point = spki.get(spki_len - (1 + 2 * coord)..)?;
                let (tag, xy) = point.split_first()?;
                if *tag != 0x04 {
                    return None;
                }
                let (x, y) = xy.split_at_checked(coord)?;
                put("kty", "EC".to_owned());
                put("crv", crv.to_owned());
                put("x", b64(x));
                put("y", b64(y));
            }
            Family::Ed => {
                // Ed25519 SubjectPublicKeyInfo: a 12-byte prefix, then the 32-byte key.
                if spki.len() != 44 {
                    return None;
                }
                put("kty", "OKP".to_owned());
                put("crv", "Ed25519".to_owned());
                put("x", b64(spki.get(12..)?));
            }
            Family::Hmac => return None,
        }
        put("alg", self.alg.as_str().to_owned());
        put("use", "sig".to_owned());
        if let Some(kid) = &self.kid {
            put("kid", kid.clone());
        }
        Some(jwk)
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key", &"REDACTED")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn hmac_secret_length_follows_rfc7518() {
        assert!(VerificationKey::hmac(Algorithm::HS256, &SECRET[..31]).is_err());
        assert!(VerificationKey::hmac(Algorithm::HS256, &SECRET[..32]).is_ok());
        assert!(VerificationKey::hmac(Algorithm::HS384, &SECRET[..47]).is_err());
        assert!(VerificationKey::hmac(Algorithm::HS512, &SECRET[..63]).is_err());
        assert!(VerificationKey::hmac(Algorithm::HS512, SECRET).is_ok());
    }

    #[test]
    fn pem_is_never_an_hmac_secret() {
        let err =
            VerificationKey::from_pem(Algorithm::HS256, b"-----BEGIN PUBLIC KEY-----").unwrap_err();
        assert!(matches!(err, ConfigError::KeyAlgorithmMismatch { .. }));
        assert!(VerificationKey::hmac(Algorithm::RS256, SECRET).is_err());
    }

    #[test]
    fn garbage_pem_is_a_config_error() {
        assert!(VerificationKey::from_pem(Algorithm::RS256, b"not a pem").is_err());
        assert!(VerificationKey::from_pem(Algorithm::ES256, b"").is_err());
    }

    #[test]
    fn pem_armour_around_garbage_is_refused_at_build_time() {
        let pem = "-----BEGIN PUBLIC KEY-----\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n-----END PUBLIC KEY-----\n";
        for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
            assert!(VerificationKey::from_pem(alg, pem).is_err(), "{alg}");
        }
    }

    #[test]
    fn jwk_for_hmac_or_encryption_is_refused() {
        assert!(
            VerificationKey::from_jwk_json(r#"{"kty":"oct","k":"AAAA","alg":"HS256"}"#, None)
                .is_err()
        );
        assert!(VerificationKey::from_jwk_json(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"enc"}"#, Some(Algorithm::EdDSA)).is_err());
        assert!(VerificationKey::from_jwk_json(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#, None).is_err());
        let k = VerificationKey::from_jwk_json(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"}"#, Some(Algorithm::EdDSA)).unwrap();
        assert_eq!(k.kid(), Some("ed"));
    }

    // Issue 12, item 14: the RSA modulus checks belong to building a key, not to verifying.
    #[test]
    fn rsa_modulus_checks_run_once_when_the_key_is_built_never_per_token() {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::signature::KeyPair as _;
        let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
        let spki = pair.public_key().as_der().unwrap();
        let before = test_counter::roca_checks();
        let key = VerificationKey::from_der(Algorithm::RS256, spki.as_ref()).unwrap();
        assert_eq!(test_counter::roca_checks(), before + 1);

        let verifier = crate::jwt::JwtVerifier::builder()
            .key(key)
            .dangerous_accept_any_audience()
            .build()
            .unwrap();
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"sub":"a","exp":4000000000}"#),
            b64("not a signature")
        );
        let signatures = test_counter::signature_checks();
        for _ in 0..3 {
            assert!(verifier.verify_sync(&token).is_err());
        }
        assert_eq!(test_counter::signature_checks(), signatures + 3);
        assert_eq!(test_counter::roca_checks(), before + 1);
    }

    #[test]
    fn debug_redacts_key_material() {
        let k = VerificationKey::hmac(Algorithm::HS512, SECRET).unwrap();
        let s = format!("{k:?}");
        assert!(s.contains("REDACTED"));
        assert!(!s.contains("0123456789"));
    }
}
