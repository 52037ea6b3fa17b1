//! Issue 20: RFC 9728 protected resource metadata. Path insertion for root and nested
//! resources; every 401 of the layer names the document in `resource_metadata`, and that URL,
//! fetched through a router, answers the document the layer's own configuration describes.
#![cfg(all(feature = "bearer", feature = "axum"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use auth_test::TestAuthority;
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use auth_tower::resource_metadata::{ProtectedResource, metadata_url};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt;

fn layer(authority: &TestAuthority, resource: &str) -> BearerLayer {
    BearerLayer::builder(authority.verifier())
        .realm("api")
        .protected_resource(
            ProtectedResource::new(resource)
                .unwrap()
                .scopes(["read:orders", "write:orders"]),
        )
        .build()
        .unwrap()
}

/// The API under `/api`, and the layer's metadata service at the path it names.
fn app(layer: &BearerLayer) -> Router {
    let metadata = layer.resource_metadata().unwrap();
    let path = metadata.path().to_owned();
    Router::new()
        .route("/api/orders", get(|| async { "orders" }))
        .route_layer(layer.clone())
        .route_service(&path, metadata)
}

async fn json(res: http::Response<Body>) -> Value {
    serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn resource_metadata_of(challenge: &str) -> &str {
    let start = challenge.find("resource_metadata=\"").unwrap() + "resource_metadata=\"".len();
    let rest = &challenge[start..];
    &rest[..rest.find('"').unwrap()]
}

#[test]
fn path_insertion_for_root_and_nested_resources() {
    assert_eq!(
        metadata_url("https://api.example"),
        "https://api.example/.well-known/oauth-protected-resource"
    );
    assert_eq!(
        metadata_url("https://api.example/"),
        "https://api.example/.well-known/oauth-protected-resource"
    );
    assert_eq!(
        metadata_url("https://api.example/api"),
        "https://api.example/.well-known/oauth-protected-resource/api"
    );
    assert_eq!(
        metadata_url("https://api.example:8443/tenants/a/api"),
        "https://api.example:8443/.well-known/oauth-protected-resource/tenants/a/api"
    );
    let root = ProtectedResource::new("https://api.example").unwrap();
    assert_eq!(
        root.metadata_path(),
        "/.well-known/oauth-protected-resource"
    );
    let nested = ProtectedResource::new("https://api.example/tenants/a/api").unwrap();
    assert_eq!(
        nested.metadata_path(),
        "/.well-known/oauth-protected-resource/tenants/a/api"
    );
}

#[tokio::test]
async fn the_challenge_url_fetches_the_document_for_root_and_nested_resources() {
    let authority = TestAuthority::es256();
    for resource in ["http://127.0.0.1:3000", "http://127.0.0.1:3000/api"] {
        let layer = layer(&authority, resource);
        let app = app(&layer);
        let res = app
            .clone()
            .oneshot(Request::get("/api/orders").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        let url = resource_metadata_of(challenge).to_owned();
        assert_eq!(url, metadata_url(resource));
        assert_eq!(
            res.extensions()
                .get::<Rejection>()
                .unwrap()
                .resource_metadata(),
            Some(url.as_str())
        );
        // Fetch that very URL's path from the same app.
        let path = url.strip_prefix("http://127.0.0.1:3000").unwrap();
        let res = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        let doc = json(res).await;
        assert_eq!(doc["resource"], resource);
        assert_eq!(
            doc["authorization_servers"],
            serde_json::json!([authority.issuer()])
        );
        assert_eq!(
            doc["scopes_supported"],
            serde_json::json!(["read:orders", "write:orders"])
        );
        assert_eq!(
            doc["bearer_methods_supported"],
            serde_json::json!(["header"])
        );
        assert!(doc.get("dpop_signing_alg_values_supported").is_none());
    }
}

#[tokio::test]
async fn every_401_of_the_layer_carries_resource_metadata() {
    let authority = TestAuthority::es256();
    let layer = layer(&authority, "https://api.example/api");
    let app = app(&layer);
    let expired = authority.expired();
    for authorization in [
        None,
        Some(expired.bearer()),
        Some("Bearer not.a.jwt".to_owned()),
    ] {
        let mut req = Request::get("/api/orders");
        if let Some(a) = &authorization {
            req = req.header(header::AUTHORIZATION, a);
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{authorization:?}");
        let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(
            challenge.ends_with(
                ", resource_metadata=\"https://api.example/.well-known/oauth-protected-resource/api\""
            ),
            "{challenge}"
        );
    }
    let code =
        |res: &http::Response<Body>| res.extensions().get::<Rejection>().map(Rejection::code);
    let res = app
        .clone()
        .oneshot(
            Request::get("/api/orders")
                .header(header::AUTHORIZATION, authority.token().bearer())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(code(&res), None);
}

#[tokio::test]
async fn the_metadata_service_answers_only_its_path_and_get() {
    let authority = TestAuthority::es256();
    let metadata = layer(&authority, "https://api.example/api")
        .resource_metadata()
        .unwrap();
    let res = metadata
        .clone()
        .oneshot(Request::post(metadata.path()).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let res = metadata
        .clone()
        .oneshot(
            Request::get("/.well-known/oauth-protected-resource")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Without a ProtectedResource there is no document to serve.
    let plain = BearerLayer::new(authority.verifier());
    assert!(plain.resource_metadata().is_none());
}

#[cfg(feature = "dpop")]
#[tokio::test]
async fn with_dpop_the_document_lists_the_proof_algorithms() {
    use auth_core::dpop::{DpopVerifier, ExternalOrigin};
    use auth_tower::bearer::{Dpop, DpopMode};

    let authority = TestAuthority::es256();
    let dpop = Dpop::new(
        DpopVerifier::builder().build().unwrap(),
        ExternalOrigin::parse("https://api.example").unwrap(),
    )
    .mode(DpopMode::Required);
    let layer = BearerLayer::builder(authority.verifier())
        .dpop(dpop)
        .protected_resource(ProtectedResource::new("https://api.example/api").unwrap())
        .build()
        .unwrap();
    let metadata = layer.resource_metadata().unwrap();
    let doc: Value = serde_json::from_slice(metadata.document()).unwrap();
    assert_eq!(
        doc["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"])
    );
    assert_eq!(doc["dpop_bound_access_tokens_required"], true);
    let res = app(&layer)
        .oneshot(Request::get("/api/orders").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert_eq!(
        challenge,
        "DPoP realm=\"api\", algs=\"ES256 ES384 EdDSA RS256 PS256\", resource_metadata=\"https://api.example/.well-known/oauth-protected-resource/api\""
    );
}
