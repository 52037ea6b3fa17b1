//! Reading a fetched JWK Set (RFC 7517 section 5): usable keys in, unusable ones skipped one
//! by one with a reason.

use serde_json::Value;

use crate::jwt::key_checks;
use crate::jwt::{Algorithm, KeySet, VerificationKey};

/// At most this many JWKs of one document are looked at; real providers publish a handful.
pub(crate) const MAX_KEYS: usize = 100;

/// A JWK that was left out, and why (for logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) kid: Option<String>,
    pub(crate) reason: String,
}

/// The usable keys of a document, and what was skipped.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) keys: Vec<VerificationKey>,
    pub(crate) skipped: Vec<Skipped>,
}

/// Why a whole document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DocumentError {
    NotJson,
    NoKeysArray,
}

/// The algorithms a JWK can be used with: its `alg` when present (which pins it), otherwise
/// every allowed algorithm its `kty`/`crv` fits.
fn algorithms_for(jwk: &Value, allowed: &[Algorithm]) -> Result<Vec<Algorithm>, String> {
    let kty = jwk
        .get("kty")
        .ok_or("missing kty")?
        .as_str()
        .ok_or("kty is not a string")?;
    if let Some(alg) = jwk.get("alg") {
        let name = alg.as_str().ok_or("alg is not a string")?;
        let alg = Algorithm::from_name(name).ok_or_else(|| format!("unsupported alg `{name}`"))?;
        if !allowed.contains(&alg) {
            return Err(format!("alg {alg} is not allowed by this verifier"));
        }
        return Ok(vec![alg]);
    }
    let crv = jwk.get("crv").and_then(Value::as_str);
    let fits: &[Algorithm] = match (kty, crv) {
        ("RSA", _) => &[
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        ("EC", Some("P-256")) => &[Algorithm::ES256],
        ("EC", Some("P-384")) => &[Algorithm::ES384],
        ("OKP", Some("Ed25519")) => &[Algorithm::EdDSA],
        ("EC" | "OKP", _) => return Err("unsupported or missing crv".into()),
        (other, _) => return Err(format!("unsupported kty `{other}`")),
    };
    let algs: Vec<Algorithm> = fits
        .iter()
        .copied()
        .filter(|a| allowed.contains(a))
        .collect();
    if algs.is_empty() {
        return Err(format!("no allowed algorithm fits kty `{kty}`"));
    }
    Ok(algs)
}

/// Parses `body` as a JWK Set, keeping the keys usable with `allowed`.
pub(crate) fn parse(body: &[u8], allowed: &[Algorithm]) -> Result<Parsed, DocumentError> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| DocumentError::NotJson)?;
    let jwks = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(DocumentError::NoKeysArray)?;
    let mut keys: Vec<VerificationKey> = Vec::new();
    let mut skipped = Vec::new();
    for (i, jwk) in jwks.iter().enumerate() {
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let mut skip = |reason: String| {
            skipped.push(Skipped {
                kid: kid.clone(),
                reason,
            });
        };
        if i >= MAX_KEYS {
            skip(format!("more than {MAX_KEYS} keys in the set"));
            continue;
        }
        if !jwk.is_object() {
            skip("not a json object".into());
            continue;
        }
        if jwk.get("kid").is_some_and(|k| !k.is_string()) {
            skip("kid is not a string".into());
            continue;
        }
        if let Err(reason) = key_checks::jwk_purpose(jwk) {
            skip(reason);
            continue;
        }
        let algs = match algorithms_for(jwk, allowed) {
            Ok(a) => a,
            Err(reason) => {
                skip(reason);
                continue;
            }
        };
        let json = jwk.to_string();
        for alg in algs {
            match VerificationKey::from_jwk_json(&json, Some(alg)) {
                Ok(key)
                    if keys
                        .iter()
                        .any(|k| k.kid() == key.kid() && k.algorithm() == alg) =>
                {
                    skip(format!("duplicate kid for {alg}"));
                }
                Ok(key) => keys.push(key),
                Err(e) => skip(format!("not a usable {alg} key: {e}")),
            }
        }
    }
    Ok(Parsed { keys, skipped })
}

/// The parsed keys as a [`KeySet`], or `None` when none is usable.
pub(crate) fn key_set(parsed: Vec<VerificationKey>) -> Option<KeySet> {
    KeySet::from_fetched(parsed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const DEFAULT: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    fn ed(kid: &str, extra: &str) -> String {
        format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","kid":"{kid}"{extra}}}"#)
    }

    #[test]
    fn unusable_keys_are_skipped_one_by_one() {
        let doc = format!(
            r#"{{"keys":[
                {},
                {{"kty":"oct","k":"c2VjcmV0","kid":"sym","alg":"HS256"}},
                {{"kty":"XYZ","kid":"weird"}},
                {},
                {{"kty":"RSA","kid":"no-n","alg":"RS256","e":"AQAB"}},
                {},
                {},
                {},
                "not an object",
                {}
            ]}}"#,
            ed("good", r#","alg":"EdDSA""#),
            ed("enc", r#","use":"enc""#),
            ed("hs", r#","alg":"HS256""#),
            ed("ops", r#","key_ops":["encrypt"]"#),
            ed("bogus-alg", r#","alg":"none""#),
            ed("good-no-alg", ""),
        );
        let parsed = parse(doc.as_bytes(), &DEFAULT).unwrap();
        let kids: Vec<_> = parsed.keys.iter().map(|k| k.kid().unwrap()).collect();
        assert_eq!(kids, ["good", "good-no-alg"]);
        let skipped: Vec<_> = parsed
            .skipped
            .iter()
            .map(|s| s.kid.as_deref().unwrap_or("-"))
            .collect();
        assert_eq!(
            skipped,
            ["sym", "weird", "enc", "no-n", "hs", "ops", "bogus-alg", "-"]
        );
    }

    // Issue 12, item 13: fetched keys follow the same rules as configured ones, and are
    // skipped one by one (logged by the source), like `use: "enc"` keys.
    #[test]
    fn keys_with_a_wrong_curve_label_or_no_verify_op_are_skipped() {
        let p256 = r#""x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0""#;
        let doc = format!(
            r#"{{"keys":[
                {{"kty":"EC","kid":"p384-label","alg":"ES256","crv":"P-384",{p256}}},
                {{"kty":"EC","kid":"p256","alg":"ES256","crv":"P-256",{p256}}},
                {{"kty":"OKP","kid":"x25519","alg":"EdDSA","crv":"X25519","x":"{ED_X}"}},
                {},
                {}
            ]}}"#,
            ed("sign-only", r#","key_ops":["sign"]"#),
            ed("verify", r#","key_ops":["verify"],"use":"sig""#),
        );
        let parsed = parse(doc.as_bytes(), &DEFAULT).unwrap();
        let kids: Vec<_> = parsed.keys.iter().map(|k| k.kid().unwrap()).collect();
        assert_eq!(kids, ["p256", "verify"]);
        let skipped: Vec<_> = parsed
            .skipped
            .iter()
            .map(|s| s.kid.as_deref().unwrap())
            .collect();
        assert_eq!(skipped, ["p384-label", "x25519", "sign-only"]);
        assert!(
            parsed.skipped[0].reason.contains("crv"),
            "{:?}",
            parsed.skipped
        );
    }

    #[test]
    fn an_alg_the_verifier_does_not_allow_is_skipped() {
        let doc = format!(r#"{{"keys":[{}]}}"#, ed("k", r#","alg":"EdDSA""#));
        let parsed = parse(doc.as_bytes(), &[Algorithm::RS256]).unwrap();
        assert!(parsed.keys.is_empty());
        assert!(parsed.skipped[0].reason.contains("not allowed"));
    }

    #[test]
    fn duplicate_kid_for_the_same_algorithm_keeps_the_first() {
        let doc = format!(r#"{{"keys":[{},{}]}}"#, ed("k", ""), ed("k", ""));
        let parsed = parse(doc.as_bytes(), &DEFAULT).unwrap();
        assert_eq!(parsed.keys.len(), 1);
        assert_eq!(parsed.skipped.len(), 1);
    }

    #[test]
    fn documents_without_a_keys_array_are_refused() {
        assert_eq!(
            parse(b"nope", &DEFAULT).unwrap_err(),
            DocumentError::NotJson
        );
        assert_eq!(
            parse(br#"{"keys":{}}"#, &DEFAULT).unwrap_err(),
            DocumentError::NoKeysArray
        );
        assert!(parse(br#"{"keys":[]}"#, &DEFAULT).unwrap().keys.is_empty());
    }

    #[test]
    fn the_key_count_is_bounded() {
        let many: Vec<String> = (0..MAX_KEYS + 5)
            .map(|i| ed(&format!("k{i}"), ""))
            .collect();
        let doc = format!(r#"{{"keys":[{}]}}"#, many.join(","));
        let parsed = parse(doc.as_bytes(), &DEFAULT).unwrap();
        assert_eq!(parsed.keys.len(), MAX_KEYS);
        assert_eq!(parsed.skipped.len(), 5);
    }
}
