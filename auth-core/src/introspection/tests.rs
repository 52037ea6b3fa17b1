//! The cache (lifetimes on the injected clock, errors never cached, keyed digests), the
//! coalescing of concurrent requests and the request itself, against a fake server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::Introspector;
use crate::ErrorCode;
use crate::client_auth::ClientAuth;
use crate::clock::{ManualClock, UnixTime};
use crate::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
use crate::jwt::BoxFuture;

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://as.example";
const ENDPOINT: &str = "https://as.example/introspect";

#[derive(Clone, Debug)]
enum Answer {
    Json(Value),
    Status(u16),
    Refused,
    Never,
}

#[derive(Debug, Default)]
struct Seen {
    bodies: Vec<String>,
    authorization: Vec<Option<String>>,
    urls: Vec<String>,
}

/// An authorization server that answers every introspection with `answer`, optionally after
/// the test opens `gate`.
#[derive(Clone, Debug)]
struct FakeAs {
    answer: Arc<Mutex<Answer>>,
    seen: Arc<Mutex<Seen>>,
    gate: Option<Arc<Semaphore>>,
}

impl FakeAs {
    fn new(answer: Answer) -> Self {
        Self {
            answer: Arc::new(Mutex::new(answer)),
            seen: Arc::default(),
            gate: None,
        }
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().bodies.len()
    }

    fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
}

impl HttpClient for FakeAs {
    fn get(&self, req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let body = json!({"issuer": ISSUER, "introspection_endpoint": ENDPOINT}).to_string();
        self.seen.lock().unwrap().urls.push(req.url);
        Box::pin(async move { Ok(HttpResponse::new(200, body)) })
    }

    fn send(&self, req: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        if req.method == crate::jwks::Method::Get {
            return self.get(FetchRequest::new(req.url, req.timeout, req.max_body_bytes));
        }
        {
            let mut seen = self.seen.lock().unwrap();
            seen.bodies
                .push(String::from_utf8(req.body.clone()).unwrap());
            seen.authorization
                .push(req.header_value("authorization").map(str::to_owned));
            seen.urls.push(req.url.clone());
        }
        let answer = self.answer.lock().unwrap().clone();
        let gate = self.gate.clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.acquire().await.unwrap().forget();
            }
            match answer {
                Answer::Json(v) => Ok(HttpResponse::new(200, v.to_string())),
                Answer::Status(s) => Ok(HttpResponse::new(s, "{}")),
                Answer::Refused => Err(HttpError::Transport("connection refused".into())),
                Answer::Never => std::future::pending().await,
            }
        })
    }
}

fn active(exp: u64) -> Answer {
    Answer::Json(
        json!({"active": true, "sub": "alice", "exp": exp, "iss": ISSUER,
        "scope": "read", "client_id": "app"}),
    )
}

fn introspector(server: &FakeAs, clock: &ManualClock) -> Introspector {
    Introspector::builder(
        ClientAuth::client_secret_basic("api", "s3cr3t").unwrap(),
        ISSUER,
    )
    .endpoint(ENDPOINT)
    .http_client(server.clone())
    .clock(clock.clone())
    .timeout(Duration::from_millis(200))
    .build()
    .unwrap()
}

fn clock() -> ManualClock {
    ManualClock::new(UnixTime::from_secs(NOW))
}

#[tokio::test]
async fn an_active_answer_is_cached_until_the_bound_then_asked_again() {
    let (server, clock) = (FakeAs::new(active(NOW + 3600)), clock());
    let i = introspector(&server, &clock);
    assert_eq!(i.verify("opaque-1").await.unwrap().subject(), "alice");
    // A hit is answered at once, without a request.
    let hit = i
        .verify("opaque-1")
        .into_ready()
        .expect("cached answer is ready");
    assert!(hit.unwrap().has_scope("read"));
    clock.advance(Duration::from_secs(59));
    i.verify("opaque-1").await.unwrap();
    assert_eq!(server.requests(), 1);
    // Past the 60 s bound (the revocation delay): the server is asked again, and now says no.
    clock.advance(Duration::from_secs(1));
    server.set(Answer::Json(json!({"active": false})));
    let err = i.verify("opaque-1").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidToken);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_active_answer_is_never_cached_past_the_tokens_exp() {
    let (server, clock) = (FakeAs::new(active(NOW + 10)), clock());
    let i = introspector(&server, &clock);
    i.verify("opaque").await.unwrap();
    clock.advance(Duration::from_secs(10));
    // Expired for the cache; the server's answer is still within the 30 s leeway.
    i.verify("opaque").await.unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_inactive_answer_is_cached_for_the_inactive_ttl_only() {
    let (server, clock) = (FakeAs::new(Answer::Json(json!({"active": false}))), clock());
    let i = introspector(&server, &clock);
    for _ in 0..3 {
        let err = i.verify("revoked").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken);
    }
    assert_eq!(server.requests(), 1);
    clock.advance(Duration::from_secs(4));
    i.verify("revoked").await.unwrap_err();
    assert_eq!(server.requests(), 1);
    clock.advance(Duration::from_secs(1));
    server.set(active(NOW + 3600));
    i.verify("revoked").await.unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn active_as_the_string_true_is_refused() {
    let answer = json!({"active": "true", "sub": "alice", "exp": NOW + 60, "iss": ISSUER});
    let (server, clock) = (FakeAs::new(Answer::Json(answer)), clock());
    let err = introspector(&server, &clock)
        .verify("opaque")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidToken);
}

#[tokio::test]
async fn server_errors_answer_503_and_are_never_cached() {
    for failure in [
        Answer::Status(500),
        Answer::Status(401),
        Answer::Refused,
        Answer::Json(json!(["not", "an", "object"])),
    ] {
        let (server, clock) = (FakeAs::new(failure.clone()), clock());
        let i = introspector(&server, &clock);
        for n in 1..=2 {
            let err = i.verify("opaque").await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable, "{failure:?}");
            assert_eq!(err.code().http_status(), 503);
            assert_eq!(server.requests(), n, "{failure:?}");
        }
        assert_eq!(i.cached(), 0);
        // Once the server is back, the token is accepted at once.
        server.set(active(NOW + 60));
        i.verify("opaque").await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_server_that_does_not_answer_times_out_with_503() {
    let (server, clock) = (FakeAs::new(Answer::Never), clock());
    let err = introspector(&server, &clock)
        .verify("opaque")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable);
}

#[tokio::test]
async fn concurrent_requests_with_one_token_share_one_introspection() {
    let gate = Arc::new(Semaphore::new(0));
    let mut server = FakeAs::new(active(NOW + 3600));
    server.gate = Some(Arc::clone(&gate));
    let clock = clock();
    let i = introspector(&server, &clock);
    let pending: Vec<_> = (0..50).map(|_| i.verify("shared-token")).collect();
    let other = i.verify("another-token");
    let all = futures_util::future::join_all(pending);
    let (results, other, ()) = tokio::join!(all, other, async {
        tokio::task::yield_now().await;
        gate.add_permits(2);
    });
    assert!(results.iter().all(Result::is_ok));
    other.unwrap();
    assert_eq!(server.requests(), 2, "one per distinct token");
    i.verify("shared-token").await.unwrap();
    assert_eq!(i.requests_sent(), 2);
}

#[tokio::test]
async fn coalesced_waiters_share_a_failure_and_the_next_request_asks_again() {
    let gate = Arc::new(Semaphore::new(0));
    let mut server = FakeAs::new(Answer::Status(503));
    server.gate = Some(Arc::clone(&gate));
    let clock = clock();
    let i = introspector(&server, &clock);
    let pending: Vec<_> = (0..10).map(|_| i.verify("t")).collect();
    let (results, ()) = tokio::join!(futures_util::future::join_all(pending), async {
        gate.add_permits(1);
    });
    assert!(results.iter().all(|r| {
        r.as_ref()
            .is_err_and(|e| e.code() == ErrorCode::AuthBackendUnavailable)
    }));
    assert_eq!(server.requests(), 1);
    server.set(active(NOW + 60));
    gate.add_permits(1);
    i.verify("t").await.unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_abandoned_introspection_is_not_left_behind() {
    let (server, clock) = (FakeAs::new(Answer::Never), clock());
    let i = introspector(&server, &clock);
    let first = i.verify("t");
    let second = i.verify("t");
    assert_eq!(i.in_flight(), 1);
    drop(first);
    assert_eq!(i.in_flight(), 1, "a waiter is left");
    drop(second); // never polled: the flight is dropped and removes itself
    assert_eq!(i.in_flight(), 0);
    server.set(active(NOW + 60));
    i.verify("t").await.unwrap();
}

#[tokio::test]
async fn the_request_posts_the_token_with_its_hint_and_the_client_credentials() {
    let (server, clock) = (FakeAs::new(active(NOW + 60)), clock());
    introspector(&server, &clock)
        .verify("a+b/c=")
        .await
        .unwrap();
    let seen = server.seen.lock().unwrap();
    assert_eq!(
        seen.bodies,
        ["token=a%2Bb%2Fc%3D&token_type_hint=access_token"]
    );
    assert_eq!(seen.urls, [ENDPOINT]);
    assert!(
        seen.authorization[0]
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))
    );
}

#[tokio::test]
async fn the_endpoint_is_discovered_from_the_issuers_metadata() {
    let (server, clock) = (FakeAs::new(active(NOW + 60)), clock());
    let i = Introspector::builder(ClientAuth::client_secret_post("api", "s").unwrap(), ISSUER)
        .http_client(server.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    i.verify("x").await.unwrap();
    i.verify("y").await.unwrap();
    let seen = server.seen.lock().unwrap();
    assert_eq!(
        seen.urls,
        [
            format!("{ISSUER}/.well-known/openid-configuration"),
            ENDPOINT.to_owned(),
            ENDPOINT.to_owned()
        ]
    );
    assert!(seen.bodies[0].contains("client_id=api&client_secret=s"));
}

#[test]
fn tokens_are_cached_under_a_keyed_digest_never_the_token() {
    let (server, clock) = (FakeAs::new(active(NOW + 60)), clock());
    let (a, b) = (introspector(&server, &clock), introspector(&server, &clock));
    let token = "opaque-token-value";
    let da = a.digest(token);
    // Keyed: another instance (another random key) digests the same token differently, and
    // the digest is not the plain SHA-256 of the token.
    assert_ne!(da, b.digest(token));
    assert_eq!(da, a.digest(token));
    let plain: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()).into();
    assert_ne!(da, plain);
    assert!(!format!("{a:?}").contains(token));
}

#[tokio::test]
async fn empty_and_oversized_tokens_are_refused_without_a_request() {
    let (server, clock) = (FakeAs::new(active(NOW + 60)), clock());
    let i = introspector(&server, &clock);
    for token in [String::new(), "x".repeat(8 * 1024 + 1)] {
        let err = i.verify(&token).into_ready().expect("refused at once");
        assert_eq!(err.unwrap_err().code(), ErrorCode::InvalidToken);
    }
    assert_eq!(server.requests(), 0);
}

#[test]
fn jwt_shaped_tokens_are_three_dot_separated_parts() {
    assert!(super::is_jwt_shaped("a.b.c"));
    assert!(!super::is_jwt_shaped("a.b"));
    assert!(!super::is_jwt_shaped("a.b.c.d.e"));
    assert!(!super::is_jwt_shaped("opaque_token-value"));
}
