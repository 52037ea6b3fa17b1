//! The header `typ` a token must carry, per trusted issuer (issue 12, item 8): each
//! [`TrustedIssuer`] may require its own, the verifier-wide `require_type` is the default for
//! those that set none, and an unknown `iss` is still refused before any key lookup.
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{
    Algorithm, BoxFuture, JwtVerifier, JwtVerifierBuilder, KeyResolver, KeySet, TrustedIssuer,
    VerificationKey,
};
use auth_core::{AuthError, ConfigError, InvalidToken};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const NOW: u64 = 1_700_000_000;
const STRICT: &str = "https://strict.example";
const LAX: &str = "https://lax.example";
const STRICT_SECRET: &[u8] = b"the strict issuer's secret, 32 bytes or more";
const LAX_SECRET: &[u8] = b"the lax issuer's secret, also 32 bytes or more";

fn sign(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// A token from `iss`, signed with that issuer's secret, with `typ` in the header if given.
fn token(iss: &str, typ: Option<&str>) -> String {
    let secret = if iss == STRICT {
        STRICT_SECRET
    } else {
        LAX_SECRET
    };
    let header = match typ {
        Some(t) => json!({"alg": "HS256", "typ": t}),
        None => json!({"alg": "HS256"}),
    };
    sign(
        secret,
        &header,
        &json!({"iss": iss, "sub": "alice", "aud": "api", "exp": NOW + 60}),
    )
}

fn issuer(iss: &str, secret: &[u8]) -> TrustedIssuer {
    TrustedIssuer::with_keys(
        iss,
        [VerificationKey::hmac(Algorithm::HS256, secret).unwrap()],
    )
    .unwrap()
}

fn builder() -> JwtVerifierBuilder {
    JwtVerifier::builder()
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
}

const WRONG_TYPE: AuthError = AuthError::InvalidToken(InvalidToken::WrongType);

// Issue 12, item 8: `typ` could only be required for the whole verifier.
#[test]
fn each_trusted_issuer_requires_its_own_typ() {
    let v = builder()
        .trusted_issuer(issuer(STRICT, STRICT_SECRET).require_type("at+jwt"))
        .trusted_issuer(issuer(LAX, LAX_SECRET))
        .build()
        .unwrap();
    let verify = |t: &str| v.verify_sync(t).map(|p| p.issuer().unwrap().to_owned());

    assert_eq!(verify(&token(STRICT, Some("at+jwt"))).unwrap(), STRICT);
    assert_eq!(
        verify(&token(STRICT, Some("application/AT+JWT"))).unwrap(),
        STRICT
    );
    assert_eq!(verify(&token(STRICT, None)).unwrap_err(), WRONG_TYPE);
    assert_eq!(verify(&token(STRICT, Some("JWT"))).unwrap_err(), WRONG_TYPE);

    assert_eq!(verify(&token(LAX, Some("at+jwt"))).unwrap(), LAX);
    assert_eq!(verify(&token(LAX, None)).unwrap(), LAX);
    assert_eq!(verify(&token(LAX, Some("JWT"))).unwrap(), LAX);
}

#[test]
fn the_verifier_wide_typ_applies_to_trusted_issuers_that_set_none() {
    let v = builder()
        .require_type("at+jwt")
        .trusted_issuer(issuer(STRICT, STRICT_SECRET))
        .trusted_issuer(issuer(LAX, LAX_SECRET).require_type("JWT"))
        .build()
        .unwrap();
    assert!(v.verify_sync(&token(STRICT, Some("at+jwt"))).is_ok());
    assert_eq!(v.verify_sync(&token(STRICT, None)).unwrap_err(), WRONG_TYPE);
    // The issuer's own setting wins over the verifier-wide default.
    assert!(v.verify_sync(&token(LAX, Some("JWT"))).is_ok());
    assert_eq!(
        v.verify_sync(&token(LAX, Some("at+jwt"))).unwrap_err(),
        WRONG_TYPE
    );
}

#[test]
fn the_verifier_wide_typ_still_applies_to_a_single_key_source() {
    let v = builder()
        .key(VerificationKey::hmac(Algorithm::HS256, LAX_SECRET).unwrap())
        .require_type("at+jwt")
        .build()
        .unwrap();
    assert!(v.verify_sync(&token(LAX, Some("at+jwt"))).is_ok());
    assert_eq!(v.verify_sync(&token(LAX, None)).unwrap_err(), WRONG_TYPE);
}

#[test]
fn an_empty_required_typ_is_a_configuration_error() {
    let err = builder()
        .trusted_issuer(issuer(STRICT, STRICT_SECRET).require_type(""))
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::EmptyValue("required type"));
}

/// Counts [`KeyResolver`] calls of either kind.
#[derive(Debug, Default, Clone)]
struct CountingResolver(Arc<Mutex<u32>>);

impl KeyResolver for CountingResolver {
    fn current(&self) -> Option<Arc<KeySet>> {
        *self.0.lock().unwrap() += 1;
        None
    }

    fn refresh(
        &self,
        _kid: Option<&str>,
        _alg: Algorithm,
    ) -> Option<BoxFuture<'static, Result<Arc<KeySet>, AuthError>>> {
        *self.0.lock().unwrap() += 1;
        None
    }
}

#[test]
fn an_unknown_issuer_is_refused_before_its_typ_and_before_any_key_lookup() {
    let resolver = CountingResolver::default();
    let v = builder()
        .trusted_issuer(TrustedIssuer::new(STRICT, resolver.clone()).require_type("at+jwt"))
        .build()
        .unwrap();
    for typ in [Some("at+jwt"), None] {
        let t = token("https://unknown.example", typ);
        let r = v.verify(&t).into_ready().unwrap();
        assert_eq!(
            r.unwrap_err(),
            AuthError::InvalidToken(InvalidToken::UnknownIssuer)
        );
    }
    // A known issuer's token with the wrong typ is refused before its keys are looked up too.
    let r = v.verify(&token(STRICT, None)).into_ready().unwrap();
    assert_eq!(r.unwrap_err(), WRONG_TYPE);
    assert_eq!(*resolver.0.lock().unwrap(), 0);
}

#[cfg(feature = "issuer")]
#[test]
fn a_token_issuers_verifier_still_requires_at_jwt() {
    use auth_core::jwt::{AccessGrant, KeyRing, SigningKey, TokenIssuer};

    let clock = ManualClock::new(UnixTime::from_secs(NOW));
    let ring = KeyRing::new(SigningKey::hmac(Algorithm::HS256, STRICT_SECRET, "k1").unwrap());
    let issuer = TokenIssuer::builder(ring)
        .issuer(STRICT)
        .audience("api")
        .clock(clock.clone())
        .build()
        .unwrap();
    let v = issuer.verifier_builder().build().unwrap();
    let issued = issuer.issue(&AccessGrant::new("alice")).unwrap();
    assert!(v.verify_sync(issued.as_str()).is_ok());

    let claims = json!({"iss": STRICT, "sub": "alice", "aud": "api", "exp": NOW + 60});
    let untyped = sign(
        STRICT_SECRET,
        &json!({"alg": "HS256", "kid": "k1"}),
        &claims,
    );
    assert_eq!(v.verify_sync(&untyped).unwrap_err(), WRONG_TYPE);
    let typed = sign(
        STRICT_SECRET,
        &json!({"alg": "HS256", "kid": "k1", "typ": "at+jwt"}),
        &claims,
    );
    assert!(v.verify_sync(&typed).is_ok());
}
