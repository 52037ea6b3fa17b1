//! `BearerLayer` and `ApiKeyLayer` on one route: a request presenting both credentials gets the
//! same 400 whatever the order of the layers and whether the checks answer at once or must be
//! awaited, and no layer replaces a principal an earlier one set.
#![cfg(all(feature = "bearer", feature = "api-key"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use auth_core::api_key::{
    ApiKeyHash, ApiKeyId, ApiKeyRecord, ApiKeyStore, ApiKeys, MemoryApiKeyStore, NewApiKey,
    RotateOutcome, Rotation, StoreError,
};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::{AuthError, ErrorCode, InvalidRequest, Principal};
use auth_tower::Rejection;
use auth_tower::api_key::ApiKeyLayer;
use auth_tower::bearer::{BearerLayer, BearerLayerBuilder};
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tower::util::BoxCloneService;
use tower::{ServiceBuilder, ServiceExt, service_fn};

const NOW: u64 = 1_800_000_000;
const SECRET: &[u8] = b"auth-tower compose tests secret, 32 bytes+";
const BOTH: &str = "more than one credential was presented";

type Svc = BoxCloneService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>;

fn clock() -> ManualClock {
    ManualClock::new(UnixTime::from_secs(NOW))
}

fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .audience("api")
        .clock(clock())
        .build()
        .unwrap()
}

fn token(sub: &str) -> String {
    let claims = serde_json::json!({"sub": sub, "aud": "api", "exp": NOW + 60, "iat": NOW - 1});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

/// A memory store that must be awaited (like a network store): no `find_by_hash_now`.
#[derive(Debug, Default)]
struct RemoteKeys(MemoryApiKeyStore);

#[async_trait]
impl ApiKeyStore for RemoteKeys {
    async fn create(&self, r: ApiKeyRecord) -> Result<(), StoreError> {
        self.0.create(r).await
    }
    async fn find_by_hash(&self, h: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        tokio::task::yield_now().await;
        self.0.find_by_hash(h).await
    }
    async fn list_by_owner(&self, o: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.0.list_by_owner(o).await
    }
    async fn revoke(
        &self,
        id: &ApiKeyId,
        o: &str,
        at: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.0.revoke(id, o, at).await
    }
    async fn rotate(
        &self,
        id: &ApiKeyId,
        o: &str,
        r: Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        self.0.rotate(id, o, r).await
    }
    async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError> {
        self.0.record_use(id, at).await
    }
}

/// Whether the checks answer at once or must be awaited.
#[derive(Clone, Copy, Debug)]
enum Store {
    /// In-memory stores: the layers take their synchronous paths.
    Sync,
    /// Stores that must be awaited: the layers' futures finish the checks.
    Async,
}

/// Which layer is outermost.
#[derive(Clone, Copy, Debug)]
enum Order {
    BearerFirst,
    ApiKeyFirst,
}

const CASES: [(Order, Store); 4] = [
    (Order::BearerFirst, Store::Sync),
    (Order::ApiKeyFirst, Store::Sync),
    (Order::BearerFirst, Store::Async),
    (Order::ApiKeyFirst, Store::Async),
];

fn bearer_builder(store: Store) -> BearerLayerBuilder {
    let b = BearerLayer::builder(verifier()).optional();
    match store {
        #[cfg(feature = "revocation")]
        Store::Async => b.revocation(Arc::new(common::AwaitedRevocations::default())),
        _ => b,
    }
}

struct Route {
    svc: Svc,
    key: String,
    calls: Arc<AtomicUsize>,
}

/// `BearerLayer` (optional, reading the `access_token` cookie too) and `ApiKeyLayer`
/// (optional) in `order`, in front of a handler that answers with the principal's subject.
async fn route(order: Order, store: Store) -> Route {
    let keys = match store {
        Store::Sync => ApiKeys::builder(MemoryApiKeyStore::new()),
        Store::Async => ApiKeys::builder(RemoteKeys::default()),
    }
    .prefix("test_live")
    .clock(clock())
    .build()
    .unwrap();
    let key = keys
        .create(NewApiKey::new("alice", "ci"))
        .await
        .unwrap()
        .key
        .expose_secret()
        .to_owned();
    let bearer = bearer_builder(store)
        .cookie("access_token")
        .build()
        .unwrap();
    let api_key = ApiKeyLayer::builder(keys).optional().build().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let handler = service_fn(move |req: Request<Full<Bytes>>| {
        counter.fetch_add(1, Ordering::SeqCst);
        let who = req
            .extensions()
            .get::<Principal>()
            .map_or_else(String::new, |p| p.subject().to_owned());
        async move { Ok::<_, Infallible>(Response::new(Full::from(who))) }
    });
    let svc = match order {
        Order::BearerFirst => BoxCloneService::new(
            ServiceBuilder::new()
                .layer(bearer)
                .layer(api_key)
                .service(handler),
        ),
        Order::ApiKeyFirst => BoxCloneService::new(
            ServiceBuilder::new()
                .layer(api_key)
                .layer(bearer)
                .service(handler),
        ),
    };
    Route { svc, key, calls }
}

fn request(bearer: Option<&str>, cookie: Option<&str>, key: Option<&str>) -> Request<Full<Bytes>> {
    let mut b = Request::get("/orders");
    if let Some(t) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(t) = cookie {
        b = b.header(header::COOKIE, format!("theme=dark; access_token={t}"));
    }
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    b.body(Full::default()).unwrap()
}

async fn body(res: Response<Full<Bytes>>) -> Vec<u8> {
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// Asserts the one answer to two credentials: 400 `INVALID_REQUEST` saying so, in the body
/// and both challenges, and the handler not called.
async fn assert_refused_as_two_credentials(route: &Route, req: Request<Full<Bytes>>, case: &str) {
    let res = route.svc.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{case}");
    let rejection = res.extensions().get::<Rejection>().unwrap().clone();
    assert_eq!(rejection.code(), ErrorCode::InvalidRequest, "{case}");
    assert_eq!(
        rejection.error(),
        &AuthError::InvalidRequest(InvalidRequest::ConflictingCredentials),
        "{case}"
    );
    let challenges: Vec<_> = res
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let attrs = format!("realm=\"api\", error=\"invalid_request\", error_description=\"{BOTH}\"");
    assert_eq!(
        challenges,
        [format!("Bearer {attrs}"), format!("ApiKey {attrs}")],
        "{case}"
    );
    let json: serde_json::Value = serde_json::from_slice(&body(res).await).unwrap();
    assert_eq!(json["error"]["code"], "INVALID_REQUEST", "{case}");
    assert_eq!(json["error"]["message"], BOTH, "{case}");
    assert_eq!(route.calls.load(Ordering::SeqCst), 0, "{case}");
}

// Issue 12, item 17: with the ApiKeyLayer first, the BearerLayer used to replace the API key's
// principal with the token's subject (200 as "tom"); with the BearerLayer first, the answer was
// a 400 "the credentials are malformed". Now both orders answer the same 400.
#[tokio::test]
async fn a_bearer_token_and_an_api_key_are_refused_alike_in_either_order() {
    for (order, store) in CASES {
        let route = route(order, store).await;
        let req = request(Some(&token("tom")), None, Some(&route.key));
        assert_refused_as_two_credentials(&route, req, &format!("{order:?} {store:?}")).await;
    }
}

// Issue 12, item 17: a bearer token from the access cookie is a credential too.
#[tokio::test]
async fn an_access_cookie_and_an_api_key_are_refused_alike_in_either_order() {
    for (order, store) in CASES {
        let route = route(order, store).await;
        let req = request(None, Some(&token("tom")), Some(&route.key));
        assert_refused_as_two_credentials(&route, req, &format!("{order:?} {store:?}")).await;
    }
}

#[tokio::test]
async fn one_credential_of_either_kind_authenticates_in_either_order() {
    for (order, store) in CASES {
        let case = format!("{order:?} {store:?}");
        let route = route(order, store).await;
        for (req, who) in [
            (request(Some(&token("tom")), None, None), "tom"),
            (request(None, Some(&token("tom")), None), "tom"),
            (request(None, None, Some(&route.key)), "alice"),
            (request(None, None, None), ""),
        ] {
            let res = route.svc.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{case}");
            assert_eq!(body(res).await, who.as_bytes(), "{case}");
        }
    }
}

/// A route whose first layer is a stand-in authentication layer that sets principal "bob".
fn behind_a_principal(bearer: BearerLayer) -> Svc {
    BoxCloneService::new(
        ServiceBuilder::new()
            .map_request(|mut r: Request<Full<Bytes>>| {
                r.extensions_mut()
                    .insert(Principal::insecure_for_tests("bob", &[], &[]));
                r
            })
            .layer(bearer)
            .service(service_fn(|req: Request<Full<Bytes>>| async move {
                let who = req.extensions().get::<Principal>().unwrap().subject();
                Ok::<_, Infallible>(Response::new(Full::from(who.to_owned())))
            })),
    )
}

// Issue 12, item 17: BearerLayer used to replace the principal an earlier layer had set.
#[tokio::test]
async fn bearer_layer_never_replaces_a_principal_an_earlier_layer_set() {
    for store in [Store::Sync, Store::Async] {
        for optional in [true, false] {
            let case = format!("{store:?} optional={optional}");
            let mut b = bearer_builder(store);
            if !optional {
                b = BearerLayer::builder(verifier());
            }
            let svc = behind_a_principal(b.build().unwrap());
            let res = svc
                .clone()
                .oneshot(request(Some(&token("tom")), None, None))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{case}");
            assert_eq!(
                res.extensions().get::<Rejection>().unwrap().message(),
                BOTH,
                "{case}"
            );
            // Without a token of its own the layer lets the authenticated request through.
            let res = svc.oneshot(request(None, None, None)).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{case}");
            assert_eq!(body(res).await, b"bob", "{case}");
        }
    }
}
