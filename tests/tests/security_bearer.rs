//! Security behaviour of [`BearerLayer`] in front of an axum route, end to end.
//!
//! Every test sends one request through a `Router` whose `/me` handler sits behind the layer
//! and checks what a client sees: the status, the exact `WWW-Authenticate` challenge and the
//! JSON `code` (plus `Content-Type`, `Cache-Control` and the [`Rejection`] left in the
//! response's extensions). Time comes from a [`ManualClock`]; no test sleeps. Keys are
//! generated at run time by [`auth_integration_tests::keys`].

// This whole crate is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the fixtures and assertion helpers below.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, JwtVerifierBuilder, VerificationKey};
use auth_core::{AuthError, InvalidRequest, InvalidToken, Principal};
use auth_integration_tests::keys::{self, KeyRing, TestKey};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::routing::get;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// Where the manual clock starts.
const NOW: u64 = 1_700_000_000;
/// Lifetime of the default test token.
const LIFETIME: u64 = 300;
/// The verifier's default leeway (auth-core's `DEFAULT_LEEWAY`).
const LEEWAY: u64 = 30;
const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "orders-api";
const KIB: usize = 1024;

const BARE_CHALLENGE: &str = r#"Bearer realm="api""#;
const INVALID_TOKEN_CHALLENGE: &str =
    r#"Bearer realm="api", error="invalid_token", error_description="the access token is invalid""#;
const EXPIRED_CHALLENGE: &str = r#"Bearer realm="api", error="invalid_token", error_description="the access token has expired""#;
const NOT_YET_VALID_CHALLENGE: &str = r#"Bearer realm="api", error="invalid_token", error_description="the access token is not valid yet""#;
const INVALID_ISSUER_CHALLENGE: &str = r#"Bearer realm="api", error="invalid_token", error_description="the access token was issued by an untrusted issuer""#;
const INVALID_AUDIENCE_CHALLENGE: &str = r#"Bearer realm="api", error="invalid_token", error_description="the access token is not meant for this service""#;
const INVALID_REQUEST_CHALLENGE: &str = r#"Bearer realm="api", error="invalid_request", error_description="the credentials are malformed""#;

/// One key per algorithm, generated once per test binary (RSA generation takes a moment).
fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| KeyRing::generate().unwrap_or_else(|e| panic!("{e}")))
}

/// A key pair the verifier does not trust, standing in for an attacker's.
fn attacker_rsa() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::RS256).unwrap_or_else(|e| panic!("{e}")))
}

fn key(alg: Algorithm) -> &'static TestKey {
    ring().get(alg).unwrap_or_else(|e| panic!("{e}"))
}

/// The default claims: `alice`, issued now, expiring in [`LIFETIME`] seconds.
fn claims() -> Value {
    json!({
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": NOW,
        "exp": NOW + LIFETIME,
    })
}

/// The default claims with `changes` merged in; a `null` change removes the claim.
fn claims_with(changes: Value) -> Value {
    let mut c = claims();
    let (Value::Object(map), Value::Object(changes)) = (&mut c, changes) else {
        panic!("claims and changes must be objects");
    };
    for (name, value) in changes {
        if value.is_null() {
            map.remove(&name);
        } else {
            map.insert(name, value);
        }
    }
    c
}

/// An HS256 token signed with the trusted key, with header overrides.
fn hs256_with_header(claims: &Value, header: Value) -> String {
    key(Algorithm::HS256)
        .sign(claims, &header)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An HS256 token signed with the trusted key and the default header.
fn hs256(claims: &Value) -> String {
    hs256_with_header(claims, Value::Null)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The handler behind the layer: echoes who called.
async fn me(principal: Option<Extension<Principal>>) -> String {
    match principal {
        Some(Extension(p)) => format!("subject={}", p.subject()),
        None => "anonymous".to_owned(),
    }
}

/// The route, its layer and the clock the verifier reads.
struct Api {
    router: Router,
    clock: ManualClock,
}

impl Api {
    /// The default API: trusts the ring's HS256 key, `BearerLayer::new`.
    fn new() -> Self {
        Self::trusting(key(Algorithm::HS256).verification_key().unwrap())
    }

    /// `BearerLayer::new` over a verifier trusting `key`.
    fn trusting(key: VerificationKey) -> Self {
        Self::build(key, |v| v, BearerLayer::new)
    }

    /// The default key and verifier, and a layer built by `layer`.
    fn with_layer(layer: impl FnOnce(JwtVerifier) -> BearerLayer) -> Self {
        Self::build(
            key(Algorithm::HS256).verification_key().unwrap(),
            |v| v,
            layer,
        )
    }

    /// The default key and layer, with extra verifier settings.
    fn with_verifier(configure: impl FnOnce(JwtVerifierBuilder) -> JwtVerifierBuilder) -> Self {
        Self::build(
            key(Algorithm::HS256).verification_key().unwrap(),
            configure,
            BearerLayer::new,
        )
    }

    fn build(
        key: VerificationKey,
        configure: impl FnOnce(JwtVerifierBuilder) -> JwtVerifierBuilder,
        layer: impl FnOnce(JwtVerifier) -> BearerLayer,
    ) -> Self {
        let clock = ManualClock::new(UnixTime::from_secs(NOW));
        let verifier = configure(
            JwtVerifier::builder()
                .key(key)
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .clock(clock.clone()),
        )
        .build()
        .unwrap();
        let router = Router::new().route("/me", get(me)).layer(layer(verifier));
        Self { router, clock }
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let rejection = response.extensions().get::<Rejection>().cloned();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply {
            status,
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
            rejection,
        }
    }

    /// `GET /me` with the given `Authorization` header values, in order.
    async fn get_with_authorization(&self, values: &[&str]) -> Reply {
        let mut request = Request::get("/me");
        for v in values {
            request = request.header(header::AUTHORIZATION, *v);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// `GET /me` with `Authorization: Bearer <token>`.
    async fn get_with_bearer(&self, token: &str) -> Reply {
        self.get_with_authorization(&[&format!("Bearer {token}")])
            .await
    }
}

/// What the client got back.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
    rejection: Option<Rejection>,
}

impl Reply {
    #[track_caller]
    fn assert_accepted_as(&self, subject: &str) {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        assert_eq!(self.body, format!("subject={subject}"));
        assert!(self.headers.get(header::WWW_AUTHENTICATE).is_none());
        assert!(self.rejection.is_none());
    }

    /// Status, exact challenge, JSON code, content type, no-store and the `Rejection` extension.
    #[track_caller]
    fn assert_rejected(&self, status: StatusCode, challenge: &str, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        let challenges: Vec<_> = self
            .headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(challenges, [challenge], "{self:?}");
        assert_eq!(self.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(self.headers[header::CACHE_CONTROL], "no-store");
        let body: Value = serde_json::from_str(&self.body).unwrap();
        assert_eq!(body["error"]["code"], code, "{self:?}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        let rejection = self.rejection.as_ref().expect("rejection extension");
        assert_eq!(rejection.code().as_str(), code);
    }

    #[track_caller]
    fn assert_invalid_token(&self) {
        self.assert_rejected(
            StatusCode::UNAUTHORIZED,
            INVALID_TOKEN_CHALLENGE,
            "INVALID_TOKEN",
        );
    }

    #[track_caller]
    fn assert_invalid_request(&self) {
        self.assert_rejected(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST_CHALLENGE,
            "INVALID_REQUEST",
        );
    }

    #[track_caller]
    fn assert_missing_credentials(&self) {
        self.assert_rejected(
            StatusCode::UNAUTHORIZED,
            BARE_CHALLENGE,
            "MISSING_CREDENTIALS",
        );
    }

    /// The detailed reason, for tests whose point is *why* a token was refused.
    #[track_caller]
    fn reason(&self) -> &AuthError {
        self.rejection
            .as_ref()
            .expect("rejection extension")
            .error()
    }
}

// ---------------------------------------------------------------------------------------------
// Accepted tokens and missing credentials
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_subject() {
    let api = Api::new();
    api.get_with_bearer(&hs256(&claims()))
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn request_without_credentials_gets_a_challenge_without_error_attribute() {
    let api = Api::new();
    api.get_with_authorization(&[])
        .await
        .assert_missing_credentials();
}

#[tokio::test]
async fn credentials_for_another_scheme_count_as_missing() {
    let api = Api::new();
    api.get_with_authorization(&["Basic YWxpY2U6c2VjcmV0"])
        .await
        .assert_missing_credentials();
}

// ---------------------------------------------------------------------------------------------
// Malformed tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_without_three_segments_is_rejected_as_invalid_token() {
    let api = Api::new();
    let token = hs256(&claims());
    let two_segments = token.rsplit_once('.').unwrap().0;
    let reply = api.get_with_bearer(two_segments).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::Malformed)
    );
}

#[tokio::test]
async fn token_with_four_segments_is_rejected_as_invalid_token() {
    let api = Api::new();
    let token = format!("{}.c2ln", hs256(&claims()));
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::Malformed)
    );
}

#[tokio::test]
async fn token_with_a_segment_that_is_not_base64url_is_rejected_as_invalid_token() {
    let api = Api::new();
    // `+` is allowed by the header grammar (token68) but not by base64url.
    let token = hs256(&claims()).replacen("eyJ", "ey+", 1);
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::BadEncoding)
    );
}

#[tokio::test]
async fn token_whose_header_is_not_json_is_rejected_as_invalid_token() {
    let api = Api::new();
    let k = key(Algorithm::HS256);
    let payload = claims().to_string();
    let token = keys::sign_raw(
        Algorithm::HS256,
        k.encoding_key(),
        br#"{"alg":"HS256""#,
        payload.as_bytes(),
    )
    .unwrap();
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::BadJson)
    );
}

#[tokio::test]
async fn correctly_signed_token_whose_payload_is_not_json_is_rejected_as_invalid_token() {
    let api = Api::new();
    let k = key(Algorithm::HS256);
    let token = keys::sign_raw(
        Algorithm::HS256,
        k.encoding_key(),
        br#"{"alg":"HS256","typ":"JWT"}"#,
        br#"{"sub":"alice""#,
    )
    .unwrap();
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::BadJson)
    );
}

// ---------------------------------------------------------------------------------------------
// Time: exp, nbf, iat against the manual clock
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn expired_token_is_rejected_with_token_expired_code() {
    let api = Api::new();
    let token = hs256(&claims());
    api.advance(LIFETIME + LEEWAY + 1);
    api.get_with_bearer(&token).await.assert_rejected(
        StatusCode::UNAUTHORIZED,
        EXPIRED_CHALLENGE,
        "TOKEN_EXPIRED",
    );
}

#[tokio::test]
async fn token_past_exp_but_just_inside_the_leeway_is_accepted() {
    let api = Api::new();
    let token = hs256(&claims());
    api.advance(LIFETIME + LEEWAY - 1);
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn token_is_expired_the_moment_the_leeway_after_exp_runs_out() {
    let api = Api::new();
    let token = hs256(&claims());
    api.advance(LIFETIME + LEEWAY);
    api.get_with_bearer(&token).await.assert_rejected(
        StatusCode::UNAUTHORIZED,
        EXPIRED_CHALLENGE,
        "TOKEN_EXPIRED",
    );
}

#[tokio::test]
async fn token_whose_nbf_lies_beyond_the_leeway_is_rejected_as_not_yet_valid() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"nbf": NOW + LEEWAY + 60})));
    api.get_with_bearer(&token).await.assert_rejected(
        StatusCode::UNAUTHORIZED,
        NOT_YET_VALID_CHALLENGE,
        "TOKEN_NOT_YET_VALID",
    );
}

#[tokio::test]
async fn token_whose_nbf_lies_within_the_leeway_is_accepted() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"nbf": NOW + LEEWAY})));
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn token_not_yet_valid_becomes_valid_when_the_clock_reaches_nbf() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"nbf": NOW + 120})));
    api.advance(120 - LEEWAY);
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn token_issued_in_the_future_beyond_the_leeway_is_rejected_as_not_yet_valid() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"iat": NOW + LEEWAY + 60})));
    api.get_with_bearer(&token).await.assert_rejected(
        StatusCode::UNAUTHORIZED,
        NOT_YET_VALID_CHALLENGE,
        "TOKEN_NOT_YET_VALID",
    );
}

// ---------------------------------------------------------------------------------------------
// Registered claims
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_from_another_issuer_is_rejected_with_invalid_issuer() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"iss": "https://evil.test"})));
    api.get_with_bearer(&token).await.assert_rejected(
        StatusCode::UNAUTHORIZED,
        INVALID_ISSUER_CHALLENGE,
        "INVALID_ISSUER",
    );
}

#[tokio::test]
async fn token_for_another_audience_is_rejected_with_invalid_audience() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"aud": ["billing-api"]})));
    api.get_with_bearer(&token).await.assert_rejected(
        StatusCode::UNAUTHORIZED,
        INVALID_AUDIENCE_CHALLENGE,
        "INVALID_AUDIENCE",
    );
}

#[tokio::test]
async fn token_without_exp_is_rejected_as_invalid_token() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"exp": null})));
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::MissingClaim("exp"))
    );
}

#[tokio::test]
async fn token_with_a_string_exp_is_rejected_as_invalid_token() {
    let api = Api::new();
    let token = hs256(&claims_with(json!({"exp": (NOW + LIFETIME).to_string()})));
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::ClaimType("exp"))
    );
}

// ---------------------------------------------------------------------------------------------
// Signatures and keys
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_with_a_tampered_payload_is_rejected_as_invalid_token() {
    let api = Api::new();
    let token = hs256(&claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = b64(claims_with(json!({"sub": "admin"})).to_string().as_bytes());
    let reply = api.get_with_bearer(&parts.join(".")).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::BadSignature)
    );
}

#[tokio::test]
async fn token_signed_with_another_key_is_rejected_as_invalid_token() {
    let api = Api::new();
    let other = TestKey::generate(Algorithm::HS256).unwrap();
    let token = other.sign(&claims(), &Value::Null).unwrap();
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::BadSignature)
    );
}

#[tokio::test]
async fn correctly_signed_token_naming_an_unknown_kid_is_rejected_as_invalid_token() {
    let trusted = key(Algorithm::HS256)
        .verification_key()
        .unwrap()
        .with_kid("current");
    let api = Api::trusting(trusted);
    let token = hs256_with_header(&claims(), json!({"kid": "retired"}));
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::UnknownKey)
    );
}

#[tokio::test]
async fn token_naming_the_trusted_kid_is_accepted() {
    let trusted = key(Algorithm::HS256)
        .verification_key()
        .unwrap()
        .with_kid("current");
    let api = Api::trusting(trusted);
    let token = hs256_with_header(&claims(), json!({"kid": "current"}));
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

/// A token whose header says `alg: <alg>`. With `keep_signature`, it carries a real HS256 MAC
/// of its own header and payload under the trusted key; without, its signature is empty.
fn unsecured_token(alg: &str, keep_signature: bool) -> String {
    let token = hs256_with_header(&claims(), json!({"alg": alg}));
    if keep_signature {
        token
    } else {
        format!("{}.", token.rsplit_once('.').unwrap().0)
    }
}

macro_rules! alg_none_is_rejected {
    ($($name:ident: $alg:literal, $keep_signature:literal;)*) => {$(
        #[tokio::test]
        async fn $name() {
            let api = Api::new();
            let token = unsecured_token($alg, $keep_signature);
            let reply = api.get_with_bearer(&token).await;
            reply.assert_invalid_token();
            assert!(
                matches!(
                    reply.reason(),
                    AuthError::InvalidToken(
                        InvalidToken::UnsupportedAlgorithm | InvalidToken::Malformed
                    )
                ),
                "{:?}",
                reply.reason()
            );
        }
    )*};
}

alg_none_is_rejected! {
    alg_none_with_an_empty_signature_is_rejected_as_invalid_token: "none", false;
    alg_none_with_a_signature_is_rejected_as_invalid_token: "none", true;
    alg_capitalised_none_with_an_empty_signature_is_rejected_as_invalid_token: "None", false;
    alg_capitalised_none_with_a_signature_is_rejected_as_invalid_token: "None", true;
    alg_uppercase_none_with_an_empty_signature_is_rejected_as_invalid_token: "NONE", false;
    alg_uppercase_none_with_a_signature_is_rejected_as_invalid_token: "NONE", true;
}

#[tokio::test]
async fn hs256_token_keyed_with_the_rsa_public_key_pem_is_rejected_as_invalid_token() {
    // The classic algorithm confusion: the attacker knows the RS256 public key and uses its
    // PEM bytes as an HMAC secret, hoping the verifier feeds the same bytes to HMAC.
    let rsa = key(Algorithm::RS256);
    let pem = rsa.public_key_pem().unwrap();
    let api = Api::trusting(VerificationKey::from_pem(Algorithm::RS256, &pem).unwrap());
    let forged = keys::sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(pem.as_bytes()),
        &claims(),
        &Value::Null,
    )
    .unwrap();
    api.get_with_bearer(&forged).await.assert_invalid_token();
}

#[tokio::test]
async fn token_signed_with_an_attacker_key_embedded_as_jwk_header_is_rejected() {
    let api = Api::trusting(key(Algorithm::RS256).verification_key().unwrap());
    let attacker = attacker_rsa();
    let token = attacker
        .sign(&claims(), &json!({"jwk": attacker.public_jwk().unwrap()}))
        .unwrap();
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::BadSignature)
    );
}

#[tokio::test]
async fn token_signed_with_an_attacker_key_published_at_a_jku_url_is_rejected() {
    let api = Api::trusting(key(Algorithm::RS256).verification_key().unwrap());
    // Loopback discard port: even a verifier that did fetch would reach nothing real.
    let header = json!({"jku": "http://127.0.0.1:9/jwks.json", "kid": "attacker"});
    let token = attacker_rsa().sign(&claims(), &header).unwrap();
    api.get_with_bearer(&token).await.assert_invalid_token();
}

// ---------------------------------------------------------------------------------------------
// Size limit
// ---------------------------------------------------------------------------------------------

/// An HS256 token for the default claims padded by a `pad` claim of `pad` bytes.
fn padded_token(pad: usize) -> String {
    hs256(&claims_with(json!({"pad": "x".repeat(pad)})))
}

#[tokio::test]
async fn correctly_signed_token_over_8_kib_is_rejected_as_invalid_token() {
    let api = Api::new();
    let token = padded_token(7 * KIB);
    assert!(token.len() > 8 * KIB);
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::TooLong {
            len: token.len(),
            max: 8 * KIB
        })
    );
}

#[tokio::test]
async fn correctly_signed_token_just_under_8_kib_is_accepted() {
    let api = Api::new();
    let token = (5 * KIB..7 * KIB)
        .map(padded_token)
        .take_while(|t| t.len() <= 8 * KIB)
        .last()
        .unwrap();
    assert!(token.len() > 8 * KIB - 4, "{}", token.len());
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn one_mib_token_is_refused_by_length_before_anything_is_decoded() {
    let api = Api::new();
    // `~` is valid in the header grammar but not in base64url: had anything been decoded,
    // the reason would be a bad encoding, not the length.
    let token = format!("{}.e30.c2ln", "~".repeat(KIB * KIB - 9));
    assert_eq!(token.len(), KIB * KIB);
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::TooLong {
            len: KIB * KIB,
            max: 8 * KIB
        })
    );
}

// ---------------------------------------------------------------------------------------------
// The Authorization header
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_authorization_headers_are_rejected_with_400_invalid_request() {
    let api = Api::new();
    let value = format!("Bearer {}", hs256(&claims()));
    let reply = api.get_with_authorization(&[&value, &value]).await;
    reply.assert_invalid_request();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidRequest(InvalidRequest::MultipleAuthorizationHeaders)
    );
}

#[tokio::test]
async fn lowercase_bearer_scheme_is_accepted() {
    let api = Api::new();
    let value = format!("bearer {}", hs256(&claims()));
    api.get_with_authorization(&[&value])
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn bearer_scheme_with_an_empty_token_is_rejected_with_400_invalid_request() {
    let api = Api::new();
    let reply = api.get_with_authorization(&["Bearer "]).await;
    reply.assert_invalid_request();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidRequest(InvalidRequest::EmptyToken)
    );
}

#[tokio::test]
async fn bearer_value_that_is_not_token68_is_rejected_with_400_invalid_request() {
    let api = Api::new();
    let value = format!("Bearer {} extra", hs256(&claims()));
    let reply = api.get_with_authorization(&[&value]).await;
    reply.assert_invalid_request();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidRequest(InvalidRequest::MalformedHeader)
    );
}

#[tokio::test]
async fn token_in_the_query_string_is_ignored() {
    let api = Api::new();
    let uri = format!("/me?access_token={}", hs256(&claims()));
    let request = Request::get(uri).body(Body::empty()).unwrap();
    api.send(request).await.assert_missing_credentials();
}

// ---------------------------------------------------------------------------------------------
// Cookie source
// ---------------------------------------------------------------------------------------------

fn cookie_api() -> Api {
    Api::with_layer(|v| {
        BearerLayer::builder(v)
            .cookie("access_token")
            .build()
            .unwrap()
    })
}

fn with_cookies(mut request: axum::http::request::Builder, cookies: &[&str]) -> Request<Body> {
    for c in cookies {
        request = request.header(header::COOKIE, *c);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn token_in_the_configured_cookie_is_accepted() {
    let api = cookie_api();
    let cookie = format!("theme=dark; access_token={}", hs256(&claims()));
    let request = with_cookies(Request::get("/me"), &[&cookie]);
    api.send(request).await.assert_accepted_as("alice");
}

#[tokio::test]
async fn authorization_header_is_preferred_over_the_configured_cookie() {
    let api = cookie_api();
    let bob = hs256(&claims_with(json!({"sub": "bob"})));
    let cookie = format!("access_token={bob}");
    let header_value = format!("Bearer {}", hs256(&claims()));
    let request = with_cookies(
        Request::get("/me").header(header::AUTHORIZATION, header_value),
        &[&cookie],
    );
    api.send(request).await.assert_accepted_as("alice");
}

#[tokio::test]
async fn configured_cookie_sent_twice_is_rejected_with_400_invalid_request() {
    let api = cookie_api();
    let token = hs256(&claims());
    let first = format!("access_token={token}");
    let second = format!("access_token={token}");
    let request = with_cookies(Request::get("/me"), &[&first, &second]);
    let reply = api.send(request).await;
    reply.assert_invalid_request();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidRequest(InvalidRequest::MultipleCredentials)
    );
}

#[tokio::test]
async fn configured_cookie_repeated_within_one_header_is_rejected_with_400_invalid_request() {
    let api = cookie_api();
    let token = hs256(&claims());
    let cookie = format!("access_token={token}; access_token={token}");
    let request = with_cookies(Request::get("/me"), &[&cookie]);
    api.send(request).await.assert_invalid_request();
}

#[tokio::test]
async fn token_in_an_unconfigured_cookie_is_ignored() {
    let api = Api::new();
    let cookie = format!("access_token={}", hs256(&claims()));
    let request = with_cookies(Request::get("/me"), &[&cookie]);
    api.send(request).await.assert_missing_credentials();
}

// ---------------------------------------------------------------------------------------------
// Optional mode
// ---------------------------------------------------------------------------------------------

fn optional_api() -> Api {
    Api::with_layer(|v| BearerLayer::builder(v).optional().build().unwrap())
}

#[tokio::test]
async fn optional_mode_runs_the_handler_without_a_principal_when_no_credentials_are_sent() {
    let api = optional_api();
    let reply = api.get_with_authorization(&[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "anonymous");
    assert!(reply.headers.get(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn optional_mode_still_rejects_an_invalid_token() {
    let api = optional_api();
    let token = hs256(&claims());
    api.advance(LIFETIME + LEEWAY + 1);
    api.get_with_bearer(&token).await.assert_rejected(
        StatusCode::UNAUTHORIZED,
        EXPIRED_CHALLENGE,
        "TOKEN_EXPIRED",
    );
}

#[tokio::test]
async fn optional_mode_still_authenticates_a_valid_token() {
    let api = optional_api();
    api.get_with_bearer(&hs256(&claims()))
        .await
        .assert_accepted_as("alice");
}

// ---------------------------------------------------------------------------------------------
// JOSE header: crit and typ
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_with_a_crit_header_is_rejected_as_invalid_token() {
    let api = Api::new();
    let header = json!({"crit": ["urn:example:ext"], "urn:example:ext": true});
    let reply = api
        .get_with_bearer(&hs256_with_header(&claims(), header))
        .await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::UnsupportedCritical)
    );
}

/// Regression: `"crit": null` used to read as "no crit" and the token was accepted.
#[tokio::test]
async fn token_with_a_null_crit_header_is_still_rejected() {
    let api = Api::new();
    let header = br#"{"alg":"HS256","typ":"JWT","crit":null}"#;
    let payload = serde_json::to_vec(&claims()).unwrap();
    let token = keys::sign_raw(
        Algorithm::HS256,
        key(Algorithm::HS256).encoding_key(),
        header,
        &payload,
    )
    .unwrap();
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::UnsupportedCritical)
    );
}

/// Regression: an empty `sub` used to produce a principal with subject "".
#[tokio::test]
async fn token_with_an_empty_subject_is_rejected_as_invalid_token() {
    let api = Api::new();
    let reply = api
        .get_with_bearer(&hs256(&claims_with(json!({"sub": ""}))))
        .await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::ClaimType("sub"))
    );
}

fn at_jwt_api() -> Api {
    Api::with_verifier(|v| v.require_type("at+jwt"))
}

#[tokio::test]
async fn required_at_jwt_type_rejects_a_token_typed_jwt() {
    let api = at_jwt_api();
    let token = hs256_with_header(&claims(), json!({"typ": "JWT"}));
    let reply = api.get_with_bearer(&token).await;
    reply.assert_invalid_token();
    assert_eq!(
        reply.reason(),
        &AuthError::InvalidToken(InvalidToken::WrongType)
    );
}

#[tokio::test]
async fn required_at_jwt_type_rejects_a_token_without_typ() {
    let api = at_jwt_api();
    let token = hs256_with_header(&claims(), json!({"typ": null}));
    api.get_with_bearer(&token).await.assert_invalid_token();
}

#[tokio::test]
async fn required_at_jwt_type_accepts_at_jwt() {
    let api = at_jwt_api();
    let token = hs256_with_header(&claims(), json!({"typ": "at+jwt"}));
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn required_at_jwt_type_accepts_application_at_jwt() {
    let api = at_jwt_api();
    let token = hs256_with_header(&claims(), json!({"typ": "application/at+jwt"}));
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

// ---------------------------------------------------------------------------------------------
// Every algorithm
// ---------------------------------------------------------------------------------------------

macro_rules! round_trips {
    ($($name:ident: $alg:ident;)*) => {$(
        #[tokio::test]
        async fn $name() {
            let k = key(Algorithm::$alg);
            let api = Api::trusting(k.verification_key().unwrap());
            let token = k.sign(&claims(), &Value::Null).unwrap();
            api.get_with_bearer(&token).await.assert_accepted_as("alice");
        }
    )*};
}

round_trips! {
    hs256_token_round_trips_through_the_layer: HS256;
    hs384_token_round_trips_through_the_layer: HS384;
    hs512_token_round_trips_through_the_layer: HS512;
    rs256_token_round_trips_through_the_layer: RS256;
    ps256_token_round_trips_through_the_layer: PS256;
    es256_token_round_trips_through_the_layer: ES256;
    es384_token_round_trips_through_the_layer: ES384;
    eddsa_token_round_trips_through_the_layer: EdDSA;
}

#[tokio::test]
async fn rs256_public_key_given_as_pem_verifies_like_der() {
    let k = key(Algorithm::RS256);
    let pem = k.public_key_pem().unwrap();
    let api = Api::trusting(VerificationKey::from_pem(Algorithm::RS256, pem).unwrap());
    let token = k.sign(&claims(), &Value::Null).unwrap();
    api.get_with_bearer(&token)
        .await
        .assert_accepted_as("alice");
}

#[tokio::test]
async fn ps256_token_is_rejected_by_a_verifier_pinned_to_rs256_with_the_same_key() {
    let api = Api::trusting(key(Algorithm::RS256).verification_key().unwrap());
    let token = key(Algorithm::PS256).sign(&claims(), &Value::Null).unwrap();
    api.get_with_bearer(&token).await.assert_invalid_token();
}

// ---------------------------------------------------------------------------------------------
// The token is never echoed
// ---------------------------------------------------------------------------------------------

/// Every header value and the body, as text.
fn everything_sent_back(reply: &Reply) -> Vec<String> {
    let mut out: Vec<String> = reply
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    out.push(reply.body.clone());
    if let Some(r) = &reply.rejection {
        out.push(format!("{r} {r:?}"));
    }
    out
}

#[tokio::test]
async fn rejected_responses_never_contain_the_token_or_its_parts() {
    let api = Api::new();
    let valid = hs256(&claims());
    let (message, _) = valid.rsplit_once('.').unwrap();
    let rejected = [
        hs256(&claims_with(json!({"aud": "billing-api"}))),
        hs256(&claims_with(json!({"iss": "https://evil.test"}))),
        hs256(&claims_with(json!({"exp": "soon"}))),
        hs256_with_header(&claims(), json!({"alg": "none"})),
        hs256_with_header(&claims(), json!({"crit": ["x"]})),
        format!("{message}.AAAA"),
        format!("{message}.~~~~"),
        padded_token(8 * KIB),
    ];
    for token in rejected {
        let reply = api.get_with_bearer(&token).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
        for text in everything_sent_back(&reply) {
            for part in token.split('.').filter(|p| p.len() >= 4) {
                assert!(!text.contains(part), "response echoes the token: {text}");
            }
        }
    }
}

#[tokio::test]
async fn accepted_responses_never_contain_the_token() {
    let api = Api::new();
    let token = hs256(&claims());
    let reply = api.get_with_bearer(&token).await;
    reply.assert_accepted_as("alice");
    for text in everything_sent_back(&reply) {
        assert!(!text.contains(&token), "response echoes the token: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Crypto backend
// ---------------------------------------------------------------------------------------------

fn cargo_lock_package_names() -> Vec<String> {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("workspace Cargo.lock");
    lock.lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn cargo_lock_lists_aws_lc_rs_as_the_crypto_backend() {
    let names = cargo_lock_package_names();
    assert!(names.iter().any(|n| n == "aws-lc-rs"), "{names:?}");
}

/// Cargo.lock as a graph: `name version` of every package to those of its dependencies (a
/// dependency entry names the version only when several versions are locked).
fn cargo_lock_graph() -> std::collections::HashMap<String, Vec<String>> {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("workspace Cargo.lock");
    let field = |block: &str, key: &str| -> Option<String> {
        block.lines().find_map(|l| {
            l.strip_prefix(key)?
                .strip_prefix(" = \"")?
                .strip_suffix('"')
                .map(str::to_owned)
        })
    };
    let mut packages: Vec<(String, String, Vec<String>)> = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let (Some(name), Some(version)) = (field(block, "name"), field(block, "version")) else {
            continue;
        };
        let deps = block
            .split_once("dependencies = [")
            .map(|(_, rest)| rest.split(']').next().unwrap_or(""))
            .unwrap_or("")
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
            .map(|d| d.split(" (").next().unwrap_or(d).to_owned())
            .collect();
        packages.push((name, version, deps));
    }
    let id_of = |dep: &str| -> String {
        if dep.contains(' ') {
            return dep.to_owned();
        }
        packages
            .iter()
            .find(|(n, _, _)| n == dep)
            .map_or_else(|| dep.to_owned(), |(n, v, _)| format!("{n} {v}"))
    };
    packages
        .iter()
        .map(|(n, v, deps)| (format!("{n} {v}"), deps.iter().map(|d| id_of(d)).collect()))
        .collect()
}

/// No crate we ship (nor the demo or the tests) reaches the `rsa` crate. The only package
/// allowed to pull it in is the `publish = false` bench crate, whose peer axum-jwt-auth is built
/// on jsonwebtoken's `rust_crypto` backend (BENCHMARKS.md).
#[test]
fn no_crate_of_ours_depends_on_the_rsa_crate_of_rustsec_2023_0071() {
    let graph = cargo_lock_graph();
    let roots = [
        "auth-core",
        "auth-tower",
        "auth-axum-extractors",
        "demo-server",
        "tonic-grpc",
        "auth-integration-tests",
        "auth-redis",
    ];
    let mut seen: std::collections::HashSet<&str> = Default::default();
    let mut stack: Vec<&str> = graph
        .keys()
        .filter(|id| roots.iter().any(|r| id.split(' ').next() == Some(*r)))
        .map(String::as_str)
        .collect();
    assert_eq!(stack.len(), roots.len(), "every root is in Cargo.lock");
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        assert_ne!(
            id.split(' ').next(),
            Some("rsa"),
            "the `rsa` crate is reachable from {roots:?}"
        );
        if let Some(deps) = graph.get(id) {
            stack.extend(deps.iter().map(String::as_str));
        }
    }
    assert!(
        seen.iter().any(|id| id.starts_with("aws-lc-rs ")),
        "the walk reached the crypto backend"
    );
}

#[test]
fn rs256_verification_runs_on_the_installed_crypto_provider() {
    let k = key(Algorithm::RS256);
    let verifier = JwtVerifier::builder()
        .key(k.verification_key().unwrap())
        .audience(AUDIENCE)
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap();
    let token = k.sign(&claims(), &Value::Null).unwrap();
    assert_eq!(verifier.verify_sync(&token).unwrap().subject(), "alice");
}
