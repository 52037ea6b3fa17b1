//! Publishing our own public keys as a JWK Set (RFC 7517 section 5).

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use super::key::VerificationKey;
use crate::error::ConfigError;

/// The media type served with a JWK Set document. Plain `application/json` (rather than
/// `application/jwk-set+json`) because every JWKS client accepts it.
pub const JWKS_CONTENT_TYPE: &str = "application/json";

/// The public halves of an issuer's keys, as a JWK Set.
///
/// Built from [`VerificationKey`]s (themselves made from PEM/DER public keys or JWKs, or taken
/// from an issuer's key ring), it only ever contains public parameters: a `VerificationKey`
/// holds no private material, and symmetric (HMAC) keys, which have no public half, are left
/// out. An HS256-only deployment therefore publishes `{"keys":[]}`.
///
/// # Key rotation
///
/// Give it every key a verifier should currently trust, which is more than the one key that
/// signs:
///
/// 1. **Publish the next key before it signs anything**, and wait at least the verifiers' cache
///    lifetime (the `max-age` you serve, bounded by their maximum) before signing with it, so
///    no verifier meets a token whose key it has not fetched.
/// 2. **Keep a retired key published until every token it signed has expired** (its last
///    signature time plus the longest token lifetime, plus clock leeway).
///
/// Each key needs a distinct `kid` so verifiers can pick it.
///
/// ```
/// use auth_core::jwt::{Algorithm, PublicJwkSet, VerificationKey};
/// use std::time::Duration;
///
/// let current = VerificationKey::from_jwk_json(
///     r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
///     Some(Algorithm::EdDSA),
/// )?
/// .with_kid("2026-05");
/// let hmac = VerificationKey::hmac(Algorithm::HS256, [1u8; 32])?.with_kid("internal");
///
/// let set = PublicJwkSet::from_keys([&current, &hmac])?;
/// assert_eq!(set.len(), 1); // the HMAC secret is never published
/// let doc = set.document(Duration::from_secs(300));
/// assert_eq!(doc.cache_control(), "public, max-age=300");
/// let json: serde_json::Value = serde_json::from_str(doc.body())?;
/// assert_eq!(json["keys"][0]["kid"], "2026-05");
/// assert!(json["keys"][0].get("d").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct PublicJwkSet {
    keys: Vec<Map<String, Value>>,
}

impl fmt::Debug for PublicJwkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<Option<&str>> = self
            .keys
            .iter()
            .map(|k| k.get("kid").and_then(Value::as_str))
            .collect();
        f.debug_struct("PublicJwkSet").field("kids", &kids).finish()
    }
}

impl PublicJwkSet {
    /// The public halves of `keys`, in order, leaving out symmetric keys.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateKeyId`] when two published keys share a `kid` (verifiers could
    /// not tell them apart), [`ConfigError::InvalidKey`] if a public key cannot be encoded.
    pub fn from_keys<'a>(
        keys: impl IntoIterator<Item = &'a VerificationKey>,
    ) -> Result<Self, ConfigError> {
        let mut set = Self::default();
        for key in keys {
            set.push(key)?;
        }
        Ok(set)
    }

    /// Adds the public half of `key`; returns `false` (and adds nothing) for a symmetric key.
    ///
    /// # Errors
    ///
    /// As [`from_keys`](Self::from_keys).
    pub fn push(&mut self, key: &VerificationKey) -> Result<bool, ConfigError> {
        if key.algorithm().hmac_algorithm().is_some() {
            return Ok(false);
        }
        let jwk = key.to_public_jwk().ok_or_else(|| ConfigError::InvalidKey {
            alg: key.algorithm().as_str(),
            reason: "the public key cannot be encoded as a jwk".into(),
        })?;
        if let Some(kid) = key.kid()
            && self
                .keys
                .iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        {
            return Err(ConfigError::DuplicateKeyId(kid.to_owned()));
        }
        self.keys.push(jwk);
        Ok(true)
    }

    /// How many keys are published.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is published.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The JWK objects.
    #[must_use]
    pub fn keys(&self) -> &[Map<String, Value>] {
        &self.keys
    }

    /// The JWK Set as JSON: `{"keys":[...]}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        let keys: Vec<Value> = self.keys.iter().cloned().map(Value::Object).collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    /// A ready-to-serve document: body, content type, and a `Cache-Control` header telling
    /// verifiers to cache it for `max_age` (keep that below the time between publishing a new
    /// key and first signing with it).
    #[must_use]
    pub fn document(&self, max_age: Duration) -> JwksDocument {
        JwksDocument {
            body: self.to_json(),
            cache_control: format!("public, max-age={}", max_age.as_secs()),
        }
    }
}

/// A JWK Set ready to serve from any HTTP stack: body plus the two headers to send with it.
///
/// ```
/// use auth_core::jwt::{JWKS_CONTENT_TYPE, PublicJwkSet};
/// use std::time::Duration;
///
/// let doc = PublicJwkSet::default().document(Duration::from_secs(600));
/// // e.g. in axum: ([(CONTENT_TYPE, doc.content_type()), (CACHE_CONTROL, doc.cache_control())], doc.body().to_owned())
/// assert_eq!(doc.body(), r#"{"keys":[]}"#);
/// assert_eq!(doc.content_type(), JWKS_CONTENT_TYPE);
/// assert_eq!(doc.cache_control(), "public, max-age=600");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksDocument {
    body: String,
    cache_control: String,
}

impl JwksDocument {
    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The `Content-Type` value, [`JWKS_CONTENT_TYPE`].
    #[must_use]
    pub fn content_type(&self) -> &'static str {
        JWKS_CONTENT_TYPE
    }

    /// The `Cache-Control` value, `public, max-age=<secs>`.
    #[must_use]
    pub fn cache_control(&self) -> &str {
        &self.cache_control
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Algorithm;

    const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

    #[test]
    fn published_keys_round_trip_and_carry_no_private_member() {
        let jwks = [
            (
                Algorithm::EdDSA,
                r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"}"#,
            ),
            (
                Algorithm::ES256,
                r#"{"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
            ),
        ];
        let keys: Vec<VerificationKey> = jwks
            .iter()
            .map(|(alg, j)| VerificationKey::from_jwk_json(j, Some(*alg)).unwrap())
            .collect();
        let set = PublicJwkSet::from_keys(&keys).unwrap();
        assert_eq!(set.len(), 2);
        for ((alg, original), published) in jwks.iter().zip(set.keys()) {
            let original: Map<String, Value> = serde_json::from_str(original).unwrap();
            for member in ["kty", "crv", "x", "y", "kid"] {
                assert_eq!(
                    original.get(member),
                    published.get(member),
                    "{alg} {member}"
                );
            }
            assert_eq!(published["alg"], alg.as_str());
            assert_eq!(published["use"], "sig");
            for p in PRIVATE_MEMBERS {
                assert!(published.get(p).is_none(), "{alg} publishes {p}");
            }
            // What we publish parses back to a key pinned to the same algorithm.
            let back =
                VerificationKey::from_jwk_json(&Value::Object(published.clone()).to_string(), None)
                    .unwrap();
            assert_eq!(back.algorithm(), *alg);
        }
    }

    #[test]
    fn rsa_keys_publish_their_modulus_and_exponent() {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
        use aws_lc_rs::signature::KeyPair as _;
        use base64::Engine as _;
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let spki = pair.public_key().as_der().unwrap();
        let key = VerificationKey::from_der(Algorithm::PS256, spki.as_ref())
            .unwrap()
            .with_kid("rsa-1");
        let jwk = key.to_public_jwk().unwrap();
        let expected = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["n"], b64(&expected.n).as_str());
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["alg"], "PS256");
        for p in PRIVATE_MEMBERS {
            assert!(jwk.get(p).is_none(), "publishes {p}");
        }
        let back = VerificationKey::from_jwk_json(&Value::Object(jwk).to_string(), None).unwrap();
        assert_eq!(back.algorithm(), Algorithm::PS256);
    }

    #[test]
    fn ec_keys_publish_the_point_coordinates() {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
            KeyPair as _,
        };
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        for (alg, signing, crv, coord) in [
            (
                Algorithm::ES256,
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                "P-256",
                32,
            ),
            (
                Algorithm::ES384,
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                "P-384",
                48,
            ),
        ] {
            let pair = EcdsaKeyPair::generate(signing).unwrap();
            let point = pair.public_key().as_ref().to_vec();
            let spki = pair.public_key().as_der().unwrap();
            let key = VerificationKey::from_der(alg, spki.as_ref()).unwrap();
            let jwk = key.to_public_jwk().unwrap();
            assert_eq!(jwk["crv"], crv);
            assert_eq!(jwk["x"], b64(&point[1..=coord]).as_str(), "{alg}");
            assert_eq!(jwk["y"], b64(&point[1 + coord..]).as_str(), "{alg}");
        }
    }

    #[test]
    fn symmetric_keys_are_never_published_and_kids_must_differ() {
        let hs = VerificationKey::hmac(Algorithm::HS256, [9u8; 32]).unwrap();
        let set = PublicJwkSet::from_keys([&hs]).unwrap();
        assert!(set.is_empty());
        assert_eq!(set.to_json(), r#"{"keys":[]}"#);

        let ed = VerificationKey::from_jwk_json(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            Some(Algorithm::EdDSA),
        )
        .unwrap()
        .with_kid("same");
        assert_eq!(
            PublicJwkSet::from_keys([&ed, &ed]).unwrap_err(),
            ConfigError::DuplicateKeyId("same".into())
        );
    }
}
