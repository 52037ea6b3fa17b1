//! RFC 7638 JWK thumbprints and the RFC 9449 `ath` hash.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding: the hash of the
/// JSON object of its required members only, in lexicographic order, without whitespace
/// (`crv`, `kty`, `x`, `y` for EC; `crv`, `kty`, `x` for OKP; `e`, `kty`, `n` for RSA).
///
/// `None` for another `kty` or a required member that is missing or not a string.
///
/// ```
/// use auth_core::dpop::jwk_thumbprint;
///
/// // RFC 7638 section 3.1.
/// let jwk = serde_json::json!({
///     "kty": "RSA",
///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
///     "e": "AQAB",
///     "alg": "RS256",
///     "kid": "2011-04-29"
/// });
/// assert_eq!(
///     jwk_thumbprint(jwk.as_object().unwrap()).as_deref(),
///     Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
/// );
/// ```
#[must_use]
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kty = member("kty")?;
    let required: &[&str] = match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut canonical = String::with_capacity(512);
    canonical.push('{');
    for (i, name) in required.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        // Names and values as JSON strings: serde_json escapes exactly as RFC 7638 requires
        // (no escaping beyond what JSON needs).
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(member(name)?).ok()?);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The `ath` of an access token (RFC 9449 section 4.2): base64url of the SHA-256 of its ASCII
/// bytes, without padding.
///
/// ```
/// use auth_core::dpop::access_token_hash;
///
/// // RFC 9449 section 7.1: the access token of the example and its proof's `ath`.
/// let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
/// assert_eq!(access_token_hash(token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
/// ```
#[must_use]
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    // Issue 20: the key of RFC 9449's examples and the `cnf.jkt` of its section 6.1.
    #[test]
    fn the_rfc_9449_example_key_has_the_rfc_thumbprint() {
        let jwk = obj(serde_json::json!({
            "kty": "EC",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
            "crv": "P-256"
        }));
        assert_eq!(
            jwk_thumbprint(&jwk).as_deref(),
            Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        );
    }

    #[test]
    fn optional_members_do_not_change_the_thumbprint() {
        let base = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let mut more = base.clone();
        more["kid"] = "k".into();
        more["alg"] = "EdDSA".into();
        assert_eq!(jwk_thumbprint(&obj(base)), jwk_thumbprint(&obj(more)));
    }

    #[test]
    fn unknown_types_and_missing_members_have_no_thumbprint() {
        for v in [
            serde_json::json!({"kty": "oct", "k": "AAAA"}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": "a"}),
            serde_json::json!({"kty": "RSA", "n": "a", "e": 65537}),
            serde_json::json!({"crv": "Ed25519", "x": "a"}),
        ] {
            assert_eq!(jwk_thumbprint(&obj(v.clone())), None, "{v}");
        }
    }
}
