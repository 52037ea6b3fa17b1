//! `ScopeLayer::per_grpc_method` behind `BearerLayer` (issue 18, gRPC): each gRPC call is held
//! to its method's requirement, 7 PERMISSION_DENIED when it falls short, 16 UNAUTHENTICATED
//! without a principal, and a method without a rule is denied.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use auth_core::Principal;
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::scope::{Requirement, RolePolicy};
use auth_tower::bearer::BearerLayer;
use auth_tower::scope::{GrpcMethods, ScopeLayer};
use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt, service_fn};

const SECRET: &[u8] = b"grpc method rules secret, 32 bytes or more";
const NOW: u64 = 1_800_000_000;
const LIST: &str = "/demo.v1.Orders/ListOrders";
const REFUND: &str = "/demo.v1.Orders/RefundOrder";

fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap()
}

fn token(roles: &[&str], scope: &str) -> String {
    let claims = serde_json::json!({"sub": "ann", "aud": "api", "exp": NOW + 60, "roles": roles, "scope": scope});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

/// A gRPC call to `path`, with the subject the handler saw in the response.
async fn call(methods: GrpcMethods, path: &str, token: Option<&str>) -> Response<Full<Bytes>> {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .layer(
            ScopeLayer::per_grpc_method(methods).unwrap().policy(
                RolePolicy::builder()
                    .grant("orders:refund", ["manager"])
                    .build(),
            ),
        )
        .service(service_fn(|req: Request<Full<Bytes>>| async move {
            let subject = req.extensions().get::<Principal>().unwrap().subject();
            let mut res = Response::new(Full::default());
            res.headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static("0"));
            res.headers_mut()
                .insert("x-subject", subject.parse().unwrap());
            Ok::<_, Infallible>(res)
        }));
    let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/grpc");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    svc.oneshot(b.body(Full::default()).unwrap()).await.unwrap()
}

fn orders() -> GrpcMethods {
    GrpcMethods::new()
        .method(LIST, Requirement::scope("read:orders"))
        .method(REFUND, Requirement::permission("orders:refund"))
}

fn grpc_status(res: &Response<Full<Bytes>>) -> &str {
    res.headers()["grpc-status"].to_str().unwrap()
}

#[tokio::test]
async fn each_method_is_held_to_its_own_requirement() {
    let reader = token(&[], "read:orders");
    let manager = token(&["manager"], "");

    let ok = call(orders(), LIST, Some(&reader)).await;
    assert_eq!(grpc_status(&ok), "0");
    assert_eq!(ok.headers()["x-subject"], "ann");
    assert_eq!(
        grpc_status(&call(orders(), REFUND, Some(&reader)).await),
        "7"
    );
    assert_eq!(
        grpc_status(&call(orders(), REFUND, Some(&manager)).await),
        "0"
    );
    assert_eq!(
        grpc_status(&call(orders(), LIST, Some(&manager)).await),
        "7"
    );
}

#[tokio::test]
async fn a_call_without_a_token_is_unauthenticated_before_any_method_rule() {
    let res = call(orders(), LIST, None).await;
    assert_eq!(grpc_status(&res), "16");
    assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
}

#[tokio::test]
async fn a_method_without_a_rule_is_denied_unless_a_fallback_allows_it() {
    let everything = token(&["manager"], "read:orders");
    let other = "/demo.v1.Orders/DeleteOrder";
    assert_eq!(
        grpc_status(&call(orders(), other, Some(&everything)).await),
        "7"
    );

    let with_service = orders().service("demo.v1.Orders", Requirement::role("manager"));
    assert_eq!(
        grpc_status(&call(with_service, other, Some(&everything)).await),
        "0"
    );

    let open = orders().otherwise(Requirement::all([]));
    assert_eq!(
        grpc_status(&call(open, other, Some(&everything)).await),
        "0"
    );
}

#[tokio::test]
async fn a_denial_names_what_the_method_requires_in_the_grpc_message() {
    let res = call(orders(), REFUND, Some(&token(&[], "read:orders"))).await;
    assert_eq!(grpc_status(&res), "7");
    let message = res.headers()["grpc-message"].to_str().unwrap();
    assert!(message.contains("permission orders:refund"), "{message}");
}
