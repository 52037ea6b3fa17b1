//! The audit trail and the metrics of the layers (issue 17): one `INFO` event under
//! `auth::audit` per decision with stable fields, the route template instead of the raw path,
//! no credential at any level; counters and histograms after a scripted sequence of requests.
#![cfg(all(
    feature = "bearer",
    feature = "scope",
    feature = "brute-force",
    feature = "metrics",
    feature = "axum-matched-path"
))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use auth_core::brute_force::{BruteForceLimiter, BruteForcePolicy, MemoryAttemptStore};
use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::metrics::name;
use auth_core::scope::Requirement;
use auth_test::capture::CapturedEvents;
use auth_tower::bearer::BearerLayer;
use auth_tower::brute_force::{BruteForceLayer, ClientAddr};
use auth_tower::scope::ScopeLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use http::{Request, StatusCode, header};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tower::ServiceExt;

const SECRET: &[u8] = b"audit trail tests secret, 32 bytes or more";
const NOW: u64 = 1_800_000_000;

fn audit_fields(capture: &CapturedEvents) -> Vec<BTreeMap<String, String>> {
    capture
        .audit()
        .into_iter()
        .map(|e| {
            assert_eq!(e.level, tracing::Level::INFO, "{e:?}");
            e.fields
        })
        .collect()
}

// ---- the service under test ----

fn clock() -> ManualClock {
    ManualClock::new(UnixTime::from_secs(NOW))
}

fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .issuer("https://issuer.test")
        .audience("api")
        .clock(clock())
        .build()
        .unwrap()
}

fn token(scope: &str, exp: u64) -> String {
    let claims = serde_json::json!({
        "sub": "alice", "iss": "https://issuer.test", "aud": "api",
        "exp": exp, "iat": NOW - 10, "scope": scope,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn app() -> Router {
    let policy = BruteForcePolicy::builder()
        .attempts_per_window(NonZeroU32::new(2).unwrap(), Duration::from_secs(60))
        .build()
        .unwrap();
    let limiter = BruteForceLimiter::builder(policy)
        .store(Arc::new(MemoryAttemptStore::new()))
        .clock(clock())
        .build()
        .unwrap();
    Router::new()
        .route(
            "/orders/{id}",
            get(|| async { "order" })
                .route_layer(ScopeLayer::new(Requirement::scope("orders:read")))
                .route_layer(BearerLayer::new(verifier())),
        )
        .route(
            "/login",
            post(|| async { StatusCode::UNAUTHORIZED }).route_layer(BruteForceLayer::new(limiter)),
        )
}

fn request(method: &str, path: &str, token: Option<&str>, id: &str) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("x-request-id", id);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let mut req = b.body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ClientAddr("198.51.100.7:40000".parse().unwrap()));
    req
}

/// The scripted sequence: anonymous, allowed, under-scoped, expired, three logins.
async fn script(app: &Router, good: &str, narrow: &str, expired: &str) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for req in [
        request("GET", "/orders/4711", None, "r-1"),
        request("GET", "/orders/4711", Some(good), "r-2"),
        request("GET", "/orders/4712", Some(narrow), "r-3"),
        request("GET", "/orders/4713", Some(expired), "r-4"),
        request("POST", "/login", None, "r-5"),
        request("POST", "/login", None, "r-6"),
        request("POST", "/login", None, "r-7"),
    ] {
        statuses.push(app.clone().oneshot(req).await.unwrap().status());
    }
    statuses
}

fn run_script(
    capture: &CapturedEvents,
    recorder: &DebuggingRecorder,
) -> (Vec<StatusCode>, [String; 3]) {
    let good = token("orders:read", NOW + 60);
    let narrow = token("profile", NOW + 60);
    let expired = token("orders:read", NOW - 120);
    let app = app();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let statuses = tracing::subscriber::with_default(capture.clone(), || {
        metrics::with_local_recorder(recorder, || {
            rt.block_on(script(&app, &good, &narrow, &expired))
        })
    });
    (statuses, [good, narrow, expired])
}

fn field<'a>(e: &'a BTreeMap<String, String>, k: &str) -> Option<&'a str> {
    e.get(k).map(String::as_str)
}

#[test]
fn every_decision_is_one_info_event_with_stable_fields_and_no_credential() {
    let capture = CapturedEvents::default();
    let recorder = DebuggingRecorder::new();
    let (statuses, tokens) = run_script(&capture, &recorder);
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::OK,
            StatusCode::FORBIDDEN,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
        ]
    );
    let audit = audit_fields(&capture);
    type Row<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let summary: Vec<Row<'_>> = audit
        .iter()
        .map(|e| {
            (
                field(e, "method"),
                field(e, "outcome"),
                field(e, "reason"),
                field(e, "request_id"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some("bearer"),
                Some("failure"),
                Some("MISSING_CREDENTIALS"),
                Some("r-1")
            ),
            (Some("bearer"), Some("success"), None, Some("r-2")),
            (Some("scope"), Some("success"), None, Some("r-2")),
            (Some("bearer"), Some("success"), None, Some("r-3")),
            (
                Some("scope"),
                Some("failure"),
                Some("INSUFFICIENT_SCOPE"),
                Some("r-3")
            ),
            (
                Some("bearer"),
                Some("failure"),
                Some("TOKEN_EXPIRED"),
                Some("r-4")
            ),
            (
                Some("brute_force"),
                Some("failure"),
                Some("TOO_MANY_ATTEMPTS"),
                Some("r-7")
            ),
        ]
    );
    for e in &audit[..6] {
        assert_eq!(field(e, "route"), Some("/orders/{id}"), "{e:?}");
        assert_eq!(field(e, "client"), Some("198.51.100.7"), "{e:?}");
    }
    let login_block = &audit[6];
    assert_eq!(field(login_block, "route"), Some("/login"));
    assert_eq!(field(login_block, "client"), Some("198.51.100.7"));
    for e in [&audit[1], &audit[2], &audit[3], &audit[4]] {
        assert_eq!(field(e, "subject"), Some("alice"));
        assert_eq!(field(e, "issuer"), Some("https://issuer.test"));
    }
    assert_eq!(field(&audit[0], "subject"), None);

    // Nothing anywhere, at any level, carries a token, a signature or a raw path.
    let all = format!("{:?}", capture.events());
    for t in &tokens {
        assert!(!all.contains(t.as_str()));
        let signature = t.rsplit('.').next().unwrap();
        assert!(!all.contains(signature));
    }
    for e in &audit {
        let shown = format!("{e:?}");
        assert!(
            !shown.contains("4711") && !shown.contains("4713"),
            "{shown}"
        );
    }
}

type Snapshot = Vec<(
    metrics_util::CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

fn counter(snapshot: &Snapshot, metric: &str, labels: &[(&str, &str)]) -> u64 {
    snapshot
        .iter()
        .filter(|(key, ..)| key.key().name() == metric)
        .filter(|(key, ..)| {
            let mut have: Vec<(String, String)> = key
                .key()
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            have.sort();
            let mut want: Vec<(String, String)> = labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            want.sort();
            have == want
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => *n,
            DebugValue::Histogram(samples) => samples.len() as u64,
            DebugValue::Gauge(_) => panic!("no gauges are recorded"),
        })
        .sum()
}

#[test]
fn metrics_count_the_scripted_sequence() {
    let capture = CapturedEvents::default();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    run_script(&capture, &recorder);
    // One snapshot: taking one drains the histograms.
    let snapshot: Snapshot = snapshotter.snapshot().into_vec();
    let duration = name::AUTHENTICATION_DURATION;
    let bearer_failure = |code| {
        counter(
            &snapshot,
            duration,
            &[
                ("auth.method", "bearer"),
                ("auth.result", "failure"),
                ("error.type", code),
            ],
        )
    };
    assert_eq!(bearer_failure("MISSING_CREDENTIALS"), 1);
    assert_eq!(bearer_failure("TOKEN_EXPIRED"), 1);
    assert_eq!(
        counter(
            &snapshot,
            duration,
            &[("auth.method", "bearer"), ("auth.result", "success")]
        ),
        2
    );
    let attempts = name::AUTHORIZATION_ATTEMPTS;
    assert_eq!(
        counter(
            &snapshot,
            attempts,
            &[("auth.method", "scope"), ("auth.result", "success")]
        ),
        1
    );
    assert_eq!(
        counter(
            &snapshot,
            attempts,
            &[
                ("auth.method", "scope"),
                ("auth.result", "failure"),
                ("error.type", "INSUFFICIENT_SCOPE")
            ]
        ),
        1
    );
    assert_eq!(counter(&snapshot, name::BRUTE_FORCE_BLOCKS, &[]), 1);
    // No label carries a subject, an address, a path or a request id.
    for (key, ..) in &snapshot {
        for label in key.key().labels() {
            for bad in ["alice", "198.51.100.7", "/orders", "4711", "r-"] {
                assert!(!label.value().contains(bad), "{label:?}");
            }
        }
    }
}
