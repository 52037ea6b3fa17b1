//! `ApiKeyLayer` as a plain tower middleware: outcomes and codes, format checks before any
//! lookup, expiry/rotation/revocation on a manual clock, gRPC, readiness, usage coalescing,
//! and composition with `BearerLayer` and `ScopeLayer`.
#![cfg(feature = "api-key")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::api_key::{
    ApiKeyHash, ApiKeyId, ApiKeyRecord, ApiKeyStore, ApiKeys, CreatedApiKey, MemoryApiKeyStore,
    NewApiKey, RotateOutcome, Rotation, StoreError,
};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::{AuthMethod, ErrorCode, Principal};
use auth_tower::Rejection;
use auth_tower::api_key::ApiKeyLayer;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tower_test::mock;

const NOW: u64 = 1_800_000_000;

/// A memory store that counts lookups and usage writes, and can be switched off.
#[derive(Debug, Default)]
struct Probe {
    inner: MemoryApiKeyStore,
    lookups: AtomicUsize,
    uses: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl ApiKeyStore for Probe {
    async fn create(&self, r: ApiKeyRecord) -> Result<(), StoreError> {
        self.inner.create(r).await
    }
    async fn find_by_hash(&self, h: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("connection refused".into()));
        }
        self.inner.find_by_hash(h).await
    }
    async fn list_by_owner(&self, o: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.inner.list_by_owner(o).await
    }
    async fn revoke(
        &self,
        id: &ApiKeyId,
        o: &str,
        at: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.inner.revoke(id, o, at).await
    }
    async fn rotate(
        &self,
        id: &ApiKeyId,
        o: &str,
        r: Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        self.inner.rotate(id, o, r).await
    }
    async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError> {
        self.uses.fetch_add(1, Ordering::SeqCst);
        self.inner.record_use(id, at).await
    }
}

struct Fixture {
    keys: ApiKeys,
    probe: Arc<Probe>,
    clock: ManualClock,
}

fn fixture() -> Fixture {
    let probe = Arc::new(Probe::default());
    let clock = ManualClock::new(UnixTime::from_secs(NOW));
    let keys = ApiKeys::builder_shared(probe.clone())
        .prefix("test_live")
        .clock(clock.clone())
        .build()
        .unwrap();
    Fixture { keys, probe, clock }
}

async fn create(keys: &ApiKeys, scopes: &[&str]) -> CreatedApiKey {
    keys.create(
        NewApiKey::new("alice", "ci")
            .scopes(scopes.iter().copied())
            .roles(["robot"]),
    )
    .await
    .unwrap()
}

fn req(key: Option<&str>) -> Request<Full<Bytes>> {
    let mut b = Request::get("/orders");
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    b.body(Full::default()).unwrap()
}

async fn echo(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let p = req.extensions().get::<Principal>();
    let body = p.map_or_else(String::new, |p| {
        let key_id = match p.auth_method() {
            AuthMethod::ApiKey { key_id } => key_id.clone(),
            other => other.to_string(),
        };
        format!("{} {} {}", p.subject(), p.scopes().join(","), key_id)
    });
    Ok(Response::new(Full::from(body)))
}

async fn send(layer: ApiKeyLayer, r: Request<Full<Bytes>>) -> Response<Full<Bytes>> {
    ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(echo))
        .oneshot(r)
        .await
        .unwrap()
}

async fn text(res: Response<Full<Bytes>>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

fn code(res: &Response<Full<Bytes>>) -> ErrorCode {
    res.extensions().get::<Rejection>().unwrap().code()
}

fn typo(key: &str) -> String {
    let mut k = key.to_owned();
    let i = k.len() - 10;
    let c = if &k[i..=i] == "Q" { "R" } else { "Q" };
    k.replace_range(i..=i, c);
    k
}

#[tokio::test]
async fn a_valid_key_yields_an_api_key_principal_for_the_owner() {
    let f = fixture();
    let c = create(&f.keys, &["read:orders", "write:orders"]).await;
    let res = send(ApiKeyLayer::new(f.keys), req(Some(c.key.expose_secret()))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        text(res).await,
        format!("alice read:orders,write:orders {}", c.record.id)
    );
}

#[tokio::test]
async fn no_key_is_401_missing_credentials_with_an_api_key_challenge() {
    let f = fixture();
    let res = send(ApiKeyLayer::new(f.keys), req(None)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), ErrorCode::MissingCredentials);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "ApiKey realm=\"api\""
    );
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["error"]["code"], "MISSING_CREDENTIALS");
}

#[tokio::test]
async fn typos_and_garbage_are_invalid_without_any_store_lookup() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    let layer = ApiKeyLayer::new(f.keys.clone());
    for bad in [
        typo(c.key.expose_secret()),
        String::new(),
        "hello".to_owned(),
        c.key.expose_secret().replace("test_live", "prod_live"),
        c.key.expose_secret()[..c.key.expose_secret().len() - 1].to_owned(),
    ] {
        let res = send(layer.clone(), req(Some(&bad))).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(code(&res), ErrorCode::InvalidApiKey, "{bad}");
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            "ApiKey realm=\"api\", error=\"invalid_token\", error_description=\"the api key is invalid\""
        );
        let body = text(res).await;
        assert!(bad.is_empty() || !body.contains(&bad), "key echoed");
    }
    assert_eq!(f.probe.lookups.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_well_formed_unknown_key_is_invalid_after_one_lookup() {
    let f = fixture();
    let stranger = f.keys.prefix().generate().unwrap();
    let res = send(
        ApiKeyLayer::new(f.keys),
        req(Some(stranger.expose_secret())),
    )
    .await;
    assert_eq!(code(&res), ErrorCode::InvalidApiKey);
    assert_eq!(f.probe.lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn expired_keys_are_rejected_on_the_manual_clock() {
    let f = fixture();
    let c = f
        .keys
        .create(NewApiKey::new("alice", "ci").expires_in(Duration::from_secs(3600)))
        .await
        .unwrap();
    let layer = ApiKeyLayer::new(f.keys.clone());
    f.clock.advance(Duration::from_secs(3599));
    let res = send(layer.clone(), req(Some(c.key.expose_secret()))).await;
    assert_eq!(res.status(), StatusCode::OK);
    f.clock.advance(Duration::from_secs(1));
    let res = send(layer, req(Some(c.key.expose_secret()))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), ErrorCode::ApiKeyExpired);
    assert!(
        res.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("the api key has expired")
    );
}

#[tokio::test]
async fn revoked_keys_are_rejected_as_revoked() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    f.keys.revoke(&c.record.id, "alice").await.unwrap();
    let res = send(ApiKeyLayer::new(f.keys), req(Some(c.key.expose_secret()))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), ErrorCode::ApiKeyRevoked);
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["error"]["code"], "API_KEY_REVOKED");
}

#[tokio::test]
async fn a_rotated_key_works_through_the_grace_period_then_expires() {
    let f = fixture();
    let old = create(&f.keys, &["read:orders"]).await;
    let new = f
        .keys
        .rotate(&old.record.id, "alice", Duration::from_secs(600))
        .await
        .unwrap();
    let layer = ApiKeyLayer::new(f.keys.clone());
    f.clock.advance(Duration::from_secs(599));
    for k in [&old.key, &new.key] {
        let res = send(layer.clone(), req(Some(k.expose_secret()))).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    f.clock.advance(Duration::from_secs(1));
    let res = send(layer.clone(), req(Some(old.key.expose_secret()))).await;
    assert_eq!(code(&res), ErrorCode::ApiKeyExpired);
    let res = send(layer, req(Some(new.key.expose_secret()))).await;
    assert_eq!(
        text(res).await,
        format!("alice read:orders {}", new.record.id)
    );
}

#[tokio::test]
async fn grpc_callers_get_status_16_for_every_api_key_failure() {
    let f = fixture();
    let c = f
        .keys
        .create(NewApiKey::new("alice", "ci").expires_in(Duration::from_secs(1)))
        .await
        .unwrap();
    let r = create(&f.keys, &[]).await;
    f.keys.revoke(&r.record.id, "alice").await.unwrap();
    f.clock.advance(Duration::from_secs(1));
    let layer = ApiKeyLayer::new(f.keys);
    for (key, expected) in [
        (None, ErrorCode::MissingCredentials),
        (Some("nope".to_owned()), ErrorCode::InvalidApiKey),
        (
            Some(c.key.expose_secret().to_owned()),
            ErrorCode::ApiKeyExpired,
        ),
        (
            Some(r.key.expose_secret().to_owned()),
            ErrorCode::ApiKeyRevoked,
        ),
    ] {
        let mut rq = req(key.as_deref());
        rq.headers_mut()
            .insert(header::CONTENT_TYPE, "application/grpc".parse().unwrap());
        let res = send(layer.clone(), rq).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["grpc-status"], "16", "{expected}");
        assert_eq!(code(&res), expected);
        assert_eq!(text(res).await, "");
    }
}

#[tokio::test]
async fn a_store_outage_is_503_without_a_challenge() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    f.probe.down.store(true, Ordering::SeqCst);
    let res = send(ApiKeyLayer::new(f.keys), req(Some(c.key.expose_secret()))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&res), ErrorCode::AuthBackendUnavailable);
    assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn keys_in_the_query_string_are_refused_unless_dangerously_allowed() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    let uri = format!("/orders?api_key={}", c.key.expose_secret());
    let get = || Request::get(&uri).body(Full::<Bytes>::default()).unwrap();
    let res = send(ApiKeyLayer::new(f.keys.clone()), get()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(&res), ErrorCode::InvalidRequest);
    assert!(!text(res).await.contains(c.key.expose_secret()));
    assert_eq!(f.probe.lookups.load(Ordering::SeqCst), 0);

    let allowing = ApiKeyLayer::builder(f.keys)
        .dangerous_allow_query_param("api_key")
        .build()
        .unwrap();
    assert_eq!(send(allowing, get()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn two_key_headers_are_an_invalid_request() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    let r = Request::get("/")
        .header("x-api-key", c.key.expose_secret())
        .header("x-api-key", c.key.expose_secret())
        .body(Full::default())
        .unwrap();
    let res = send(ApiKeyLayer::new(f.keys), r).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(&res), ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn the_header_name_and_realm_are_configurable() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    let layer = ApiKeyLayer::builder(f.keys)
        .header("X-Service-Token")
        .realm("billing")
        .build()
        .unwrap();
    let r = Request::get("/")
        .header("x-service-token", c.key.expose_secret())
        .body(Full::default())
        .unwrap();
    assert_eq!(send(layer.clone(), r).await.status(), StatusCode::OK);
    // The default header is not read any more.
    let res = send(layer, req(Some(c.key.expose_secret()))).await;
    assert_eq!(code(&res), ErrorCode::MissingCredentials);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "ApiKey realm=\"billing\""
    );
}

#[tokio::test]
async fn the_key_header_reaches_the_inner_service_marked_sensitive() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    let svc = ServiceBuilder::new()
        .layer(ApiKeyLayer::new(f.keys))
        .service(service_fn(|r: Request<Full<Bytes>>| async move {
            let sensitive = r.headers()["x-api-key"].is_sensitive();
            Ok::<_, Infallible>(Response::new(Full::from(sensitive.to_string())))
        }));
    let res = svc.oneshot(req(Some(c.key.expose_secret()))).await.unwrap();
    assert_eq!(text(res).await, "true");
}

#[tokio::test]
async fn optional_mode_lets_anonymous_requests_through_with_a_marker() {
    let f = fixture();
    let layer = ApiKeyLayer::builder(f.keys.clone())
        .optional()
        .build()
        .unwrap();
    let svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(service_fn(|r: Request<Full<Bytes>>| async move {
            let marker = r.extensions().get::<Rejection>().unwrap();
            let challenges: Vec<String> = marker
                .challenges()
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            Ok::<_, Infallible>(Response::new(Full::from(challenges.join("|"))))
        }));
    let res = svc.oneshot(req(None)).await.unwrap();
    assert_eq!(text(res).await, "ApiKey realm=\"api\"");
    // A present but bad key is still rejected.
    let res = send(layer, req(Some("bad"))).await;
    assert_eq!(code(&res), ErrorCode::InvalidApiKey);
}

#[tokio::test]
async fn a_principal_from_an_earlier_layer_passes_untouched_without_a_key() {
    let f = fixture();
    let svc = ServiceBuilder::new()
        .map_request(|mut r: Request<Full<Bytes>>| {
            r.extensions_mut()
                .insert(Principal::insecure_for_tests("bob", &[], &["read:orders"]));
            r
        })
        .layer(ApiKeyLayer::new(f.keys.clone()))
        .service(service_fn(echo));
    let res = svc.clone().oneshot(req(None)).await.unwrap();
    assert_eq!(text(res).await, "bob read:orders bearer");
    // With a key as well: ambiguous, refused.
    let c = create(&f.keys, &[]).await;
    let res = svc.oneshot(req(Some(c.key.expose_secret()))).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(&res), ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn poll_ready_is_forwarded_and_the_ready_inner_service_serves_the_lookup() {
    let f = fixture();
    let c = create(&f.keys, &["read:orders"]).await;
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
        ApiKeyLayer::new(f.keys),
    );
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    // The store lookup is asynchronous: the ready inner service moves into the future.
    let fut = svc.call(req(Some(c.key.expose_secret())));
    // The service kept a fresh clone that must be polled ready again.
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = tokio::spawn(fut);
    let (request, send) = handle.next_request().await.unwrap();
    let p = request.extensions().get::<Principal>().unwrap();
    assert_eq!(p.subject(), "alice");
    assert!(p.has_scope("read:orders"));
    send.send_response(Response::new(Full::default()));
    assert_eq!(fut.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn rejected_requests_never_reach_the_inner_service() {
    let f = fixture();
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
        ApiKeyLayer::new(f.keys.clone()),
    );
    handle.allow(2);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let res = svc.call(req(Some("garbage"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let stranger = f.keys.prefix().generate().unwrap();
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let res = svc.call(req(Some(stranger.expose_secret()))).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(matches!(handle.poll_request(), Poll::Pending));
}

#[tokio::test]
async fn usage_writes_go_to_the_spawner_once_per_interval() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    let spawned = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&spawned);
    let layer = ApiKeyLayer::builder(f.keys.clone())
        .spawner(move |write| {
            counter.fetch_add(1, Ordering::SeqCst);
            // Run it to completion right here; a real spawner hands it to a runtime.
            drop(tokio::spawn(write));
        })
        .build()
        .unwrap();
    for _ in 0..50 {
        let res = send(layer.clone(), req(Some(c.key.expose_secret()))).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(spawned.load(Ordering::SeqCst), 1);
    f.clock.advance(Duration::from_secs(60));
    send(layer, req(Some(c.key.expose_secret()))).await;
    assert_eq!(spawned.load(Ordering::SeqCst), 2);
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn the_default_spawner_records_last_use_off_the_request_path() {
    let f = fixture();
    let c = create(&f.keys, &[]).await;
    let layer = ApiKeyLayer::new(f.keys.clone());
    for _ in 0..20 {
        send(layer.clone(), req(Some(c.key.expose_secret()))).await;
    }
    // On a current-thread runtime the spawned write has not run yet: no request waited on it.
    assert_eq!(f.probe.uses.load(Ordering::SeqCst), 0);
    tokio::task::yield_now().await;
    assert_eq!(f.probe.uses.load(Ordering::SeqCst), 1);
    let listed = f.keys.list("alice").await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(UnixTime::from_secs(NOW)));
}

#[cfg(all(feature = "bearer", feature = "scope"))]
mod compose {
    use super::*;
    use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
    use auth_core::scope::Requirement;
    use auth_tower::bearer::BearerLayer;
    use auth_tower::scope::ScopeLayer;

    const SECRET: &[u8] = b"auth-tower api key tests secret, 32 bytes+";

    fn verifier() -> JwtVerifier {
        JwtVerifier::builder()
            .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
            .audience("api")
            .clock(ManualClock::new(UnixTime::from_secs(NOW)))
            .build()
            .unwrap()
    }

    fn token(scope: &str) -> String {
        let claims =
            serde_json::json!({"sub": "tom", "aud": "api", "exp": NOW + 60, "scope": scope});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    fn either(
        keys: ApiKeys,
        api_key_optional: bool,
    ) -> impl tower::Service<
        Request<Full<Bytes>>,
        Response = Response<Full<Bytes>>,
        Error = Infallible,
    > + Clone {
        let api = ApiKeyLayer::builder(keys).realm("shop");
        let api = if api_key_optional {
            api.optional()
        } else {
            api
        };
        ServiceBuilder::new()
            .layer(
                BearerLayer::builder(verifier())
                    .realm("shop")
                    .optional()
                    .build()
                    .unwrap(),
            )
            .layer(api.build().unwrap())
            .layer(
                ScopeLayer::new(Requirement::scope("read:orders"))
                    .realm("shop")
                    .unwrap(),
            )
            .service(service_fn(echo))
    }

    fn with(bearer: Option<&str>, key: Option<&str>) -> Request<Full<Bytes>> {
        let mut r = req(key);
        if let Some(t) = bearer {
            r.headers_mut().insert(
                header::AUTHORIZATION,
                format!("Bearer {t}").parse().unwrap(),
            );
        }
        r
    }

    fn challenges(res: &Response<Full<Bytes>>) -> Vec<&str> {
        res.headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn an_anonymous_request_is_challenged_for_both_schemes() {
        for api_key_optional in [true, false] {
            let f = fixture();
            let res = either(f.keys, api_key_optional)
                .oneshot(with(None, None))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(code(&res), ErrorCode::MissingCredentials);
            assert_eq!(
                challenges(&res),
                ["Bearer realm=\"shop\"", "ApiKey realm=\"shop\""]
            );
        }
    }

    #[tokio::test]
    async fn either_method_satisfies_the_scope() {
        let f = fixture();
        let c = create(&f.keys, &["read:orders"]).await;
        let svc = either(f.keys, true);
        let res = svc
            .clone()
            .oneshot(with(Some(&token("read:orders")), None))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, "tom read:orders bearer");
        let res = svc
            .oneshot(with(None, Some(c.key.expose_secret())))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(text(res).await.starts_with("alice read:orders "));
    }

    #[tokio::test]
    async fn the_scope_is_required_whichever_method_authenticated() {
        let f = fixture();
        let c = create(&f.keys, &["write:orders"]).await;
        let svc = either(f.keys, true);
        let res = svc
            .clone()
            .oneshot(with(Some(&token("write:orders")), None))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(challenges(&res)[0].starts_with("Bearer "));
        let res = svc
            .oneshot(with(None, Some(c.key.expose_secret())))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(code(&res), ErrorCode::InsufficientScope);
        assert!(challenges(&res)[0].starts_with("ApiKey "));
    }

    #[tokio::test]
    async fn both_credentials_at_once_are_refused() {
        let f = fixture();
        let c = create(&f.keys, &["read:orders"]).await;
        let res = either(f.keys, true)
            .oneshot(with(
                Some(&token("read:orders")),
                Some(c.key.expose_secret()),
            ))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(code(&res), ErrorCode::InvalidRequest);
    }

    #[tokio::test]
    async fn a_bad_api_key_is_rejected_even_though_bearer_was_optional() {
        let f = fixture();
        let res = either(f.keys, true)
            .oneshot(with(None, Some("test_live_nope")))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(code(&res), ErrorCode::InvalidApiKey);
        // Only the scheme that failed carries an error attribute.
        assert_eq!(challenges(&res).len(), 1);
        assert!(challenges(&res)[0].starts_with("ApiKey realm=\"shop\", error="));
    }

    #[tokio::test]
    async fn grpc_composition_answers_16_then_7() {
        let f = fixture();
        let c = create(&f.keys, &["write:orders"]).await;
        let svc = either(f.keys, true);
        for (key, status) in [(None, "16"), (Some(c.key.expose_secret()), "7")] {
            let mut r = with(None, key);
            r.headers_mut()
                .insert(header::CONTENT_TYPE, "application/grpc".parse().unwrap());
            let res = svc.clone().oneshot(r).await.unwrap();
            assert_eq!(res.headers()["grpc-status"], status);
        }
    }
}
