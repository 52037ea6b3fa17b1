//! Build-time checks on verification keys (issue 12): a JWK must be meant for verifying
//! (`use`, `key_ops`) and name the curve of its pinned algorithm (`crv`); an RSA modulus must
//! have at least 2048 bits and not carry the ROCA fingerprint (CVE-2017-15361), whether the
//! key comes as PEM, DER or JWK.
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use auth_core::ConfigError;
use auth_core::jwt::{Algorithm, VerificationKey};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// RFC 7515 Appendix A.3's P-256 public key.
const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
/// RFC 8037 Appendix A.2's Ed25519 public key.
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn ec(extra: &str) -> String {
    format!(r#"{{"kty":"EC","x":"{P256_X}","y":"{P256_Y}"{extra}}}"#)
}

fn okp(extra: &str) -> String {
    format!(r#"{{"kty":"OKP","x":"{ED_X}"{extra}}}"#)
}

fn ok(jwk: &str, alg: Option<Algorithm>) {
    if let Err(e) = VerificationKey::from_jwk_json(jwk, alg) {
        panic!("{jwk} refused: {e}");
    }
}

fn refused(jwk: &str, alg: Option<Algorithm>) -> ConfigError {
    match VerificationKey::from_jwk_json(jwk, alg) {
        Ok(k) => panic!("{jwk} accepted as {k:?}"),
        Err(e) => e,
    }
}

#[test]
fn well_labelled_keys_are_accepted() {
    ok(&ec(r#","crv":"P-256""#), Some(Algorithm::ES256));
    ok(&ec(r#","crv":"P-256","alg":"ES256""#), None);
    ok(&okp(r#","crv":"Ed25519""#), Some(Algorithm::EdDSA));
}

// Issue 12, item 13: `key_ops` without `verify` means the key is not for checking signatures.
#[test]
fn a_jwk_whose_key_ops_lack_verify_is_refused() {
    for ops in [
        r#"["sign"]"#,
        r#"["encrypt","wrapKey"]"#,
        "[]",
        r#""verify""#,
        "null",
    ] {
        let jwk = okp(&format!(r#","crv":"Ed25519","key_ops":{ops}"#));
        let err = refused(&jwk, Some(Algorithm::EdDSA));
        assert!(matches!(err, ConfigError::JwkPurpose(_)), "{ops}: {err}");
    }
    ok(
        &okp(r#","crv":"Ed25519","key_ops":["verify"]"#),
        Some(Algorithm::EdDSA),
    );
    ok(
        &okp(r#","crv":"Ed25519","key_ops":["sign","verify"]"#),
        Some(Algorithm::EdDSA),
    );
}

#[test]
fn a_jwk_for_encryption_is_refused_with_the_same_error() {
    for u in [r#""enc""#, r#""other""#, "5"] {
        let err = refused(
            &okp(&format!(r#","crv":"Ed25519","use":{u}"#)),
            Some(Algorithm::EdDSA),
        );
        assert!(matches!(err, ConfigError::JwkPurpose(_)), "{u}: {err}");
    }
    ok(
        &okp(r#","crv":"Ed25519","use":"sig""#),
        Some(Algorithm::EdDSA),
    );
}

// Issue 12, item 13: the curve label must be the pinned algorithm's curve.
#[test]
fn a_p384_label_on_a_p256_point_is_refused_for_es256() {
    for (jwk, alg) in [
        (ec(r#","crv":"P-384""#), Some(Algorithm::ES256)),
        (ec(r#","crv":"P-384","alg":"ES256""#), None),
        (ec(r#","crv":"P-521","alg":"ES256""#), None),
    ] {
        let err = refused(&jwk, alg);
        assert!(
            matches!(err, ConfigError::InvalidKey { alg: "ES256", .. }),
            "{err}"
        );
    }
}

#[test]
fn an_ec_or_okp_jwk_without_crv_is_refused() {
    refused(&ec(""), Some(Algorithm::ES256));
    refused(&okp(""), Some(Algorithm::EdDSA));
    refused(&ec(r#","crv":5"#), Some(Algorithm::ES256));
}

// Issue 12, item 13: EdDSA here means Ed25519 only.
#[test]
fn an_okp_key_for_eddsa_must_be_labelled_ed25519() {
    for crv in ["X25519", "Ed448", "P-256", "ed25519"] {
        let err = refused(&okp(&format!(r#","crv":"{crv}""#)), Some(Algorithm::EdDSA));
        assert!(
            matches!(err, ConfigError::InvalidKey { alg: "EdDSA", .. }),
            "{crv}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// RSA moduli
// ---------------------------------------------------------------------------------------------

const E: [u8; 3] = [0x01, 0x00, 0x01];

/// The three encodings of the RSA public key `(n, 65537)`, each built into a key for `alg`.
fn rsa_keys(alg: Algorithm, n: &[u8]) -> [(&'static str, Result<VerificationKey, ConfigError>); 3] {
    let spki = PublicKeyComponents { n, e: &E[..] }.as_der().unwrap();
    let der = spki.as_ref().to_vec();
    let b64 = STANDARD.encode(&der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    let jwk = format!(
        r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#,
        URL_SAFE_NO_PAD.encode(n)
    );
    [
        ("pem", VerificationKey::from_pem(alg, pem)),
        ("der", VerificationKey::from_der(alg, der)),
        ("jwk", VerificationKey::from_jwk_json(&jwk, Some(alg))),
    ]
}

/// An odd modulus of exactly `bits` bits that is not of ROCA's form (n = 2 mod 3).
fn plain_modulus(bits: usize) -> Vec<u8> {
    let mut n = vec![0x5au8; bits.div_ceil(8)];
    let top = bits % 8;
    n[0] = if top == 0 {
        0xc5
    } else {
        (1u8 << (top - 1)) | 1
    };
    *n.last_mut().unwrap() |= 1;
    while BigUint::from_be(&n).mod_small(3) != 2 {
        let last = n.last_mut().unwrap();
        *last = last.wrapping_add(2);
    }
    n
}

// Issue 12, item 14: short RSA keys were accepted here and then failed every signature.
#[test]
fn rsa_moduli_shorter_than_2048_bits_are_refused_as_pem_der_and_jwk() {
    for bits in [1024, 1536, 2047] {
        let n = plain_modulus(bits);
        for alg in [Algorithm::RS256, Algorithm::PS512] {
            for (form, key) in rsa_keys(alg, &n) {
                match key {
                    Err(ConfigError::WeakRsaKey {
                        bits: b, min: 2048, ..
                    }) => {
                        assert_eq!(b, bits, "{form}");
                    }
                    other => panic!("{bits}-bit {alg} {form}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn rsa_moduli_of_2048_bits_and_more_are_accepted() {
    for bits in [2048, 3072] {
        for (form, key) in rsa_keys(Algorithm::RS256, &plain_modulus(bits)) {
            assert!(key.is_ok(), "{bits} {form}: {key:?}");
        }
    }
}

// Issue 12, item 14: ROCA (CVE-2017-15361) moduli have a factorable structure; refuse them.
#[test]
fn an_rsa_modulus_with_the_roca_fingerprint_is_refused_as_pem_der_and_jwk() {
    for bits in [2048, 3072] {
        let n = roca_modulus(bits);
        assert_eq!(BigUint::from_be(&n).bits(), bits);
        for (form, key) in rsa_keys(Algorithm::RS256, &n) {
            assert!(
                matches!(key, Err(ConfigError::VulnerableRsaKey { alg: "RS256" })),
                "{bits} {form}: {key:?}"
            );
        }
    }
}

#[test]
fn a_modulus_off_the_roca_form_by_one_residue_is_accepted() {
    // The same construction with one residue outside 65537's subgroup (0 mod 167).
    let n = crt_modulus(2048, |p, i| {
        if p == 167 {
            0
        } else {
            pow_mod(65537, i + 1, p)
        }
    });
    for (form, key) in rsa_keys(Algorithm::RS256, &n) {
        assert!(key.is_ok(), "{form}: {key:?}");
    }
}

#[test]
fn generated_rsa_keys_pass_both_checks() {
    for size in [KeySize::Rsa2048, KeySize::Rsa3072, KeySize::Rsa4096] {
        let pair = KeyPair::generate(size).unwrap();
        let n = PublicKeyComponents::<Vec<u8>>::from(pair.public_key()).n;
        for (form, key) in rsa_keys(Algorithm::PS256, &n) {
            assert!(key.is_ok(), "{size:?} {form}: {key:?}");
        }
    }
}

/// ROCA's small primes (the published list, 3 to 167).
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

fn pow_mod(base: u32, mut exp: u32, p: u32) -> u32 {
    let (mut acc, mut b) = (1u64, u64::from(base) % u64::from(p));
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc * b % u64::from(p);
        }
        b = b * b % u64::from(p);
        exp >>= 1;
    }
    u32::try_from(acc).unwrap()
}

/// A modulus with the ROCA fingerprint: modulo the i-th prime it is 65537^(i+1), an element
/// of the subgroup generated by 65537, as ROCA's key generator produces.
fn roca_modulus(bits: usize) -> Vec<u8> {
    crt_modulus(bits, |p, i| pow_mod(65537, i + 1, p))
}

/// An odd `bits`-bit number congruent to `residue(p, i)` modulo the i-th ROCA prime p: the
/// Chinese remainder x of the residues (and 1 mod 2), plus a multiple of 2 * (product of the
/// primes) large enough to set the top bit, which changes no residue.
fn crt_modulus(bits: usize, residue: impl Fn(u32, u32) -> u32) -> Vec<u8> {
    let mut x = BigUint::from(1);
    let mut m = BigUint::from(2);
    for (i, p) in ROCA_PRIMES.into_iter().enumerate() {
        let target = residue(p, u32::try_from(i).unwrap());
        let (cur, mm) = (x.mod_small(p), m.mod_small(p));
        // Solve cur + mm * t = target (mod p); mm is invertible since p does not divide m.
        let t = (u64::from(target) + u64::from(p) - u64::from(cur)) % u64::from(p)
            * u64::from(pow_mod(mm, p - 2, p))
            % u64::from(p);
        x = x.add(&m.mul_small(u32::try_from(t).unwrap()));
        m = m.mul_small(p);
    }
    let pad = m.shl(bits - m.bits());
    let n = pad.add(&x);
    assert_eq!(
        n.bits(),
        bits,
        "the padding carried out; pick other residues"
    );
    for (i, p) in ROCA_PRIMES.into_iter().enumerate() {
        assert_eq!(n.mod_small(p), residue(p, u32::try_from(i).unwrap()));
    }
    assert_eq!(n.mod_small(2), 1);
    n.to_be()
}

/// Just enough of an unsigned big integer for the constructions above (little-endian limbs).
#[derive(Clone, Debug)]
struct BigUint(Vec<u32>);

impl BigUint {
    fn from(v: u32) -> Self {
        Self(vec![v])
    }

    fn from_be(bytes: &[u8]) -> Self {
        let mut limbs: Vec<u32> = bytes
            .rchunks(4)
            .map(|c| c.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
            .collect();
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        Self(limbs)
    }

    fn to_be(&self) -> Vec<u8> {
        let bytes: Vec<u8> = self.0.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        bytes[first..].to_vec()
    }

    fn bits(&self) -> usize {
        let mut limbs = self.0.as_slice();
        while let [rest @ .., 0] = limbs {
            limbs = rest;
        }
        match limbs.last() {
            None => 0,
            Some(top) => (limbs.len() - 1) * 32 + 32 - top.leading_zeros() as usize,
        }
    }

    fn mod_small(&self, p: u32) -> u32 {
        let r = self
            .0
            .iter()
            .rev()
            .fold(0u64, |r, &l| ((r << 32) | u64::from(l)) % u64::from(p));
        u32::try_from(r).unwrap()
    }

    fn mul_small(&self, k: u32) -> Self {
        let mut carry = 0u64;
        let mut out: Vec<u32> = self
            .0
            .iter()
            .map(|&l| {
                let v = u64::from(l) * u64::from(k) + carry;
                carry = v >> 32;
                v as u32
            })
            .collect();
        if carry > 0 {
            out.push(carry as u32);
        }
        Self(out)
    }

    fn add(&self, other: &Self) -> Self {
        let len = self.0.len().max(other.0.len());
        let mut carry = 0u64;
        let mut out = Vec::with_capacity(len + 1);
        for i in 0..len {
            let v = u64::from(*self.0.get(i).unwrap_or(&0))
                + u64::from(*other.0.get(i).unwrap_or(&0))
                + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        Self(out)
    }

    fn shl(&self, shift: usize) -> Self {
        let (words, bits) = (shift / 32, shift % 32);
        let mut out = vec![0u32; words];
        let mut carry = 0u32;
        for &l in &self.0 {
            if bits == 0 {
                out.push(l);
            } else {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
        }
        if carry > 0 {
            out.push(carry);
        }
        Self(out)
    }
}

#[test]
fn the_big_integer_helper_round_trips_and_reduces() {
    let n = BigUint::from_be(&[0x01, 0x00, 0x00, 0x00, 0x00, 0x05]);
    assert_eq!(n.to_be(), [0x01, 0x00, 0x00, 0x00, 0x00, 0x05]);
    assert_eq!(n.bits(), 41);
    // 2^40 + 5 = 1099511627781 = 7 * 157073089683 (so 0 mod 7), and 1 mod 5.
    assert_eq!(n.mod_small(7), 0);
    assert_eq!(n.mod_small(5), 1);
    assert_eq!(BigUint::from(3).shl(40).add(&BigUint::from(1)).bits(), 42);
    assert_eq!(
        BigUint::from(u32::MAX).mul_small(u32::MAX).to_be(),
        (u64::from(u32::MAX) * u64::from(u32::MAX)).to_be_bytes()
    );
}
