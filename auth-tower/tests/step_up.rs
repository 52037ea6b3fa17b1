//! `StepUpLayer` behind `BearerLayer`: `amr`, `acr` and `auth_time` requirements, the exact
//! RFC 9470 challenges, gRPC codes, readiness. Manual clock, no sleeping.
#![cfg(all(feature = "step-up", feature = "bearer"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::convert::Infallible;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::{AuthError, ErrorCode, Principal};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use auth_tower::step_up::{StepUpLayer, StepUpRequirement};
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt, service_fn};

const SECRET: &[u8] = b"step-up layer tests secret, 32 bytes or more";
const NOW: u64 = 1_800_000_000;

fn clock() -> ManualClock {
    ManualClock::new(UnixTime::from_secs(NOW))
}

fn verifier(clock: &ManualClock) -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .audience("api")
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn token(extra: Value) -> String {
    let mut claims = json!({"sub": "ann", "aud": "api", "exp": NOW + 3600});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn mfa_token(auth_time: u64) -> String {
    token(json!({"amr": ["pwd", "otp", "mfa"], "acr": "aal2", "auth_time": auth_time}))
}

async fn ok(_req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::from("ok")))
}

fn req(token: Option<&str>, grpc: bool) -> Request<Full<Bytes>> {
    let mut b = Request::post("/auth/mfa/totp/disable");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if grpc {
        b = b.header(header::CONTENT_TYPE, "application/grpc");
    }
    b.body(Full::default()).unwrap()
}

async fn call(
    clock: &ManualClock,
    requirement: StepUpRequirement,
    request: Request<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    ServiceBuilder::new()
        .layer(BearerLayer::new(verifier(clock)))
        .layer(StepUpLayer::new(requirement).clock(clock.clone()))
        .service(service_fn(ok))
        .oneshot(request)
        .await
        .unwrap()
}

fn otp_within_five_minutes() -> StepUpRequirement {
    StepUpRequirement::builder()
        .amr("otp")
        .max_age(Duration::from_secs(300))
        .build()
        .unwrap()
}

fn challenge(res: &Response<Full<Bytes>>) -> &str {
    res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap()
}

async fn json_body(res: Response<Full<Bytes>>) -> Value {
    serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

#[tokio::test]
async fn a_recent_second_factor_reaches_the_handler() {
    let clock = clock();
    let res = call(
        &clock,
        otp_within_five_minutes(),
        req(Some(&mfa_token(NOW - 299)), false),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// Issue 15: a missing amr value gets the exact RFC 9470 challenge.
#[tokio::test]
async fn a_token_without_otp_in_amr_gets_the_rfc_9470_challenge() {
    let clock = clock();
    let pwd = token(json!({"amr": ["pwd"], "auth_time": NOW - 10}));
    let res = call(&clock, otp_within_five_minutes(), req(Some(&pwd), false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&res),
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
         error_description=\"a different or more recent authentication is required\", max_age=300"
    );
    let rejection = res.extensions().get::<Rejection>().unwrap().clone();
    assert_eq!(rejection.code(), ErrorCode::InsufficientUserAuthentication);
    let body = json_body(res).await;
    assert_eq!(body["error"]["code"], "INSUFFICIENT_USER_AUTHENTICATION");
}

#[tokio::test]
async fn a_token_without_any_amr_claim_is_refused_too() {
    let clock = clock();
    let bare = token(json!({"auth_time": NOW}));
    let res = call(&clock, otp_within_five_minutes(), req(Some(&bare), false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&res).contains("error=\"insufficient_user_authentication\""));
}

// Issue 15: too old an auth_time gets the exact RFC 9470 challenge.
#[tokio::test]
async fn an_auth_time_older_than_max_age_gets_the_challenge_with_max_age() {
    let clock = clock();
    let t = mfa_token(NOW - 300);
    assert_eq!(
        call(&clock, otp_within_five_minutes(), req(Some(&t), false))
            .await
            .status(),
        StatusCode::OK
    );
    clock.advance(Duration::from_secs(1));
    let res = call(&clock, otp_within_five_minutes(), req(Some(&t), false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&res),
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
         error_description=\"a different or more recent authentication is required\", max_age=300"
    );
}

#[tokio::test]
async fn a_token_without_auth_time_fails_a_max_age() {
    let clock = clock();
    let t = token(json!({"amr": ["pwd", "otp"]}));
    let res = call(&clock, otp_within_five_minutes(), req(Some(&t), false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_acr_gets_the_challenge_with_acr_values() {
    let clock = clock();
    let requirement = StepUpRequirement::builder()
        .acr("aal2")
        .acr("aal3")
        .build()
        .unwrap();
    let low = token(json!({"acr": "aal1", "auth_time": NOW}));
    let res = call(&clock, requirement.clone(), req(Some(&low), false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&res),
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
         error_description=\"a different or more recent authentication is required\", \
         acr_values=\"aal2 aal3\""
    );
    let res = call(
        &clock,
        requirement,
        req(Some(&mfa_token(NOW - 10_000)), false),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn acr_and_max_age_both_appear_when_both_are_required() {
    let clock = clock();
    let requirement = StepUpRequirement::builder()
        .acr("aal2")
        .max_age(Duration::from_secs(60))
        .build()
        .unwrap();
    let res = call(&clock, requirement, req(Some(&mfa_token(NOW - 61)), false)).await;
    assert_eq!(
        challenge(&res),
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
         error_description=\"a different or more recent authentication is required\", \
         acr_values=\"aal2\", max_age=60"
    );
}

#[tokio::test]
async fn no_principal_is_answered_like_the_authentication_layer() {
    let clock = clock();
    let res = call(&clock, otp_within_five_minutes(), req(None, false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&res), "Bearer realm=\"api\"");
    assert_eq!(json_body(res).await["error"]["code"], "MISSING_CREDENTIALS");
    // Without any authentication layer in front, too.
    let svc = StepUpLayer::new(otp_within_five_minutes()).clock(clock.clone());
    let res = ServiceBuilder::new()
        .layer(svc)
        .service(service_fn(ok))
        .oneshot(req(None, false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn grpc_calls_get_unauthenticated() {
    let clock = clock();
    let pwd = token(json!({"amr": ["pwd"], "auth_time": NOW}));
    let res = call(&clock, otp_within_five_minutes(), req(Some(&pwd), true)).await;
    assert_eq!(res.headers()["grpc-status"], "16");
}

#[tokio::test]
async fn a_principal_without_claims_never_steps_up() {
    let clock = clock();
    let principal = Principal::insecure_for_tests("ann", &[], &[]);
    let svc = ServiceBuilder::new()
        .map_request(move |mut r: Request<Full<Bytes>>| {
            r.extensions_mut().insert(principal.clone());
            r
        })
        .layer(StepUpLayer::new(otp_within_five_minutes()).clock(clock.clone()))
        .service(service_fn(ok));
    let res = svc.oneshot(req(None, false)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.extensions().get::<Rejection>().unwrap().error(),
        &AuthError::InsufficientUserAuthentication {
            acr_values: None,
            max_age: Some(300)
        }
    );
}

#[tokio::test]
async fn readiness_is_forwarded_to_the_inner_service() {
    let (mut svc, mut handle) =
        tower_test::mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
            StepUpLayer::new(otp_within_five_minutes()),
        );
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(svc.poll_ready().is_ready());
}

#[test]
fn the_realm_is_validated() {
    assert!(
        StepUpLayer::new(otp_within_five_minutes())
            .realm("a\"b")
            .is_err()
    );
    assert!(
        StepUpLayer::new(otp_within_five_minutes())
            .realm("mfa")
            .is_ok()
    );
}

#[test]
fn a_rejection_built_by_hand_never_puts_an_unsafe_acr_into_the_header() {
    let r = Rejection::from_error(AuthError::InsufficientUserAuthentication {
        acr_values: Some("a\", evil=\"1".into()),
        max_age: Some(5),
    });
    assert_eq!(
        r.www_authenticate().unwrap(),
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
         error_description=\"a different or more recent authentication is required\", max_age=5"
    );
}
