//! `BruteForceLayer` as a plain tower middleware on a manual clock (no test sleeps): the rate
//! limit and its window, the lockout ladder, success resets, the three attack scenarios of
//! issue 4 (credential stuffing, distributed guessing, lockout DoS), client identity behind
//! proxies, IPv6 grouping, memory bounds, concurrency, gRPC, store failures and readiness.
#![cfg(feature = "brute-force")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::ErrorCode;
use auth_core::brute_force::{
    Admission, AttemptKey, AttemptOutcome, AttemptStore, AttemptStoreError,
    AttemptStoreHousekeeping, BlockReason, BruteForceLimiter, BruteForcePolicy, ClientKey,
    LoginAttempt, MemoryAttemptStore, Verdict,
};
use auth_core::clock::{ManualClock, UnixTime};
use auth_tower::Rejection;
use auth_tower::brute_force::{
    BruteForceLayer, ClientAddr, ForwardedHeader, TrustedProxies, key_fn,
};
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt, service_fn};

type Svc = BoxCloneSyncService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>;

const T0: u64 = 1_800_000_000;
const RIGHT: &str = "correct horse battery staple";

/// A login service on a manual clock; counts how often the handler (the password check) ran.
struct Harness {
    clock: ManualClock,
    store: Arc<MemoryAttemptStore>,
    calls: Arc<AtomicUsize>,
    svc: Svc,
}

fn limiter(clock: &ManualClock, store: Arc<MemoryAttemptStore>) -> BruteForceLimiter {
    BruteForceLimiter::builder(BruteForcePolicy::default())
        .store(store)
        .clock(clock.clone())
        .build()
        .unwrap()
}

type Reply = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

/// The handler: `x-account` and `x-password` stand in for the body a real handler parses.
fn handler(calls: Arc<AtomicUsize>) -> impl Fn(Request<Full<Bytes>>) -> Reply + Clone {
    move |req: Request<Full<Bytes>>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let account = req
            .headers()
            .get("x-account")
            .map(|v| v.to_str().unwrap().to_owned());
        let right = req.headers().get("x-password").is_some_and(|p| p == RIGHT);
        let mut res = Response::new(Full::from(if right { "token" } else { "wrong" }));
        if !right {
            *res.status_mut() = StatusCode::UNAUTHORIZED;
        }
        if let Some(account) = account {
            let outcome = if right {
                AttemptOutcome::Success
            } else {
                AttemptOutcome::Failure
            };
            res.extensions_mut()
                .insert(LoginAttempt::new(Some(account), outcome));
        }
        std::future::ready(Ok(res))
    }
}

fn harness_with(layer: impl FnOnce(BruteForceLimiter) -> BruteForceLayer) -> Harness {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let store = Arc::new(MemoryAttemptStore::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(layer(limiter(&clock, Arc::clone(&store))))
        .service(service_fn(handler(Arc::clone(&calls))));
    Harness {
        clock,
        store,
        calls,
        svc: BoxCloneSyncService::new(svc),
    }
}

fn harness() -> Harness {
    harness_with(BruteForceLayer::new)
}

fn login(ip: &str, account: &str, password: &str) -> Request<Full<Bytes>> {
    let mut req = Request::post("/auth/login")
        .header("x-account", account)
        .header("x-password", password)
        .body(Full::default())
        .unwrap();
    let addr = match ip.parse::<std::net::IpAddr>().unwrap() {
        std::net::IpAddr::V4(v4) => std::net::SocketAddr::from((v4, 50_000)),
        std::net::IpAddr::V6(v6) => std::net::SocketAddr::from((v6, 50_000)),
    };
    req.extensions_mut().insert(ClientAddr(addr));
    req
}

impl Harness {
    async fn send(&self, req: Request<Full<Bytes>>) -> Response<Full<Bytes>> {
        self.svc.clone().oneshot(req).await.unwrap()
    }

    async fn status(&self, ip: &str, account: &str, password: &str) -> u16 {
        self.send(login(ip, account, password))
            .await
            .status()
            .as_u16()
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

fn retry_after(res: &Response<Full<Bytes>>) -> u64 {
    res.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn reason(res: &Response<Full<Bytes>>) -> ErrorCode {
    res.extensions().get::<Rejection>().unwrap().code()
}

async fn json(res: Response<Full<Bytes>>) -> serde_json::Value {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Rate limit and window

#[tokio::test]
async fn five_attempts_pass_and_the_sixth_gets_429_with_retry_after() {
    let h = harness();
    for i in 0..5 {
        assert_eq!(
            h.status("203.0.113.1", &format!("u{i}@x"), "bad").await,
            401
        );
        h.advance(2);
    }
    let res = h.send(login("203.0.113.1", "u9@x", "bad")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The oldest attempt (t=0) leaves the window at t=60; it is t=10 now.
    assert_eq!(retry_after(&res), 50);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
    assert_eq!(reason(&res), ErrorCode::TooManyAttempts);
    let body = json(res).await;
    assert_eq!(body["error"]["code"], "TOO_MANY_ATTEMPTS");
    assert_eq!(body["error"]["retry_after"], 50);
    // The refused attempt never reached the password check.
    assert_eq!(h.calls(), 5);
}

#[tokio::test]
async fn the_window_rolls() {
    let h = harness();
    for s in [0, 10, 20, 30, 40] {
        h.clock.set(UnixTime::from_secs(T0 + s));
        assert_eq!(h.status("203.0.113.2", "a@x", RIGHT).await, 200);
    }
    h.clock.set(UnixTime::from_secs(T0 + 59));
    assert_eq!(h.status("203.0.113.2", "a@x", RIGHT).await, 429);
    // At 60 the first attempt has left: one more fits, then the next waits for t=70.
    h.clock.set(UnixTime::from_secs(T0 + 60));
    assert_eq!(h.status("203.0.113.2", "a@x", RIGHT).await, 200);
    let res = h.send(login("203.0.113.2", "a@x", RIGHT)).await;
    assert_eq!(res.status(), 429);
    assert_eq!(retry_after(&res), 10);
    h.clock.set(UnixTime::from_secs(T0 + 100));
    assert_eq!(h.status("203.0.113.2", "a@x", RIGHT).await, 200);
}

#[tokio::test]
async fn clients_have_separate_windows() {
    let h = harness();
    for _ in 0..5 {
        assert_eq!(h.status("203.0.113.3", "a@x", RIGHT).await, 200);
    }
    assert_eq!(h.status("203.0.113.3", "a@x", RIGHT).await, 429);
    assert_eq!(h.status("203.0.113.4", "a@x", RIGHT).await, 200);
}

// ---------------------------------------------------------------------------------------------
// Lockout ladder, decay, success reset

#[tokio::test]
async fn account_ladder_goes_15_minutes_then_1_hour() {
    let h = harness();
    // Five failures from five addresses (so no client reaches its own limits).
    for i in 0..5 {
        assert_eq!(
            h.status(&format!("198.51.100.{i}"), "bob@x", "bad").await,
            401
        );
    }
    // The account is locked for 15 minutes for clients that failed recently...
    let res = h.send(login("198.51.100.0", "bob@x", RIGHT)).await;
    assert_eq!(res.status(), 429);
    assert_eq!(retry_after(&res), 900);
    h.advance(899);
    assert_eq!(h.status("198.51.100.1", "bob@x", RIGHT).await, 429);
    h.advance(1);
    // ... then it lifts; five more failures lock it for an hour.
    for i in 0..5 {
        assert_eq!(
            h.status(&format!("198.51.100.{i}"), "bob@x", "bad").await,
            401
        );
    }
    let res = h.send(login("198.51.100.4", "bob@x", RIGHT)).await;
    assert_eq!(res.status(), 429);
    assert_eq!(retry_after(&res), 3600);
    h.advance(3600);
    for i in 0..5 {
        assert_eq!(
            h.status(&format!("198.51.100.{i}"), "bob@x", "bad").await,
            401
        );
    }
    let res = h.send(login("198.51.100.4", "bob@x", RIGHT)).await;
    assert_eq!(retry_after(&res), 24 * 3600);
}

#[tokio::test]
async fn client_ladder_goes_15_minutes_then_1_hour() {
    let h = harness();
    let ip = "192.0.2.10";
    for round in [900, 3600] {
        for i in 0..10 {
            assert_eq!(h.status(ip, &format!("user{i}@x"), "bad").await, 401);
            h.advance(12); // stay under 5 per minute
        }
        let res = h.send(login(ip, "anyone@x", RIGHT)).await;
        assert_eq!(res.status(), 429);
        assert_eq!(retry_after(&res), round - 12);
        h.advance(round);
    }
}

#[tokio::test]
async fn counters_decay_after_a_quiet_period() {
    let h = harness();
    for i in 0..4 {
        assert_eq!(
            h.status(&format!("198.51.100.{i}"), "carol@x", "bad").await,
            401
        );
    }
    h.advance(24 * 3600);
    // Four old failures are forgotten: four new ones do not lock.
    for i in 0..4 {
        assert_eq!(
            h.status(&format!("198.51.100.{i}"), "carol@x", "bad").await,
            401
        );
    }
    assert_eq!(h.status("198.51.100.0", "carol@x", RIGHT).await, 200);
}

#[tokio::test]
async fn success_resets_the_accounts_failures() {
    let h = harness();
    for i in 0..4 {
        assert_eq!(
            h.status(&format!("198.51.100.{i}"), "dave@x", "bad").await,
            401
        );
    }
    assert_eq!(h.status("198.51.100.9", "dave@x", RIGHT).await, 200);
    for i in 0..4 {
        assert_eq!(
            h.status(&format!("198.51.100.{i}"), "dave@x", "bad").await,
            401
        );
    }
    // Eight failures in all, but never five in a row: not locked.
    assert_eq!(h.status("198.51.100.5", "dave@x", RIGHT).await, 200);
}

#[tokio::test]
async fn status_decides_without_a_login_attempt_extension() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let store = Arc::new(MemoryAttemptStore::new());
    let status = Arc::new(AtomicUsize::new(401));
    let s = Arc::clone(&status);
    let svc = ServiceBuilder::new()
        .layer(BruteForceLayer::new(limiter(&clock, Arc::clone(&store))))
        .service(service_fn(move |_req: Request<Full<Bytes>>| {
            let code = u16::try_from(s.load(Ordering::SeqCst)).unwrap();
            let mut res = Response::new(Full::default());
            *res.status_mut() = StatusCode::from_u16(code).unwrap();
            std::future::ready(Ok::<_, Infallible>(res))
        }));
    // 400s are neutral: they count towards the rate limit only.
    status.store(400, Ordering::SeqCst);
    for _ in 0..5 {
        assert_eq!(
            svc.clone()
                .oneshot(login("192.0.2.1", "", ""))
                .await
                .unwrap()
                .status(),
            400
        );
        clock.advance(Duration::from_secs(60));
    }
    // 401s and 403s are failures: ten lock the client out.
    for code in [401, 403] {
        status.store(code, Ordering::SeqCst);
        for _ in 0..5 {
            svc.clone()
                .oneshot(login("192.0.2.1", "", ""))
                .await
                .unwrap();
            clock.advance(Duration::from_secs(12));
        }
    }
    let res = svc
        .clone()
        .oneshot(login("192.0.2.1", "", ""))
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.extensions()
            .get::<Rejection>()
            .unwrap()
            .retry_after_secs(),
        Some(900 - 12)
    );
}

// ---------------------------------------------------------------------------------------------
// The three attack scenarios

/// Credential stuffing: one address, a different account each time.
#[tokio::test]
async fn one_client_trying_many_accounts_is_stopped() {
    let h = harness();
    let mut answered = 0;
    // An hour of trying a fresh leaked pair every 2 seconds.
    for i in 0..1800 {
        let status = h
            .status("203.0.113.66", &format!("victim{i}@x"), "leaked")
            .await;
        if status != 429 {
            answered += 1;
        }
        h.advance(2);
    }
    // 10 failures, then 15 minutes of nothing, 10 more, then an hour of nothing.
    assert_eq!(answered, 20);
    assert_eq!(
        h.calls(),
        20,
        "refused attempts never reach the password check"
    );
    let res = h.send(login("203.0.113.66", "victim@x", "leaked")).await;
    assert_eq!(reason(&res), ErrorCode::TooManyAttempts);
}

/// Distributed guessing: many addresses, one account.
#[tokio::test]
async fn many_clients_guessing_one_account_are_slowed_down() {
    let h = harness();
    let ips: Vec<String> = (0..50)
        .map(|i| format!("100.64.{}.{}", i / 200, i % 200 + 1))
        .collect();
    let mut answered = 0;
    for round in 0..5 {
        for ip in &ips {
            let status = h.status(ip, "ceo@x", &format!("guess-{round}-{ip}")).await;
            if status != 429 {
                answered += 1;
            }
        }
        h.advance(60);
    }
    // 250 guesses; only the first five and each address's first one were answered.
    assert_eq!(answered, 5 + 45);
    // A right guess from any of those addresses now is refused like a wrong one.
    let res = h.send(login(&ips[7], "ceo@x", RIGHT)).await;
    assert_eq!(res.status(), 429);
    let body = json(res).await;
    assert_eq!(body["error"]["code"], "TOO_MANY_ATTEMPTS");
    // The answered fresh-address failures kept escalating the account's lockout.
    let res = h.send(login(&ips[8], "ceo@x", "bad")).await;
    assert!(retry_after(&res) > 3600, "{}", retry_after(&res));
}

/// Lockout denial of service: the attacker cannot keep the real user out of a fresh address.
#[tokio::test]
async fn attacker_cannot_lock_the_real_user_out_from_a_new_address() {
    let h = harness();
    // A day of an attacker failing on the account once a minute from 20 rotating addresses:
    // the account is locked within minutes, and by the end for 24 hours at a time.
    for i in 0..(24 * 60) {
        h.status(&format!("203.0.113.{}", i % 20), "erin@x", "bad")
            .await;
        h.advance(60);
    }
    // An address that failed recently (here a typo on another account) is refused ...
    assert_eq!(h.status("192.0.2.50", "someone@x", "typo").await, 401);
    assert_eq!(h.status("192.0.2.50", "erin@x", RIGHT).await, 429);
    // ... but the real user, on an address that has not failed, logs in at once.
    assert_eq!(h.status("192.0.2.200", "erin@x", RIGHT).await, 200);
    // That success reset the account, so the suspect address gets its answer again too.
    assert_eq!(h.status("192.0.2.50", "erin@x", RIGHT).await, 200);
}

#[tokio::test]
async fn a_suspect_address_is_locked_out_for_at_most_one_ladder_step() {
    let h = harness();
    for _ in 0..5 {
        h.status("203.0.113.99", "frank@x", "bad").await;
        h.advance(12);
    }
    // The real user mistyped once at home, so home is suspect while the account is locked.
    assert_eq!(h.status("192.0.2.50", "frank@x", "typo").await, 401);
    let res = h.send(login("192.0.2.50", "frank@x", RIGHT)).await;
    assert_eq!(res.status(), 429);
    let wait = retry_after(&res);
    assert!(wait <= 900, "bounded by the current step, got {wait}");
    h.advance(wait);
    assert_eq!(h.status("192.0.2.50", "frank@x", RIGHT).await, 200);
}

#[tokio::test]
async fn blocked_answers_are_identical_for_existing_and_unknown_accounts() {
    let h = harness();
    for account in ["real@x", "nobody@x"] {
        for i in 0..5 {
            h.status(&format!("198.51.100.{i}"), account, "bad").await;
        }
    }
    let a = h.send(login("198.51.100.0", "real@x", RIGHT)).await;
    let b = h.send(login("198.51.100.0", "nobody@x", "bad")).await;
    assert_eq!(a.status(), b.status());
    assert_eq!(a.headers(), b.headers());
    assert_eq!(json(a).await, json(b).await);
}

// ---------------------------------------------------------------------------------------------
// Client identity

#[tokio::test]
async fn x_forwarded_for_from_a_trusted_proxy_names_the_client() {
    let h = harness_with(|l| {
        BruteForceLayer::builder(l)
            .trusted_proxy_list("10.0.0.0/8")
            .build()
            .unwrap()
    });
    let via_proxy = |client: &str| {
        let mut req = login("10.0.0.2", "a@x", RIGHT);
        req.headers_mut().insert(
            "x-forwarded-for",
            format!("{client}, 10.0.0.9").parse().unwrap(),
        );
        req
    };
    for _ in 0..5 {
        assert_eq!(h.send(via_proxy("203.0.113.5")).await.status(), 200);
    }
    assert_eq!(h.send(via_proxy("203.0.113.5")).await.status(), 429);
    // Another client behind the same proxy has its own window.
    assert_eq!(h.send(via_proxy("203.0.113.6")).await.status(), 200);
}

#[tokio::test]
async fn spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let h = harness_with(|l| {
        BruteForceLayer::builder(l)
            .trusted_proxy_list("10.0.0.0/8")
            .build()
            .unwrap()
    });
    for i in 0..6 {
        let mut req = login("203.0.113.50", "a@x", RIGHT);
        req.headers_mut()
            .insert("x-forwarded-for", format!("192.0.2.{i}").parse().unwrap());
        let expected = if i < 5 { 200 } else { 429 };
        assert_eq!(h.send(req).await.status(), expected, "attempt {i}");
    }
}

#[tokio::test]
async fn forwarded_header_is_read_when_configured_and_x_forwarded_for_is_not() {
    let h = harness_with(|l| {
        BruteForceLayer::builder(l)
            .trusted_proxies(TrustedProxies::parse_list("10.0.0.1").unwrap())
            .forwarded_header(ForwardedHeader::Forwarded)
            .build()
            .unwrap()
    });
    for i in 0..6 {
        let mut req = login("10.0.0.1", "a@x", RIGHT);
        req.headers_mut().insert(
            "forwarded",
            "for=\"[2001:db8:77::1]:1234\";proto=https".parse().unwrap(),
        );
        // The client rotates a header the proxy does not maintain: no effect.
        req.headers_mut()
            .insert("x-forwarded-for", format!("192.0.2.{i}").parse().unwrap());
        let expected = if i < 5 { 200 } else { 429 };
        assert_eq!(h.send(req).await.status(), expected, "attempt {i}");
    }
}

#[tokio::test]
async fn ipv6_clients_are_grouped_by_64() {
    let h = harness();
    for i in 1..=5 {
        assert_eq!(
            h.status(&format!("2001:db8:1:2::{i:x}"), "a@x", RIGHT)
                .await,
            200
        );
    }
    assert_eq!(
        h.status("2001:db8:1:2:ffff:ffff:ffff:ffff", "a@x", RIGHT)
            .await,
        429
    );
    assert_eq!(h.status("2001:db8:1:3::1", "a@x", RIGHT).await, 200);
}

#[tokio::test]
async fn a_pluggable_key_extractor_keys_by_tenant() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = BruteForceLayer::new(limiter(&clock, Arc::new(MemoryAttemptStore::new())))
        .key_extractor(key_fn(|headers, _| {
            let t = headers.get("x-tenant")?.to_str().ok()?;
            Some(ClientKey::named(format!("tenant:{t}")))
        }));
    let svc = ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(handler(Arc::clone(&calls))));
    let req = |tenant: &str, ip: &str| {
        let mut r = login(ip, "a@x", RIGHT);
        r.headers_mut().insert("x-tenant", tenant.parse().unwrap());
        r
    };
    for i in 0..5 {
        let res = svc
            .clone()
            .oneshot(req("acme", &format!("192.0.2.{i}")))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = svc
        .clone()
        .oneshot(req("acme", "192.0.2.99"))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "addresses do not matter, the tenant does"
    );
    let res = svc
        .clone()
        .oneshot(req("globex", "192.0.2.0"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_request_without_a_peer_address_is_refused_with_503() {
    let h = harness();
    let req = Request::post("/auth/login").body(Full::default()).unwrap();
    let res = h.send(req).await;
    assert_eq!(res.status(), 503);
    assert_eq!(reason(&res), ErrorCode::AuthBackendUnavailable);
    assert_eq!(h.calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// Memory

#[tokio::test]
async fn expired_entries_are_evicted_without_being_touched_again() {
    let h = harness();
    for i in 0..200 {
        h.status(&format!("100.64.0.{}", i % 250), &format!("x{i}@x"), RIGHT)
            .await;
    }
    assert!(h.store.len() >= 200);
    // Two minutes later, a few requests from someone else clear them out.
    h.advance(120);
    for _ in 0..3 {
        h.status("192.0.2.1", "a@x", RIGHT).await;
    }
    // Each request sweeps a few; a housekeeping call drains the rest.
    let swept_by_requests = 200 + 1 - h.store.len();
    assert!(swept_by_requests >= 8, "{swept_by_requests}");
    h.store
        .purge_expired(auth_core::clock::Clock::now(&h.clock));
    assert_eq!(h.store.len(), 1);
}

#[tokio::test]
async fn the_key_cap_bounds_memory_under_address_rotation() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let store = Arc::new(MemoryAttemptStore::with_max_keys(
        NonZeroUsize::new(1000).unwrap(),
    ));
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(BruteForceLayer::new(limiter(&clock, Arc::clone(&store))))
        .service(service_fn(handler(Arc::clone(&calls))));
    // A victim account locked out first.
    for i in 0..5 {
        svc.clone()
            .oneshot(login(&format!("198.51.100.{i}"), "victim@x", "bad"))
            .await
            .unwrap();
    }
    // Then an attacker rotating through 20,000 IPv6 /64s, one plain attempt each.
    for i in 0..20_000u32 {
        let ip = format!("2001:db8:{:x}:{:x}::1", i >> 16, i & 0xffff);
        svc.clone().oneshot(login(&ip, "", RIGHT)).await.unwrap();
        assert!(store.len() <= 1000);
    }
    assert!(store.evicted_at_cap() > 18_000);
    // The lockout (a longer-lived record) survived the flood.
    let res = svc
        .clone()
        .oneshot(login("198.51.100.0", "victim@x", RIGHT))
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

// ---------------------------------------------------------------------------------------------
// Concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_hammering_one_key_never_get_more_than_the_limit_through() {
    let h = Arc::new(harness());
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let h = Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            h.status("203.0.113.77", "a@x", RIGHT).await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, refused), (5, 195));
    assert_eq!(h.calls(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fresh_client_firing_concurrent_guesses_at_a_locked_account_gets_one_answer() {
    let h = Arc::new(harness());
    for i in 0..5 {
        h.status(&format!("198.51.100.{i}"), "gina@x", "bad").await;
    }
    let mut tasks = Vec::new();
    for i in 0..5 {
        let h = Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            h.status("203.0.113.200", "gina@x", &format!("guess{i}"))
                .await
        }));
    }
    let mut answered = 0;
    for t in tasks {
        if t.await.unwrap() == 401 {
            answered += 1;
        }
    }
    assert_eq!(answered, 1);
}

// ---------------------------------------------------------------------------------------------
// gRPC, store failures, readiness

#[tokio::test]
async fn grpc_calls_get_resource_exhausted() {
    let h = harness();
    let grpc = || {
        let mut req = login("203.0.113.8", "a@x", RIGHT);
        req.headers_mut()
            .insert(header::CONTENT_TYPE, "application/grpc".parse().unwrap());
        req
    };
    for _ in 0..5 {
        h.send(grpc()).await;
    }
    let res = h.send(grpc()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["grpc-status"], "8");
    assert_eq!(res.headers()[header::RETRY_AFTER], "60");
}

#[tokio::test]
async fn grpc_status_decides_for_trailers_only_answers() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let svc = ServiceBuilder::new()
        .layer(BruteForceLayer::new(limiter(
            &clock,
            Arc::new(MemoryAttemptStore::new()),
        )))
        .service(service_fn(|_req: Request<Full<Bytes>>| {
            let mut res = Response::new(Full::default());
            res.headers_mut()
                .insert("grpc-status", "16".parse().unwrap());
            std::future::ready(Ok::<_, Infallible>(res))
        }));
    for _ in 0..10 {
        svc.clone()
            .oneshot(login("192.0.2.3", "", ""))
            .await
            .unwrap();
        clock.advance(Duration::from_secs(12));
    }
    let res = svc
        .clone()
        .oneshot(login("192.0.2.3", "", ""))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "ten UNAUTHENTICATED answers lock the client"
    );
}

#[derive(Debug)]
struct BrokenStore;

#[async_trait]
impl AttemptStore for BrokenStore {
    async fn admit(
        &self,
        _: &AttemptKey,
        _: &BruteForcePolicy,
        _: UnixTime,
    ) -> Result<Admission, AttemptStoreError> {
        Err(AttemptStoreError::new("connection refused"))
    }
    async fn record(
        &self,
        _: &AttemptKey,
        _: Option<&AttemptKey>,
        _: AttemptOutcome,
        _: &BruteForcePolicy,
        _: UnixTime,
    ) -> Result<Verdict, AttemptStoreError> {
        Err(AttemptStoreError::new("connection refused"))
    }
    async fn clear(&self, _: &AttemptKey, _: &BruteForcePolicy) -> Result<(), AttemptStoreError> {
        Err(AttemptStoreError::new("connection refused"))
    }
}

#[tokio::test]
async fn store_failures_fail_closed_by_default_and_open_when_told() {
    let broken = || {
        BruteForceLimiter::builder(BruteForcePolicy::default())
            .store(Arc::new(BrokenStore))
            .build()
            .unwrap()
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let closed = ServiceBuilder::new()
        .layer(BruteForceLayer::new(broken()))
        .service(service_fn(handler(Arc::clone(&calls))));
    let res = closed
        .oneshot(login("192.0.2.1", "a@x", RIGHT))
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let open = ServiceBuilder::new()
        .layer(
            BruteForceLayer::builder(broken())
                .dangerous_fail_open_on_store_error()
                .build()
                .unwrap(),
        )
        .service(service_fn(handler(Arc::clone(&calls))));
    let res = open
        .oneshot(login("192.0.2.1", "a@x", RIGHT))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn readiness_is_forwarded_and_the_ready_service_is_the_one_called() {
    use std::task::Poll;
    use tower_test::mock;
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let layer = BruteForceLayer::new(limiter(&clock, Arc::new(MemoryAttemptStore::new())));
    let (mut svc, mut handle) =
        mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(layer);
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = tokio::spawn(svc.call(login("192.0.2.1", "a@x", RIGHT)));
    let (req, send) = handle.next_request().await.unwrap();
    assert!(req.extensions().get::<ClientAddr>().is_some());
    let mut res = Response::new(Full::default());
    res.extensions_mut().insert(LoginAttempt::success("a@x"));
    send.send_response(res);
    assert_eq!(fut.await.unwrap().unwrap().status(), 200);
}

#[tokio::test]
async fn limiter_can_be_used_without_the_layer() {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let l = limiter(&clock, Arc::new(MemoryAttemptStore::new()));
    let c = ClientKey::from_ip("192.0.2.1".parse().unwrap());
    for _ in 0..5 {
        assert_eq!(l.check(&c).await.unwrap(), Admission::Admitted);
    }
    let Admission::Blocked(b) = l.check(&c).await.unwrap() else {
        panic!("expected the rate limit")
    };
    assert_eq!(b.reason(), BlockReason::RateLimited);
}
