//! Property tests: whatever a client puts in `Authorization` (or the token cookie), the bearer
//! layer neither panics nor lets the request through; the answer is always 400 or 401.
//!
//! The inputs go from raw header bytes, through token-shaped strings (base64url segments and
//! dots), to base64url-encoded JSON-ish headers and payloads, some of them carrying a genuine
//! HS256 signature so that claim parsing is reached too. No generated payload names the
//! configured audience, so no input can legitimately be accepted.

// This whole crate is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the fixtures below.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier};
use auth_integration_tests::keys::{self, TestKey};
use auth_tower::bearer::BearerLayer;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Map, Value};
use tower::ServiceExt as _;

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "orders-api";

fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::HS256).unwrap_or_else(|e| panic!("{e}")))
}

/// `/me` behind a bearer layer that trusts [`key`] and also reads the `access_token` cookie.
fn app() -> Router {
    static APP: OnceLock<Router> = OnceLock::new();
    APP.get_or_init(|| {
        let verifier = JwtVerifier::builder()
            .key(key().verification_key().unwrap())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .clock(ManualClock::new(UnixTime::from_secs(NOW)))
            .build()
            .unwrap();
        let layer = BearerLayer::builder(verifier)
            .cookie("access_token")
            .build()
            .unwrap();
        Router::new()
            .route("/me", get(|| async { "reached the handler" }))
            .layer(layer)
    })
    .clone()
}

/// Sends `GET /me` with one `name: value` header and returns the status.
fn status_for(name: header::HeaderName, value: HeaderValue) -> StatusCode {
    let request = Request::get("/me")
        .header(name, value)
        .body(Body::empty())
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(app().oneshot(request)).unwrap().status()
}

fn is_400_or_401(status: StatusCode) -> bool {
    status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED
}

/// Bytes `HeaderValue::from_bytes` accepts: visible ASCII, space, tab and obs-text.
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => 0x20u8..0x7f,
        2 => 0x80u8..=0xff,
        1 => Just(b'\t'),
    ];
    prop::collection::vec(byte, 0..max)
}

/// A string of base64url characters and dots, shaped like (or almost like) a compact JWS.
fn token_shaped() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9_-]{0,48}", 1..6).prop_map(|segments| segments.join("."))
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (NOW - 100..NOW + 100).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A member value: usually of a type some registered name has (string, date, string array),
/// so that parsing gets past the first member, otherwise arbitrary JSON.
fn member_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => "[ -~]{0,12}".prop_map(Value::String),
        3 => (NOW - 100..NOW + 100).prop_map(Value::from),
        1 => prop::collection::vec("[a-z:]{0,6}", 0..3)
            .prop_map(|v| Value::Array(v.into_iter().map(Value::String).collect())),
        2 => json_value(),
    ]
}

/// A JSON object whose members are mostly JOSE header or registered claim names.
fn json_object(
    names: &'static [&'static str],
    members: std::ops::Range<usize>,
) -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        4 => prop::sample::select(names).prop_map(str::to_owned),
        1 => "[a-z]{1,6}",
    ];
    prop::collection::vec((name, member_value()), members).prop_map(|members| {
        let mut map = Map::new();
        for (name, value) in members {
            map.insert(name, value);
        }
        Value::Object(map)
    })
}

/// A JOSE header: usually an object with an `alg` (known, `none`-like or junk), sometimes
/// arbitrary JSON, sometimes raw bytes.
fn jose_header() -> impl Strategy<Value = Vec<u8>> {
    // Mostly the trusted algorithm, so that genuinely signed tokens reach claim parsing.
    let alg = prop_oneof![
        4 => Just(Value::from("HS256")),
        3 => prop::sample::select(&[
            "HS384", "HS512", "RS256", "PS256", "ES256", "ES384", "EdDSA", "none", "None",
            "NONE", "hs256", "",
        ][..])
        .prop_map(Value::from),
        1 => json_value(),
    ];
    let object = (
        alg,
        json_object(&["kid", "typ", "crit", "jwk", "jku", "x5u", "cty"], 0..3),
    )
        .prop_map(|(alg, mut rest)| {
            if let Value::Object(map) = &mut rest {
                map.insert("alg".into(), alg);
            }
            rest.to_string().into_bytes()
        });
    prop_oneof![
        6 => object,
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..48),
    ]
}

/// A payload: usually a claims-like object, sometimes arbitrary JSON or raw bytes. Never
/// mentions the configured audience, so no payload is acceptable.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => json_object(
            &["sub", "iss", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "roles"],
            0..8,
        )
        .prop_map(|v| v.to_string().into_bytes()),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..48),
    ]
    .prop_filter("must not name the configured audience", |bytes| {
        !bytes
            .windows(AUDIENCE.len())
            .any(|w| w == AUDIENCE.as_bytes())
    })
}

/// How the generated token is signed.
#[derive(Clone, Debug)]
enum Signature {
    /// A genuine HS256 MAC under the trusted key, so verification reaches the payload.
    Genuine,
    /// Random base64url characters.
    Random(String),
}

fn signature() -> impl Strategy<Value = Signature> {
    prop_oneof![
        Just(Signature::Genuine),
        "[A-Za-z0-9_-]{0,90}".prop_map(Signature::Random),
    ]
}

fn assemble(header: &[u8], payload: &[u8], signature: &Signature) -> String {
    match signature {
        Signature::Genuine => {
            keys::sign_raw(Algorithm::HS256, key().encoding_key(), header, payload).unwrap()
        }
        Signature::Random(sig) => format!(
            "{}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        ),
    }
}

proptest! {
    #[test]
    fn arbitrary_authorization_bytes_yield_400_or_401(bytes in header_bytes(300)) {
        let value = HeaderValue::from_bytes(&bytes).unwrap();
        let status = status_for(header::AUTHORIZATION, value);
        prop_assert!(is_400_or_401(status), "{status} for {bytes:?}");
    }

    #[test]
    fn arbitrary_bytes_after_the_bearer_scheme_yield_400_or_401(bytes in header_bytes(300)) {
        let mut value = b"Bearer ".to_vec();
        value.extend_from_slice(&bytes);
        let status = status_for(header::AUTHORIZATION, HeaderValue::from_bytes(&value).unwrap());
        prop_assert!(is_400_or_401(status), "{status} for {value:?}");
    }

    #[test]
    fn arbitrary_cookie_bytes_yield_400_or_401(bytes in header_bytes(300)) {
        let mut value = b"access_token=".to_vec();
        value.extend_from_slice(&bytes);
        let status = status_for(header::COOKIE, HeaderValue::from_bytes(&value).unwrap());
        prop_assert!(is_400_or_401(status), "{status} for {value:?}");
    }

    #[test]
    fn token_shaped_strings_yield_400_or_401(token in token_shaped()) {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        let status = status_for(header::AUTHORIZATION, value);
        prop_assert!(is_400_or_401(status), "{status} for {token}");
    }

    #[test]
    fn encoded_json_ish_headers_and_payloads_yield_400_or_401(
        header in jose_header(),
        payload in payload(),
        signature in signature(),
    ) {
        let token = assemble(&header, &payload, &signature);
        let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        let status = status_for(header::AUTHORIZATION, value);
        prop_assert!(
            is_400_or_401(status),
            "{status} for header {:?}, payload {:?}",
            String::from_utf8_lossy(&header),
            String::from_utf8_lossy(&payload),
        );
    }

    #[test]
    fn encoded_json_ish_tokens_in_the_cookie_yield_400_or_401(
        header in jose_header(),
        payload in payload(),
        signature in signature(),
    ) {
        let token = assemble(&header, &payload, &signature);
        let value = HeaderValue::from_str(&format!("access_token={token}")).unwrap();
        let status = status_for(header::COOKIE, value);
        prop_assert!(is_400_or_401(status), "{status} for {token}");
    }
}
