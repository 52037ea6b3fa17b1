//! `BearerLayer` as a plain tower middleware (no axum): readiness, the async key path,
//! responders and extensions.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, BoxFuture, JwtVerifier, KeyResolver, KeySet, VerificationKey};
use auth_core::{AuthError, ErrorCode, Principal};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use auth_tower::response::GrpcRejection;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tower_test::mock;

const SECRET: &[u8] = b"auth-tower tests secret, 32 bytes or more!";
const NOW: u64 = 1_800_000_000;

fn key() -> VerificationKey {
    VerificationKey::hmac(Algorithm::HS256, SECRET)
        .unwrap()
        .with_kid("k1")
}

fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(key())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap()
}

fn token(sub: &str) -> String {
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("k1".into());
    let claims = serde_json::json!({"sub": sub, "aud": "api", "exp": NOW + 60});
    jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET)).unwrap()
}

fn req(token: Option<&str>) -> Request<Full<Bytes>> {
    let mut b = Request::get("/x");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Full::default()).unwrap()
}

async fn echo_subject(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let sub = req
        .extensions()
        .get::<Principal>()
        .map_or_else(String::new, |p| p.subject().to_owned());
    Ok(Response::new(Full::from(sub)))
}

async fn body(res: Response<Full<Bytes>>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn poll_ready_is_forwarded_to_the_inner_service() {
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
        BearerLayer::new(verifier()),
    );
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = svc.call(req(Some(&token("alice"))));
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(
        request.extensions().get::<Principal>().unwrap().subject(),
        "alice"
    );
    send.send_response(Response::new(Full::default()));
    assert_eq!(fut.await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn rejected_requests_never_reach_the_inner_service() {
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
        BearerLayer::new(verifier()),
    );
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let res = svc.call(req(Some("not.a.jwt"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(matches!(handle.poll_request(), Poll::Pending));
}

#[tokio::test]
async fn rejection_is_attached_to_the_response_extensions() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .service(service_fn(echo_subject));
    let res = svc.oneshot(req(None)).await.unwrap();
    let rejection = res.extensions().get::<Rejection>().unwrap();
    assert_eq!(rejection.code(), ErrorCode::MissingCredentials);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let v: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"error": {"code": "MISSING_CREDENTIALS", "message": "authentication is required"}})
    );
}

#[tokio::test]
async fn grpc_requests_get_a_trailers_only_unauthenticated_status() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .service(service_fn(echo_subject));
    let mut r = req(Some("not.a.jwt"));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, "application/grpc".parse().unwrap());
    let res = svc.oneshot(r).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "16");
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/grpc");
    assert_eq!(body(res).await, "");
}

#[tokio::test]
async fn custom_responders_replace_the_body_but_keep_the_extension() {
    let layer = BearerLayer::new(verifier()).responder(|r: &Rejection| {
        let mut res = Response::new(Full::from(format!("nope: {}", r.code())));
        *res.status_mut() = StatusCode::IM_A_TEAPOT;
        res
    });
    let svc = ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(echo_subject));
    let res = svc.oneshot(req(None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert!(res.extensions().get::<Rejection>().is_some());
    assert_eq!(body(res).await, "nope: MISSING_CREDENTIALS");
}

#[tokio::test]
async fn grpc_responder_works_with_any_default_body() {
    let layer = BearerLayer::new(verifier()).responder(GrpcRejection);
    let svc = ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(|_r: Request<()>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.headers()["grpc-status"], "16");
}

/// A resolver that knows no key until it "fetches", counting fetches.
#[derive(Debug, Clone, Default)]
struct LazyKeys {
    fetches: Arc<AtomicUsize>,
}

impl KeyResolver for LazyKeys {
    fn current(&self) -> Option<Arc<KeySet>> {
        None
    }

    fn refresh(
        &self,
        _kid: Option<&str>,
        _alg: Algorithm,
    ) -> Option<BoxFuture<'static, Result<Arc<KeySet>, AuthError>>> {
        let fetches = Arc::clone(&self.fetches);
        Some(Box::pin(async move {
            fetches.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(Arc::new(KeySet::new(vec![key()]).unwrap()))
        }))
    }
}

#[tokio::test]
async fn keys_resolved_asynchronously_authenticate_through_the_ready_inner_service() {
    let resolver = LazyKeys::default();
    let verifier = JwtVerifier::builder()
        .key_resolver(resolver.clone())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap();
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
        BearerLayer::new(verifier),
    );
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = tokio::spawn(svc.call(req(Some(&token("bob")))));
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(
        request.extensions().get::<Principal>().unwrap().subject(),
        "bob"
    );
    send.send_response(Response::new(Full::default()));
    assert_eq!(fut.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(resolver.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn asynchronously_resolved_bad_tokens_are_rejected() {
    let verifier = JwtVerifier::builder()
        .key_resolver(LazyKeys::default())
        .audience("api")
        .clock(ManualClock::new(UnixTime::from_secs(NOW + 3600)))
        .build()
        .unwrap();
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier))
        .service(service_fn(echo_subject));
    let res = svc.oneshot(req(Some(&token("bob")))).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.extensions().get::<Rejection>().unwrap().code(),
        ErrorCode::TokenExpired
    );
}

#[tokio::test]
async fn authorization_header_is_marked_sensitive_before_the_inner_service() {
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(verifier()))
        .service(service_fn(|r: Request<Full<Bytes>>| async move {
            let sensitive = r.headers()[header::AUTHORIZATION].is_sensitive();
            Ok::<_, Infallible>(Response::new(Full::from(sensitive.to_string())))
        }));
    let res = svc.oneshot(req(Some(&token("alice")))).await.unwrap();
    assert_eq!(body(res).await, "true");
}

#[test]
fn builder_rejects_header_unsafe_realm_and_cookie_names() {
    assert!(
        BearerLayer::builder(verifier())
            .realm("a\"b")
            .build()
            .is_err()
    );
    assert!(BearerLayer::builder(verifier()).realm("").build().is_err());
    assert!(
        BearerLayer::builder(verifier())
            .cookie("a b")
            .build()
            .is_err()
    );
    assert!(
        BearerLayer::builder(verifier())
            .cookie("a;b")
            .build()
            .is_err()
    );
    assert!(
        BearerLayer::builder(verifier())
            .realm("my api")
            .cookie("access_token")
            .build()
            .is_ok()
    );
}
