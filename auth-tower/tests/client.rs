//! `AccessTokenLayer`: tokens on outgoing requests, never a request without one, one renewal
//! and at most one retry per request on a downstream `401`, streaming bodies never re-sent, and
//! readiness. The authorization server is a fake `HttpClient`; the downstream is a tower
//! service that counts what reaches it.
#![cfg(feature = "client")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use auth_core::clock::ManualClock;
use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
use auth_core::jwt::BoxFuture;
use auth_core::oauth_client::{ClientAuth, RenewOn, TokenManager};
use auth_tower::client::{AccessTokenLayer, OutboundError};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Body, Frame};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Empty, Full};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::mock;

/// A fake authorization server issuing `token-<n>`; or failing, when told to.
#[derive(Debug, Default)]
struct AuthServer {
    requests: AtomicUsize,
    refuse: std::sync::atomic::AtomicBool,
}

impl AuthServer {
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl HttpClient for AuthServer {
    fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        Box::pin(async { Ok(HttpResponse::new(404, "")) })
    }
    fn send(&self, _: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let refuse = self.refuse.load(Ordering::SeqCst);
        Box::pin(async move {
            if refuse {
                return Ok(HttpResponse::new(401, r#"{"error":"invalid_client"}"#));
            }
            Ok(HttpResponse::new(
                200,
                format!(r#"{{"access_token":"token-{n}","token_type":"Bearer","expires_in":600}}"#),
            ))
        })
    }
}

fn tokens(server: &Arc<AuthServer>) -> TokenManager {
    TokenManager::builder(ClientAuth::client_secret_basic("reports", "s3cr3t").unwrap())
        .token_endpoint("https://auth.example/token")
        .http_client(Arc::clone(server))
        .clock(ManualClock::starting_now())
        .build()
        .unwrap()
}

/// What the downstream API saw: per call, the `Authorization` header, the `x-id` header and
/// the body length.
#[derive(Debug, Default)]
struct Seen {
    calls: Mutex<Vec<Call>>,
}

/// `Authorization`, `x-id`, body length.
type Call = (Option<String>, Option<String>, usize);

/// The downstream's answer (status, `WWW-Authenticate`) to an `Authorization` value.
type Answer = dyn Fn(Option<&str>) -> (StatusCode, Option<&'static str>) + Send + Sync;

impl Seen {
    fn calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
    fn per_id(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for (_, id, _) in self.calls.lock().unwrap().iter() {
            *m.entry(id.clone().unwrap_or_default()).or_insert(0) += 1;
        }
        m
    }
}

/// The downstream API: answers `status_for(authorization)` with a `Bearer` challenge, after
/// reading the whole body; first attempts with `hold_for` wait at `barrier`.
#[derive(Clone)]
struct Downstream {
    seen: Arc<Seen>,
    answer: Arc<Answer>,
    barrier: Option<(Arc<tokio::sync::Barrier>, &'static str)>,
}

impl Downstream {
    fn new(
        answer: impl Fn(Option<&str>) -> (StatusCode, Option<&'static str>) + Send + Sync + 'static,
    ) -> Self {
        Self {
            seen: Arc::default(),
            answer: Arc::new(answer),
            barrier: None,
        }
    }
}

/// Accepts every token except `token-1` (revoked: 401 `invalid_token`).
fn revoked_first() -> Downstream {
    Downstream::new(|auth| match auth {
        Some("Bearer token-1") => (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer error="invalid_token""#),
        ),
        Some(_) => (StatusCode::OK, None),
        None => (StatusCode::UNAUTHORIZED, Some("Bearer")),
    })
}

impl<B> Service<Request<B>> for Downstream
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Debug,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        let header = |n: &str| req.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
        let (auth, id) = (header("authorization"), header("x-id"));
        Box::pin(async move {
            if let Some((barrier, token)) = &this.barrier
                && auth.as_deref() == Some(*token)
            {
                barrier.wait().await;
            }
            let len = req.into_body().collect().await.unwrap().to_bytes().len();
            this.seen
                .calls
                .lock()
                .unwrap()
                .push((auth.clone(), id, len));
            let (status, challenge) = (this.answer)(auth.as_deref());
            let mut res = Response::new(Full::from("answer"));
            *res.status_mut() = status;
            if let Some(c) = challenge {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
            }
            Ok(res)
        })
    }
}

fn get(id: &str) -> Request<Empty<Bytes>> {
    Request::get("https://orders.example/orders")
        .header("x-id", id)
        .body(Empty::new())
        .unwrap()
}

/// A manager whose token is already cached (so the mock sees requests without the response
/// future having to be polled for a token first).
async fn warm(server: &Arc<AuthServer>) -> TokenManager {
    let tokens = tokens(server);
    tokens.access_token().await.unwrap();
    tokens
}

#[tokio::test]
async fn every_request_carries_the_bearer_token_marked_sensitive() {
    let server = Arc::new(AuthServer::default());
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Empty<Bytes>>, Response<Empty<Bytes>>, _>(
        AccessTokenLayer::new(warm(&server).await),
    );
    handle.allow(2);
    for _ in 0..2 {
        assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
        let mut req = get("a");
        req.headers_mut()
            .insert(header::AUTHORIZATION, HeaderValue::from_static("Basic old"));
        let fut = svc.call(req);
        let (seen, send) = handle.next_request().await.unwrap();
        let auth = &seen.headers()[header::AUTHORIZATION];
        assert_eq!(auth, "Bearer token-1", "replaces any Authorization header");
        assert!(auth.is_sensitive());
        assert_eq!(
            seen.headers().get_all(header::AUTHORIZATION).iter().count(),
            1
        );
        send.send_response(Response::new(Empty::new()));
        assert_eq!(fut.await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn poll_ready_is_forwarded_to_the_inner_service() {
    let server = Arc::new(AuthServer::default());
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Empty<Bytes>>, Response<Empty<Bytes>>, _>(
        AccessTokenLayer::new(warm(&server).await),
    );
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = svc.call(get("a"));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(Response::new(Empty::new()));
    assert!(fut.await.is_ok());
}

// Issue 13: never sends a downstream request without credentials.
#[tokio::test]
async fn when_no_token_can_be_had_nothing_is_sent_and_the_caller_gets_the_typed_error() {
    let server = Arc::new(AuthServer::default());
    server.refuse.store(true, Ordering::SeqCst);
    let down = revoked_first();
    let client = AccessTokenLayer::new(tokens(&server)).layer(down.clone());
    for _ in 0..5 {
        let err = client.clone().oneshot(get("a")).await.unwrap_err();
        let OutboundError::Token(e) = &err else {
            panic!("{err}")
        };
        assert_eq!(e.class(), "invalid_client");
        assert!(!err.to_string().contains("s3cr3t"));
    }
    assert_eq!(down.seen.calls(), 0, "the downstream received nothing");
    assert_eq!(server.requests(), 1, "then the cooldown answered");
}

// Issue 13: 100 concurrent downstream 401s for one token cause one renewal, and each request
// is retried at most once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_401s_for_one_token_cause_one_renewal_and_one_retry_each() {
    let server = Arc::new(AuthServer::default());
    let mut down = revoked_first();
    down.barrier = Some((Arc::new(tokio::sync::Barrier::new(100)), "Bearer token-1"));
    let client = ServiceBuilder::new()
        .layer(AccessTokenLayer::new(tokens(&server)))
        .service(down.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let c = client.clone();
        tasks.spawn(async move { c.oneshot(get(&i.to_string())).await });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap().unwrap().status(), StatusCode::OK);
    }
    // The first token, then exactly one renewal.
    assert_eq!(server.requests(), 2, "token requests: 1 + renewals");
    let per_id = down.seen.per_id();
    assert_eq!(per_id.len(), 100);
    assert!(
        per_id.values().all(|&n| n == 2),
        "each request: one 401, one retry"
    );
    eprintln!(
        "100 concurrent 401s: {} token requests (1 initial + {} renewal), {} downstream calls",
        server.requests(),
        server.requests() - 1,
        down.seen.calls()
    );
}

#[tokio::test]
async fn a_request_waiting_for_the_first_token_is_sent_once_it_arrives() {
    let server = Arc::new(AuthServer::default());
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Empty<Bytes>>, Response<Empty<Bytes>>, _>(
        AccessTokenLayer::new(tokens(&server)),
    );
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = tokio::spawn(svc.call(get("a")));
    let (seen, send) = handle.next_request().await.unwrap();
    assert_eq!(seen.headers()[header::AUTHORIZATION], "Bearer token-1");
    send.send_response(Response::new(Empty::new()));
    assert_eq!(fut.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_second_401_is_returned_as_is() {
    let server = Arc::new(AuthServer::default());
    let down = Downstream::new(|_| {
        (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer error="invalid_token""#),
        )
    });
    let client = AccessTokenLayer::new(tokens(&server)).layer(down.clone());
    let res = client.clone().oneshot(get("a")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(down.seen.calls(), 2);
    assert_eq!(server.requests(), 2);
    // Rejected again right after a renewal: no further renewal within the cooldown.
    let res = client.oneshot(get("b")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(down.seen.calls(), 3);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_403_or_a_401_for_another_reason_is_returned_as_is_without_renewal() {
    for (status, challenge) in [
        (
            StatusCode::FORBIDDEN,
            Some(r#"Bearer error="insufficient_scope""#),
        ),
        (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (StatusCode::UNAUTHORIZED, Some(r#"Basic realm="api""#)),
    ] {
        let server = Arc::new(AuthServer::default());
        let down = Downstream::new(move |_| (status, challenge));
        let client = AccessTokenLayer::new(tokens(&server)).layer(down.clone());
        let res = client.oneshot(get("a")).await.unwrap();
        assert_eq!(res.status(), status);
        assert_eq!(down.seen.calls(), 1, "{challenge:?}");
        assert_eq!(server.requests(), 1, "{challenge:?}");
    }
}

#[tokio::test]
async fn a_bare_401_is_retried_by_default_but_not_with_invalid_token_only() {
    let bare = || {
        Downstream::new(|auth| match auth {
            Some("Bearer token-1") => (StatusCode::UNAUTHORIZED, None),
            _ => (StatusCode::OK, None),
        })
    };
    let server = Arc::new(AuthServer::default());
    let res = AccessTokenLayer::new(tokens(&server))
        .layer(bare())
        .oneshot(get("a"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let server = Arc::new(AuthServer::default());
    let down = bare();
    let res = AccessTokenLayer::new(tokens(&server))
        .renew_on(RenewOn::InvalidToken)
        .layer(down.clone())
        .oneshot(get("a"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!((down.seen.calls(), server.requests()), (1, 1));
}

/// A body that yields its chunks one by one (a stream: it cannot be replayed).
struct Chunks(Vec<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready((!self.0.is_empty()).then(|| Ok(Frame::data(self.0.remove(0)))))
    }
}

// Issue 13: a streaming body with a 401: the 401 is surfaced and the body is not re-sent.
#[tokio::test]
async fn a_streaming_body_with_a_401_is_not_re_sent_and_the_401_is_surfaced() {
    let server = Arc::new(AuthServer::default());
    let down = revoked_first();
    let manager = tokens(&server);
    let client = AccessTokenLayer::new(manager.clone()).layer(down.clone());
    let body = BoxBody::new(Chunks(vec![
        Bytes::from_static(b"part1"),
        Bytes::from_static(b"part2"),
    ]));
    let req = Request::post("https://orders.example/orders")
        .header("x-id", "s")
        .body(body)
        .unwrap();
    let res = client.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(down.seen.calls(), 1, "the body was sent once");
    assert_eq!(down.seen.calls.lock().unwrap()[0].2, 10);
    // The token was still renewed (in the background): the next request uses the new one.
    manager.settled().await;
    assert_eq!(server.requests(), 2);
    let replayable = Request::post("https://orders.example/orders")
        .header("x-id", "f")
        .body(BoxBody::new(Full::from("again")))
        .unwrap();
    assert_eq!(
        client.oneshot(replayable).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_replayable_body_is_sent_again_whole_on_the_retry() {
    let server = Arc::new(AuthServer::default());
    let down = revoked_first();
    let client = AccessTokenLayer::new(tokens(&server)).layer(down.clone());
    let req = Request::post("https://orders.example/orders")
        .header("x-id", "p")
        .body(Full::from("payload"))
        .unwrap();
    assert_eq!(client.oneshot(req).await.unwrap().status(), StatusCode::OK);
    let calls = down.seen.calls.lock().unwrap().clone();
    let auths: HashSet<_> = calls.iter().map(|c| c.0.clone().unwrap()).collect();
    assert_eq!(
        auths,
        HashSet::from(["Bearer token-1".to_owned(), "Bearer token-2".to_owned()])
    );
    assert!(
        calls
            .iter()
            .all(|c| c.2 == 7 && c.1.as_deref() == Some("p"))
    );
}
