//! `ScopeLayer` behind `BearerLayer`: 401 versus 403, RFC 6750 challenges, gRPC codes.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::scope::{Requirement, RolePolicy};
use auth_core::{ErrorCode, Principal};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use auth_tower::scope::ScopeLayer;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tower::{ServiceBuilder, ServiceExt, service_fn};

const SECRET: &[u8] = b"scope layer tests secret, 32 bytes or more";
const NOW: u64 = 1_800_000_000;

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

async fn ok(_req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::from("ok")))
}

fn req(token: Option<&str>, grpc: bool) -> Request<Full<Bytes>> {
    let mut b = Request::get("/orders");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if grpc {
        b = b.header(header::CONTENT_TYPE, "application/grpc");
    }
    b.body(Full::default()).unwrap()
}

async fn json(res: Response<Full<Bytes>>) -> serde_json::Value {
    serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn policy() -> RolePolicy {
    RolePolicy::builder()
        .grant("orders:refund", ["manager", "admin"])
        .build()
}

#[tokio::test]
async fn principal_with_the_scope_reaches_the_handler() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .layer(ScopeLayer::new(Requirement::scope("read:orders")))
        .service(service_fn(ok));
    let res = svc
        .oneshot(req(Some(&token(&[], "read:orders write:orders")), false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn principal_without_the_scope_gets_403_insufficient_scope() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .layer(ScopeLayer::new(Requirement::all_scopes([
            "read:orders",
            "write:orders",
        ])))
        .service(service_fn(ok));
    let res = svc
        .oneshot(req(Some(&token(&[], "read:orders")), false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"the credentials do not grant access to this resource\", scope=\"read:orders write:orders\""
    );
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    let rejection = res.extensions().get::<Rejection>().unwrap();
    assert_eq!(rejection.code(), ErrorCode::InsufficientScope);
    let body = json(res).await;
    assert_eq!(body["error"]["code"], "INSUFFICIENT_SCOPE");
    assert_eq!(
        body["error"]["required"],
        serde_json::json!(["read:orders", "write:orders"])
    );
}

#[tokio::test]
async fn no_principal_is_401_not_403() {
    let svc = ServiceBuilder::new()
        .layer(ScopeLayer::new(Requirement::scope("read:orders")))
        .service(service_fn(ok));
    let res = svc.oneshot(req(None, false)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"api\""
    );
    assert_eq!(json(res).await["error"]["code"], "MISSING_CREDENTIALS");
}

#[tokio::test]
async fn anonymous_request_through_an_optional_layer_gets_that_layers_challenge() {
    let bearer = BearerLayer::builder(verifier())
        .realm("shop")
        .optional()
        .build()
        .unwrap();
    let svc = ServiceBuilder::new()
        .layer(bearer)
        .layer(ScopeLayer::new(Requirement::scope("read:orders")))
        .service(service_fn(ok));
    let res = svc.oneshot(req(None, false)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"shop\""
    );
}

#[tokio::test]
async fn permissions_resolve_through_the_role_policy() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .layer(ScopeLayer::new(Requirement::permission("orders:refund")).policy(policy()))
        .service(service_fn(ok));
    let manager = svc
        .clone()
        .oneshot(req(Some(&token(&["manager"], "")), false))
        .await
        .unwrap();
    assert_eq!(manager.status(), StatusCode::OK);
    let user = svc
        .oneshot(req(Some(&token(&["user"], "read:orders")), false))
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(user).await["error"]["required"],
        serde_json::json!(["orders:refund"])
    );
}

#[tokio::test]
async fn role_requirement_is_described_as_role_prefixed() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .layer(ScopeLayer::new(Requirement::role("admin")))
        .service(service_fn(ok));
    let res = svc
        .oneshot(req(Some(&token(&["user"], "")), false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(res).await["error"]["required"],
        serde_json::json!(["role:admin"])
    );
}

/// The 403 of a `ScopeLayer` requiring `requirement`, for a principal with no roles or scopes.
async fn denial(requirement: Requirement) -> (String, serde_json::Value) {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .layer(ScopeLayer::new(requirement).policy(policy()))
        .service(service_fn(ok));
    let res = svc
        .oneshot(req(Some(&token(&["user"], "")), false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let challenge = res.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    (challenge, json(res).await)
}

// Issue 12, item 18: a role is not an OAuth scope, so it must not appear in `scope=`.
#[tokio::test]
async fn a_role_requirement_is_described_in_words_not_in_the_scope_attribute() {
    let (challenge, body) = denial(Requirement::role("admin")).await;
    let message = "the credentials do not grant access to this resource; it requires role admin";
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"{message}\""
        )
    );
    assert_eq!(body["error"]["message"], message);
    assert_eq!(body["error"]["required"], serde_json::json!(["role:admin"]));
}

// Issue 12, item 18: nor is a permission.
#[tokio::test]
async fn a_permission_requirement_has_no_scope_attribute() {
    let (challenge, body) = denial(Requirement::permission("orders:refund")).await;
    assert!(!challenge.contains("scope="), "{challenge}");
    assert!(
        challenge.ends_with("error_description=\"the credentials do not grant access to this resource; it requires permission orders:refund\""),
        "{challenge}"
    );
    assert_eq!(
        body["error"]["required"],
        serde_json::json!(["orders:refund"])
    );
}

// Issue 12, item 18: a mixed requirement lists only its OAuth scopes in `scope=`, and the
// description (challenge and body alike) says how roles, permissions and scopes combine.
#[tokio::test]
async fn a_mixed_requirement_lists_only_its_oauth_scopes_and_describes_the_rest() {
    let (challenge, body) = denial(Requirement::any([
        Requirement::role("admin"),
        Requirement::all([
            Requirement::scope("read:orders"),
            Requirement::permission("orders:refund"),
        ]),
    ]))
    .await;
    let message = "the credentials do not grant access to this resource; it requires \
                   (role admin or (scope read:orders and permission orders:refund))";
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"{message}\", \
             scope=\"read:orders\""
        )
    );
    assert_eq!(body["error"]["message"], message);
    assert_eq!(
        body["error"]["required"],
        serde_json::json!(["role:admin", "read:orders", "orders:refund"])
    );
}

#[tokio::test]
async fn a_scope_only_requirement_keeps_the_generic_message_in_challenge_and_body() {
    let (challenge, body) = denial(Requirement::any_scope(["read:orders", "admin:orders"])).await;
    let message = "the credentials do not grant access to this resource";
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"{message}\", \
             scope=\"read:orders admin:orders\""
        )
    );
    assert_eq!(body["error"]["message"], message);
}

// Issue 12, item 18: the gRPC responder carries the same description.
#[tokio::test]
async fn grpc_denials_of_a_role_describe_it_in_the_grpc_message() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .layer(ScopeLayer::new(Requirement::role("admin")))
        .service(service_fn(ok));
    let denied = svc
        .oneshot(req(Some(&token(&["user"], "")), true))
        .await
        .unwrap();
    assert_eq!(denied.headers()["grpc-status"], "7");
    assert_eq!(
        denied.headers()["grpc-message"],
        "the credentials do not grant access to this resource; it requires role admin"
    );
    assert!(
        denied
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .is_some_and(|c| !c.to_str().unwrap().contains("scope="))
    );
}

#[tokio::test]
async fn grpc_denials_are_permission_denied_and_missing_is_unauthenticated() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::builder(verifier()).optional().build().unwrap())
        .layer(ScopeLayer::new(Requirement::role("admin")))
        .service(service_fn(ok));
    let denied = svc
        .clone()
        .oneshot(req(Some(&token(&["user"], "")), true))
        .await
        .unwrap();
    assert_eq!(denied.headers()["grpc-status"], "7");
    let missing = svc.oneshot(req(None, true)).await.unwrap();
    assert_eq!(missing.headers()["grpc-status"], "16");
}

#[tokio::test]
async fn the_layer_reads_any_principal_in_extensions() {
    let svc = ServiceBuilder::new()
        .map_request(|mut r: Request<Full<Bytes>>| {
            r.extensions_mut()
                .insert(Principal::insecure_for_tests("svc", &["admin"], &[]));
            r
        })
        .layer(ScopeLayer::new(Requirement::role("admin")))
        .service(service_fn(ok));
    assert_eq!(
        svc.oneshot(req(None, false)).await.unwrap().status(),
        StatusCode::OK
    );
}

#[test]
fn realm_is_validated() {
    assert!(
        ScopeLayer::new(Requirement::role("a"))
            .realm("bad\"realm")
            .is_err()
    );
    assert!(
        ScopeLayer::new(Requirement::role("a"))
            .realm("shop")
            .is_ok()
    );
}
