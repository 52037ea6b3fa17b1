//! `SecuredRoutes` (feature `utoipa`): one declaration gives the route its `ScopeLayer` and its
//! operation its `security`, and the builder refuses declarations axum would panic on.
#![cfg(feature = "utoipa")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use auth_axum_extractors::Authenticated;
use auth_axum_extractors::openapi::{self, Access, RouteError, Scheme, SecuredRoutes};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::scope::{Requirement, RolePolicy};
use auth_tower::bearer::BearerLayer;
use auth_tower::scope::ScopeLayer;
use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use serde_json::json;
use tower::ServiceExt;
use utoipa::openapi::{Info, OpenApi, Paths};

const SECRET: &[u8] = b"openapi tests secret, at least 32 bytes long";
const NOW: u64 = 1_800_000_000;

fn bearer() -> BearerLayer {
    let verifier = JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap();
    BearerLayer::builder(verifier).optional().build().unwrap()
}

fn token(claims: serde_json::Value) -> String {
    let mut all = json!({"sub": "alice", "aud": "api", "exp": NOW + 60});
    all.as_object_mut()
        .unwrap()
        .extend(claims.as_object().unwrap().clone());
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &all,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn routes() -> SecuredRoutes {
    let policy = std::sync::Arc::new(
        RolePolicy::builder()
            .grant("orders:refund", ["manager"])
            .build(),
    );
    SecuredRoutes::with_scope_layer(move |r| {
        Ok(ScopeLayer::new(r).policy(std::sync::Arc::clone(&policy)))
    })
    .route("/health", openapi::get(|| async { "ok" }), Access::public())
    .unwrap()
    .route(
        "/hello",
        openapi::get(|p: Option<Authenticated>| async move {
            p.map_or_else(|| "anonymous".to_owned(), |p| p.subject().to_owned())
        }),
        Access::optional([Scheme::BEARER]),
    )
    .unwrap()
    .route(
        "/orders",
        openapi::get(|| async { "orders" }).post(|| async { "created" }),
        Access::require(
            Requirement::scope("read:orders"),
            [Scheme::BEARER, Scheme::API_KEY],
        ),
    )
    .unwrap()
    .route(
        "/orders/{id}/refund",
        openapi::post(|| async { "refunded" }),
        Access::require(Requirement::permission("orders:refund"), [Scheme::BEARER]),
    )
    .unwrap()
    .route(
        "/me",
        openapi::get(|p: Authenticated| async move { p.subject().to_owned() }),
        Access::authenticated([Scheme::BEARER]),
    )
    .unwrap()
    .route_layer(bearer())
}

async fn status(router: &Router, method: Method, uri: &str, token: Option<&str>) -> StatusCode {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn declared_requirements_are_enforced_by_the_router() {
    let (router, _) = routes().into_parts();
    let reader = token(json!({"scope": "read:orders"}));
    let manager = token(json!({"roles": ["manager"]}));

    assert_eq!(
        status(&router, Method::GET, "/health", None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&router, Method::GET, "/hello", None).await,
        StatusCode::OK
    );
    for (m, uri) in [
        (Method::GET, "/orders"),
        (Method::POST, "/orders"),
        (Method::POST, "/orders/7/refund"),
        (Method::GET, "/me"),
    ] {
        assert_eq!(
            status(&router, m, uri, None).await,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
    }
    assert_eq!(
        status(&router, Method::GET, "/orders", Some(&reader)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&router, Method::POST, "/orders", Some(&reader)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&router, Method::GET, "/orders", Some(&manager)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(&router, Method::POST, "/orders/7/refund", Some(&manager)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&router, Method::POST, "/orders/7/refund", Some(&reader)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(&router, Method::GET, "/me", Some(&reader)).await,
        StatusCode::OK
    );
    // Only the declared methods are guarded: another one is 405, anonymous or not.
    assert_eq!(
        status(&router, Method::DELETE, "/orders", None).await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status(&router, Method::DELETE, "/me", Some(&reader)).await,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn the_table_has_one_row_per_method_and_the_document_one_operation_per_row() {
    let (_, table) = routes().into_parts();
    assert_eq!(table.len(), 6);
    assert!(
        table
            .get(&Method::POST, "/orders")
            .unwrap()
            .access()
            .is_secured()
    );
    assert!(
        !table
            .get(&Method::GET, "/hello")
            .unwrap()
            .access()
            .is_secured()
    );

    let mut doc = OpenApi::new(Info::new("t", "1"), Paths::new());
    table.apply(&mut doc);
    let json = serde_json::to_value(&doc).unwrap();
    let paths = json["paths"].as_object().unwrap();
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(operations, table.len());
    assert_eq!(
        json["paths"]["/orders"]["post"]["security"],
        json!([{"bearer": ["read:orders"]}, {"api_key": ["read:orders"]}])
    );
    assert_eq!(
        json["paths"]["/orders/{id}/refund"]["post"]["security"],
        json!([{"bearer": ["orders:refund"]}])
    );
    assert_eq!(
        json["paths"]["/me"]["get"]["security"],
        json!([{"bearer": []}])
    );
    assert_eq!(
        json["paths"]["/hello"]["get"]["security"],
        json!([{}, {"bearer": []}])
    );
    assert!(json["paths"]["/health"]["get"].get("security").is_none());
}

#[test]
fn declaring_a_method_twice_on_a_path_is_an_error_not_a_panic() {
    let err = routes()
        .route(
            "/orders",
            openapi::post(|| async { "again" }),
            Access::public(),
        )
        .unwrap_err();
    assert!(
        matches!(err, RouteError::Duplicate { ref method, ref path } if method == Method::POST && path == "/orders")
    );
    assert_eq!(err.to_string(), "route POST /orders declared twice");

    let err = SecuredRoutes::<()>::new()
        .route(
            "/x",
            openapi::get(|| async {}).get(|| async {}),
            Access::public(),
        )
        .unwrap_err();
    assert!(matches!(err, RouteError::Duplicate { .. }));
}

#[test]
fn another_method_on_a_declared_path_is_added() {
    let routes = SecuredRoutes::<()>::new()
        .route("/items", openapi::get(|| async {}), Access::public())
        .unwrap()
        .route(
            "/items",
            openapi::delete(|| async {}),
            Access::authenticated([Scheme::BEARER]),
        )
        .unwrap();
    let table = routes.table();
    assert!(
        !table
            .get(&Method::GET, "/items")
            .unwrap()
            .access()
            .is_secured()
    );
    assert!(
        table
            .get(&Method::DELETE, "/items")
            .unwrap()
            .access()
            .is_secured()
    );
}

#[test]
fn merging_routers_that_declare_the_same_route_is_an_error() {
    let one = SecuredRoutes::<()>::new()
        .route("/a", openapi::get(|| async {}), Access::public())
        .unwrap();
    let two = SecuredRoutes::<()>::new()
        .route("/a", openapi::get(|| async {}), Access::public())
        .unwrap();
    assert!(matches!(one.merge(two), Err(RouteError::Duplicate { .. })));
}

#[test]
fn a_path_without_a_leading_slash_is_an_error() {
    let err = SecuredRoutes::<()>::new()
        .route("orders", openapi::get(|| async {}), Access::public())
        .unwrap_err();
    assert!(matches!(err, RouteError::InvalidPath(_)));
}

#[tokio::test]
async fn a_route_layer_before_any_route_is_a_no_op() {
    let (router, table) = SecuredRoutes::<()>::new()
        .route_layer(bearer())
        .route("/open", openapi::get(|| async { "open" }), Access::public())
        .unwrap()
        .into_parts();
    assert_eq!(table.len(), 1);
    let bad = "not-a-token";
    // The bearer layer was not applied: even an invalid token reaches the public route.
    assert_eq!(
        status(&router, Method::GET, "/open", Some(bad)).await,
        StatusCode::OK
    );
    // The control: the same layer after the route refuses the invalid token.
    let (guarded, _) = SecuredRoutes::<()>::new()
        .route("/open", openapi::get(|| async { "open" }), Access::public())
        .unwrap()
        .route_layer(bearer())
        .into_parts();
    assert_eq!(
        status(&guarded, Method::GET, "/open", Some(bad)).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn merged_and_stateful_routes_keep_their_layers() {
    #[derive(Clone)]
    struct Greeting(&'static str);
    let stateful = SecuredRoutes::<Greeting>::new()
        .route(
            "/greet",
            openapi::get(
                |axum::extract::State(g): axum::extract::State<Greeting>| async move { g.0 },
            ),
            Access::authenticated([Scheme::BEARER]),
        )
        .unwrap()
        .route_layer(bearer())
        .with_state::<()>(Greeting("hi"));
    let (router, table) = SecuredRoutes::new()
        .route("/health", openapi::get(|| async { "ok" }), Access::public())
        .unwrap()
        .merge(stateful)
        .unwrap()
        .into_parts();
    assert_eq!(table.len(), 2);
    assert_eq!(
        status(&router, Method::GET, "/greet", None).await,
        StatusCode::UNAUTHORIZED
    );
    let t = token(json!({}));
    assert_eq!(
        status(&router, Method::GET, "/greet", Some(&t)).await,
        StatusCode::OK
    );
}
