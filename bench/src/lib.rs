//! Shared fixtures of the benchmark binaries: keys generated at start-up with aws-lc-rs, one
//! realistic access token per algorithm, and the same key material in the shapes each peer
//! crate loads.
//!
//! Nothing here touches the network.

// Fixture setup should stop the run loudly when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::jwt::{Algorithm, VerificationKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};

/// `iss` of every benchmark token.
pub const ISSUER: &str = "https://auth.example.test/";
/// `aud` of every benchmark token.
pub const AUDIENCE: &str = "orders-api";
/// The HS256 secret (ASCII, so peers that take a `&str` secret get the same bytes).
pub const HMAC_SECRET: &str = "bench-only hmac secret, 32+ bytes long";

/// One algorithm's key material and token.
#[derive(Debug)]
pub struct Fixture {
    /// `HS256`, `RS256`, `ES256` or `EdDSA`.
    pub name: &'static str,
    /// Our algorithm.
    pub alg: Algorithm,
    /// jsonwebtoken's algorithm.
    pub jwt_alg: jsonwebtoken::Algorithm,
    /// The access token (about 300 bytes of claims).
    pub token: String,
    /// Signs more tokens with the same key.
    pub encoding: EncodingKey,
    /// The `kid` in the token's header.
    pub kid: String,
    /// What our verifier checks with.
    pub verification: VerificationKey,
    /// The public key as PEM (`None` for HMAC).
    pub public_pem: Option<String>,
}

impl Fixture {
    /// A token with the realistic claims and `sub` / `jti` varied by `n`.
    #[must_use]
    pub fn token_for(&self, n: u64) -> String {
        let mut header = Header::new(self.jwt_alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims(n), &self.encoding).unwrap()
    }

    /// jsonwebtoken 11's key (the floor rows).
    #[must_use]
    pub fn decoding(&self) -> jsonwebtoken::DecodingKey {
        use jsonwebtoken::DecodingKey;
        match &self.public_pem {
            None => DecodingKey::from_secret(HMAC_SECRET.as_bytes()),
            Some(pem) => match self.alg {
                Algorithm::RS256 => DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
                Algorithm::ES256 => DecodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
                _ => DecodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
            },
        }
    }

    /// jsonwebtoken 11's `Validation` matching our verifier: pinned algorithm, issuer,
    /// audience, `exp`/`sub`/`iss`/`aud` required, 30 s leeway.
    #[must_use]
    pub fn validation(&self) -> jsonwebtoken::Validation {
        let mut v = jsonwebtoken::Validation::new(self.jwt_alg);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        v.leeway = 30;
        v
    }
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims of a realistic access token: sub, iat, exp, iss, aud, jti, two roles, two scopes
/// (about 300 bytes of JSON). Valid for ten years, so a long run never crosses `exp`.
#[must_use]
pub fn claims(n: u64) -> serde_json::Value {
    let now = now_secs();
    serde_json::json!({
        "iss": ISSUER,
        "sub": format!("user-7f3c2a9e-41b8-4d0e-9a57-{n:012x}"),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 10 * 365 * 24 * 3600,
        "jti": format!("b4f1c0de-7a2e-4c39-8e51-{n:012x}"),
        "roles": ["orders-admin", "billing-viewer"],
        "scope": "orders:read orders:write",
    })
}

/// PEM-armours DER.
#[must_use]
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn fixture(
    name: &'static str,
    alg: Algorithm,
    jwt_alg: jsonwebtoken::Algorithm,
    encoding: EncodingKey,
    public_pem: Option<String>,
) -> Fixture {
    let kid = format!("bench-{}", name.to_ascii_lowercase());
    let verification = match &public_pem {
        None => VerificationKey::hmac(alg, HMAC_SECRET).unwrap(),
        Some(pem) => VerificationKey::from_pem(alg, pem).unwrap(),
    }
    .with_kid(kid.clone());
    let mut f = Fixture {
        name,
        alg,
        jwt_alg,
        token: String::new(),
        encoding,
        kid,
        verification,
        public_pem,
    };
    f.token = f.token_for(0);
    f
}

/// HS256 with [`HMAC_SECRET`].
#[must_use]
pub fn hs256() -> Fixture {
    fixture(
        "HS256",
        Algorithm::HS256,
        jsonwebtoken::Algorithm::HS256,
        EncodingKey::from_secret(HMAC_SECRET.as_bytes()),
        None,
    )
}

/// RS256 with a fresh 2048-bit key.
#[must_use]
pub fn rs256() -> Fixture {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(&pair).unwrap();
    let spki = pair.public_key().as_der().unwrap();
    fixture(
        "RS256",
        Algorithm::RS256,
        jsonwebtoken::Algorithm::RS256,
        EncodingKey::from_rsa_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes()).unwrap(),
        Some(pem("PUBLIC KEY", spki.as_ref())),
    )
}

/// ES256 with a fresh P-256 key.
#[must_use]
pub fn es256() -> Fixture {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let pkcs8 = pair.to_pkcs8v1().unwrap();
    let spki = pair.public_key().as_der().unwrap();
    fixture(
        "ES256",
        Algorithm::ES256,
        jsonwebtoken::Algorithm::ES256,
        EncodingKey::from_ec_der(pkcs8.as_ref()),
        Some(pem("PUBLIC KEY", spki.as_ref())),
    )
}

/// EdDSA with a fresh Ed25519 key.
#[must_use]
pub fn eddsa() -> Fixture {
    let pair = Ed25519KeyPair::generate().unwrap();
    let pkcs8 = pair.to_pkcs8().unwrap();
    let spki = pair.public_key().as_der().unwrap();
    fixture(
        "EdDSA",
        Algorithm::EdDSA,
        jsonwebtoken::Algorithm::EdDSA,
        EncodingKey::from_ed_der(pkcs8.as_ref()),
        Some(pem("PUBLIC KEY", spki.as_ref())),
    )
}

/// The four algorithms' fixtures.
#[must_use]
pub fn all() -> Vec<Fixture> {
    vec![hs256(), rs256(), es256(), eddsa()]
}
