//! `ApiKeyLayer` with keys imported from another system (issue 18): an imported key in its own
//! format authenticates through the layer when the `ApiKeys` accepts imported keys, and is a
//! plain `INVALID_API_KEY` when it does not.
#![cfg(feature = "api-key")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use auth_core::api_key::{ApiKeys, ImportedKey, MemoryApiKeyStore, NewApiKey};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::{ErrorCode, Principal};
use auth_tower::Rejection;
use auth_tower::api_key::ApiKeyLayer;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::{ServiceBuilder, ServiceExt, service_fn};

const LEGACY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

fn keys(store: MemoryApiKeyStore, imports: bool) -> ApiKeys {
    let b = ApiKeys::builder(store)
        .prefix("acme_live")
        .clock(ManualClock::new(UnixTime::from_secs(1_800_000_000)));
    if imports { b.accept_imported_keys() } else { b }
        .build()
        .unwrap()
}

async fn call(keys: ApiKeys, key: &str) -> Response<Full<Bytes>> {
    ServiceBuilder::new()
        .layer(ApiKeyLayer::new(keys))
        .service(service_fn(|req: Request<Full<Bytes>>| async move {
            let p = req.extensions().get::<Principal>().unwrap();
            let body = format!("{} {}", p.subject(), p.scopes().join(","));
            Ok::<_, Infallible>(Response::new(Full::from(body)))
        }))
        .oneshot(
            Request::get("/orders")
                .header("x-api-key", key)
                .body(Full::default())
                .unwrap(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn an_imported_key_authenticates_through_the_layer() {
    let store = MemoryApiKeyStore::new();
    let importer = keys(store.clone(), true);
    importer
        .import(ImportedKey::from_plaintext(
            LEGACY,
            NewApiKey::new("alice", "legacy").scopes(["read:orders"]),
        ))
        .await
        .unwrap();

    let res = call(keys(store.clone(), true), LEGACY).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"alice read:orders");

    // The same store, read by an `ApiKeys` that does not accept imported keys.
    let res = call(keys(store, false), LEGACY).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.extensions().get::<Rejection>().unwrap().code(),
        ErrorCode::InvalidApiKey
    );
}
