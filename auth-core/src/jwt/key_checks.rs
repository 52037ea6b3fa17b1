//! Build-time checks on public key material, beyond "it parses": what a JWK says it is for,
//! whether its curve label is the pinned algorithm's curve. Each runs once, when a key is
//! built or a JWK Set is read, never per request.

use serde_json::Value;

use super::algorithm::Algorithm;

/// `use` and `key_ops` (RFC 7517 sections 4.2 and 4.3): when present, the key must be meant
/// for verifying signatures: `use` is `sig`, and `key_ops` is an array that includes `verify`.
/// The one rule for [`VerificationKey::from_jwk_json`](super::VerificationKey::from_jwk_json)
/// and fetched JWK Sets; the error says why, for the configuration error or the log.
pub(crate) fn jwk_purpose(jwk: &Value) -> Result<(), String> {
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(Value::String(u)) => return Err(format!("use `{u}` is not sig")),
        Some(_) => return Err("use is not a string".into()),
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array().ok_or("key_ops is not an array")?;
        if !ops.iter().any(|o| o.as_str() == Some("verify")) {
            return Err("key_ops does not include verify".into());
        }
    }
    Ok(())
}

/// The `crv` an EC or OKP key must carry for `alg`, `None` for families without curves.
const fn curve_of(alg: Algorithm) -> Option<&'static str> {
    match alg {
        Algorithm::ES256 => Some("P-256"),
        Algorithm::ES384 => Some("P-384"),
        Algorithm::EdDSA => Some("Ed25519"),
        _ => None,
    }
}

/// `crv` (RFC 7518 section 6.2.1.1, RFC 8037 section 2) must name the curve of the pinned
/// algorithm: `P-256` for ES256, `P-384` for ES384, `Ed25519` for EdDSA; a missing `crv` on an
/// EC or OKP key is refused. The point itself is checked against the curve when it is parsed;
/// this refuses a key whose label says otherwise (a P-384 label on a P-256 point, an X25519
/// key offered for EdDSA), which parsing alone would let through.
pub(crate) fn jwk_curve(jwk: &Value, alg: Algorithm) -> Result<(), String> {
    let Some(expected) = curve_of(alg) else {
        return Ok(());
    };
    match jwk.get("crv") {
        Some(Value::String(crv)) if crv == expected => Ok(()),
        Some(Value::String(crv)) => Err(format!("jwk crv `{crv}` is not {expected}")),
        Some(_) => Err("jwk crv is not a string".into()),
        None => Err(format!("jwk has no crv (expected {expected})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn purpose_needs_sig_use_and_verify_op_when_present() {
        assert!(jwk_purpose(&json!({})).is_ok());
        assert!(jwk_purpose(&json!({"use": "sig", "key_ops": ["verify"]})).is_ok());
        assert!(jwk_purpose(&json!({"use": "enc"})).is_err());
        assert!(jwk_purpose(&json!({"use": null})).is_err());
        // Issue 12, item 13.
        assert!(jwk_purpose(&json!({"key_ops": ["sign"]})).is_err());
        assert!(jwk_purpose(&json!({"key_ops": {"verify": true}})).is_err());
    }

    #[test]
    fn curve_must_be_the_algorithms() {
        assert!(jwk_curve(&json!({"crv": "P-256"}), Algorithm::ES256).is_ok());
        assert!(jwk_curve(&json!({"crv": "P-384"}), Algorithm::ES384).is_ok());
        assert!(jwk_curve(&json!({"crv": "Ed25519"}), Algorithm::EdDSA).is_ok());
        assert!(jwk_curve(&json!({}), Algorithm::RS256).is_ok());
        // Issue 12, item 13.
        assert!(jwk_curve(&json!({"crv": "P-384"}), Algorithm::ES256).is_err());
        assert!(jwk_curve(&json!({"crv": "X25519"}), Algorithm::EdDSA).is_err());
        assert!(jwk_curve(&json!({}), Algorithm::ES384).is_err());
    }
}
