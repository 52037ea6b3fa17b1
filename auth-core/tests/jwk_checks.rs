//! Build-time checks on verification keys (issue 12): a JWK must be meant for verifying
//! (`use`, `key_ops`) and name the curve of its pinned algorithm (`crv`).
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_core::ConfigError;
use auth_core::jwt::{Algorithm, VerificationKey};

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
