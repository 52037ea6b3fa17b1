//! What `BearerLayer` costs on top of a bare axum router, per signature algorithm, next to
//! `jsonwebtoken::decode` alone (the floor: signature check plus claim parsing).
//!
//! One criterion group, `bearer`, holds every row so the figures are comparable:
//!
//! - `bare/<alg>`: an axum `Router` with one route, `GET /me`, driven in process with
//!   `oneshot` on a clone; the request carries the token, which nothing reads.
//! - `layer/<alg>`: the same router behind `BearerLayer`, verifying the token.
//! - `decode/<alg>`: `jsonwebtoken::decode::<serde_json::Value>` with an equivalent
//!   `Validation` (same key bytes, issuer, audience, required claims).
//!
//! Keys are generated at start-up with aws-lc-rs; nothing touches the network.
//!
//! ```text
//! cargo bench -p auth-tower --bench bearer            # measure
//! cargo bench -p auth-tower --bench bearer -- --test  # smoke run, one iteration per row
//! ```

// Fixture setup in a benchmark should stop the run loudly when it fails, so unwrap/expect are
// fine here (the workspace lints only warn about them for library code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_tower::bearer::BearerLayer;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use base64::Engine as _;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, StatusCode, Uri, header};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use tower::{Layer, Service, ServiceExt};

const ISSUER: &str = "https://auth.example.test/";
const AUDIENCE: &str = "orders-api";
const HMAC_SECRET: &[u8] = b"bench-only hmac secret, 32+ bytes long";

/// Everything one algorithm's three rows need.
struct Fixture {
    name: &'static str,
    token: String,
    /// What the verifier inside `BearerLayer` checks with.
    verification: VerificationKey,
    /// The same key material for the floor row.
    decoding: DecodingKey,
    jwt_alg: jsonwebtoken::Algorithm,
}

/// PEM-armours DER, so both the verifier and the floor load keys through the same parser.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Claims of a realistic access token (about 300 bytes of JSON).
fn claims() -> serde_json::Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    serde_json::json!({
        "iss": ISSUER,
        "sub": "user-7f3c2a9e-41b8-4d0e-9a57-2c6b1e8d4f10",
        "aud": AUDIENCE,
        "iat": now,
        // Far future, so a long run never crosses it.
        "exp": now + 10 * 365 * 24 * 3600,
        "jti": "b4f1c0de-7a2e-4c39-8e51-93d2a6f0c7b4",
        "roles": ["orders-admin", "billing-viewer"],
        "scope": "orders:read orders:write",
    })
}

fn fixture(
    name: &'static str,
    alg: Algorithm,
    jwt_alg: jsonwebtoken::Algorithm,
    encoding: &EncodingKey,
    verification: VerificationKey,
    decoding: DecodingKey,
) -> Fixture {
    let kid = format!("bench-{}", name.to_ascii_lowercase());
    let mut header = Header::new(jwt_alg);
    header.kid = Some(kid.clone());
    let token = jsonwebtoken::encode(&header, &claims(), encoding).unwrap();
    assert_eq!(verification.algorithm(), alg);
    Fixture {
        name,
        token,
        verification: verification.with_kid(kid),
        decoding,
        jwt_alg,
    }
}

fn hs256() -> Fixture {
    fixture(
        "HS256",
        Algorithm::HS256,
        jsonwebtoken::Algorithm::HS256,
        &EncodingKey::from_secret(HMAC_SECRET),
        VerificationKey::hmac(Algorithm::HS256, HMAC_SECRET).unwrap(),
        DecodingKey::from_secret(HMAC_SECRET),
    )
}

fn rs256() -> Fixture {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(&pair).unwrap();
    let spki = pair.public_key().as_der().unwrap();
    // jsonwebtoken signs RSA with a PKCS#1 key; its PEM loader unwraps PKCS#8 to that.
    let signing = EncodingKey::from_rsa_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes()).unwrap();
    fixture(
        "RS256",
        Algorithm::RS256,
        jsonwebtoken::Algorithm::RS256,
        &signing,
        VerificationKey::from_der(Algorithm::RS256, spki.as_ref()).unwrap(),
        DecodingKey::from_rsa_pem(pem("PUBLIC KEY", spki.as_ref()).as_bytes()).unwrap(),
    )
}

fn es256() -> Fixture {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let pkcs8 = pair.to_pkcs8v1().unwrap();
    let spki = pair.public_key().as_der().unwrap();
    fixture(
        "ES256",
        Algorithm::ES256,
        jsonwebtoken::Algorithm::ES256,
        &EncodingKey::from_ec_der(pkcs8.as_ref()),
        VerificationKey::from_der(Algorithm::ES256, spki.as_ref()).unwrap(),
        DecodingKey::from_ec_pem(pem("PUBLIC KEY", spki.as_ref()).as_bytes()).unwrap(),
    )
}

fn eddsa() -> Fixture {
    let pair = Ed25519KeyPair::generate().unwrap();
    let pkcs8 = pair.to_pkcs8().unwrap();
    let spki = pair.public_key().as_der().unwrap();
    fixture(
        "EdDSA",
        Algorithm::EdDSA,
        jsonwebtoken::Algorithm::EdDSA,
        &EncodingKey::from_ed_der(pkcs8.as_ref()),
        VerificationKey::from_der(Algorithm::EdDSA, spki.as_ref()).unwrap(),
        DecodingKey::from_ed_pem(pem("PUBLIC KEY", spki.as_ref()).as_bytes()).unwrap(),
    )
}

/// The floor's `Validation`, matching the verifier: pinned algorithm, issuer, audience, `exp`
/// and `sub` required, 30 s leeway.
fn validation(alg: jsonwebtoken::Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    v.leeway = 30;
    v
}

fn router() -> Router {
    Router::new().route("/me", get(|| async { "me" }))
}

/// A fresh request per iteration, as a server would hand one over; built the same way for
/// the bare and the layered rows so it cancels out of the difference.
fn request(authorization: &HeaderValue) -> Request<Body> {
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = Uri::from_static("/me");
    req.headers_mut()
        .insert(header::AUTHORIZATION, authorization.clone());
    req
}

/// Sends one request through a clone of `svc` and returns the status.
async fn send<S>(svc: &S, authorization: &HeaderValue) -> StatusCode
where
    S: Service<Request<Body>, Response = http::Response<Body>> + Clone,
    S::Error: std::fmt::Debug,
{
    svc.clone()
        .oneshot(request(authorization))
        .await
        .unwrap()
        .status()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let fixtures = [hs256(), rs256(), es256(), eddsa()];

    let mut group = c.benchmark_group("bearer");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    for f in &fixtures {
        let authorization = HeaderValue::try_from(format!("Bearer {}", f.token)).unwrap();
        let bare = router();
        let verifier = JwtVerifier::builder()
            .key(f.verification.clone())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap();
        let layered = BearerLayer::new(verifier).layer(router());
        let decoding = &f.decoding;
        let validation = validation(f.jwt_alg);

        // Every row must do the work it claims to: the layer really admits this token and
        // really rejects a request without one, and the floor accepts the token too.
        rt.block_on(async {
            assert_eq!(send(&bare, &authorization).await, StatusCode::OK);
            assert_eq!(send(&layered, &authorization).await, StatusCode::OK);
            let anonymous = Request::get("/me").body(Body::empty()).unwrap();
            let res = layered.clone().oneshot(anonymous).await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        });
        jsonwebtoken::decode::<serde_json::Value>(&f.token, decoding, &validation).unwrap();
        eprintln!("{}: token is {} bytes", f.name, f.token.len());

        group.bench_function(BenchmarkId::new("bare", f.name), |b| {
            b.to_async(&rt)
                .iter(|| send(&bare, black_box(&authorization)));
        });
        group.bench_function(BenchmarkId::new("layer", f.name), |b| {
            b.to_async(&rt)
                .iter(|| send(&layered, black_box(&authorization)));
        });
        group.bench_function(BenchmarkId::new("decode", f.name), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<serde_json::Value>(
                    black_box(f.token.as_str()),
                    decoding,
                    &validation,
                )
                .unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
