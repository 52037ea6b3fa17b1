//! The benchmark table: what each layer costs per request next to a bare axum router, peer
//! crates and the jsonwebtoken floor, measured in one process.
//!
//! ```text
//! cargo build --release -p auth-bench && target/release/auth-bench           # the full table
//! cargo build --release -p auth-bench && target/release/auth-bench --quick   # smoke run
//! ```
//!
//! Every row is timed in batches (a batch lasts about 2 ms), and the rows take turns: one
//! batch of every row per round, the starting row rotating each round, over many rounds, so
//! drift of a shared machine hits every row alike. A row's cost is the median over rounds of
//! its nanoseconds per request; its overhead is the median over rounds of (row - reference
//! row) measured in the same round, where the reference is the bare router of the same axum
//! version. At the end the binary runs `auth-bench-memory` (built beside it) for the bytes
//! per stored item, counted by a counting global allocator in that separate process so the
//! timing rows pay no counting.

// A benchmark stops loudly when its fixtures fail; indexing is over rows built here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt::Debug;
use std::hint::black_box;
use std::net::{Ipv6Addr, SocketAddr};
use std::num::{NonZeroU32, NonZeroUsize};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_bench::{AUDIENCE, Fixture, HMAC_SECRET, ISSUER};
use auth_core::api_key::{ApiKeys, MemoryApiKeyStore, NewApiKey};
use auth_core::brute_force::{
    AttemptOutcome, AttemptStoreHousekeeping as _, BruteForceLimiter, BruteForcePolicy, ClientKey,
    MemoryAttemptStore,
};
use auth_core::clock::{Clock as _, ManualClock, UnixTime};
use auth_core::jwt::{JwtVerifier, TokenCache};
use auth_core::revocation::{MemoryRevocationStore, RevocationStore};
use auth_core::scope::Requirement;
use auth_tower::api_key::ApiKeyLayer;
use auth_tower::bearer::BearerLayer;
use auth_tower::brute_force::{BruteForceLayer, ClientAddr};
use auth_tower::scope::ScopeLayer;
use http::{HeaderValue, Request, Response, StatusCode, header};
use tokio::runtime::Runtime;
use tower::{Layer, Service, ServiceExt};

const MILLION: usize = 1_000_000;

/// Run settings: the full table or a quick smoke run.
#[derive(Clone, Copy, Debug)]
struct Mode {
    quick: bool,
    rounds: usize,
    batch: Duration,
    large: usize,
}

impl Mode {
    fn from_args() -> Self {
        let quick = std::env::args().any(|a| a == "--quick");
        let rounds = std::env::args()
            .skip_while(|a| a != "--rounds")
            .nth(1)
            .and_then(|r| r.parse().ok());
        if quick {
            Self {
                quick,
                rounds: rounds.unwrap_or(3),
                batch: Duration::from_micros(200),
                large: 10_000,
            }
        } else {
            Self {
                quick,
                rounds: rounds.unwrap_or(150),
                batch: Duration::from_millis(2),
                large: MILLION,
            }
        }
    }
}

/// Times `n` requests and returns how long they took.
type Runner = Box<dyn FnMut(u64) -> Duration>;

/// Which bare router a row's overhead is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reference {
    Axum08,
    Axum07,
    /// Floors: no router, so no overhead.
    None,
}

struct Row {
    section: &'static str,
    name: String,
    reference: Reference,
    run: Runner,
    iters: u64,
    samples: Vec<f64>,
}

struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn add(
        &mut self,
        section: &'static str,
        name: impl Into<String>,
        reference: Reference,
        run: Runner,
    ) {
        self.rows.push(Row {
            section,
            name: name.into(),
            reference,
            run,
            iters: 1,
            samples: Vec::new(),
        });
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.name == name)
    }
}

/// Drives `svc` with one fresh request per iteration, as a server hands them over: a clone of
/// the router, `oneshot`, status read.
fn drive<S, B, RB>(
    rt: &Rc<Runtime>,
    svc: S,
    mut make: impl FnMut() -> Request<B> + 'static,
) -> Runner
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + 'static,
    S::Error: Debug,
    B: 'static,
{
    let rt = Rc::clone(rt);
    Box::new(move |n| {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..n {
                let res = svc.clone().oneshot(make()).await.unwrap();
                black_box(res.status());
            }
            started.elapsed()
        })
    })
}

/// Sends one request and checks the status, so every row does the work it claims to.
fn expect<S, B, RB>(rt: &Runtime, svc: &S, req: Request<B>, status: StatusCode, what: &str)
where
    S: Service<Request<B>, Response = Response<RB>> + Clone,
    S::Error: Debug,
{
    let got = rt.block_on(svc.clone().oneshot(req)).unwrap().status();
    assert_eq!(got, status, "{what}");
}

fn get(authorization: &HeaderValue) -> Request<axum::body::Body> {
    let mut req = Request::new(axum::body::Body::empty());
    *req.uri_mut() = http::Uri::from_static("/me");
    req.headers_mut()
        .insert(header::AUTHORIZATION, authorization.clone());
    req
}

fn get07(authorization: &HeaderValue) -> Request<axum07::body::Body> {
    let mut req = Request::new(axum07::body::Body::empty());
    *req.uri_mut() = http::Uri::from_static("/me");
    req.headers_mut()
        .insert(header::AUTHORIZATION, authorization.clone());
    req
}

fn bearer_value(token: &str) -> HeaderValue {
    HeaderValue::try_from(format!("Bearer {token}")).unwrap()
}

fn router() -> axum::Router {
    axum::Router::new().route("/me", axum::routing::get(|| async { "me" }))
}

fn verifier(f: &Fixture) -> JwtVerifier {
    JwtVerifier::builder()
        .key(f.verification.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

fn cache(capacity: usize) -> TokenCache {
    TokenCache::new(
        NonZeroUsize::new(capacity).unwrap(),
        Duration::from_secs(300),
    )
}

/// The claims the peers deserialize (the same fields our principal carries).
#[derive(Clone, Debug, serde::Deserialize)]
#[allow(dead_code)]
struct PeerClaims {
    sub: String,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    jti: String,
    roles: Vec<String>,
    scope: String,
}

fn bearer_rows(t: &mut Table, rt: &Rc<Runtime>, fixtures: &[Fixture], mode: Mode) {
    for f in fixtures {
        let auth = bearer_value(&f.token);
        let cold = BearerLayer::new(verifier(f)).layer(router());
        expect(rt, &cold, get(&auth), StatusCode::OK, "cold bearer admits");
        let anonymous = Request::get("/me").body(axum::body::Body::empty()).unwrap();
        expect(
            rt,
            &cold,
            anonymous,
            StatusCode::UNAUTHORIZED,
            "bearer refuses",
        );
        let a = auth.clone();
        t.add(
            "bearer",
            format!("BearerLayer {} cold (no cache)", f.name),
            Reference::Axum08,
            drive(rt, cold, move || get(&a)),
        );

        let warm = BearerLayer::builder(verifier(f))
            .token_cache(cache(10_000))
            .build()
            .unwrap()
            .layer(router());
        expect(rt, &warm, get(&auth), StatusCode::OK, "warm bearer admits");
        let a = auth.clone();
        t.add(
            "bearer",
            format!("BearerLayer {} warm (cache hit)", f.name),
            Reference::Axum08,
            drive(rt, warm, move || get(&a)),
        );
    }

    // First sight of every token with the cache on: the miss path (verify + insert + evict).
    let f = &fixtures[0];
    let distinct = if mode.quick { 512 } else { 8192 };
    let tokens: Vec<HeaderValue> = (1..=distinct as u64)
        .map(|n| bearer_value(&f.token_for(n)))
        .collect();
    let miss = BearerLayer::builder(verifier(f))
        .token_cache(cache(64))
        .build()
        .unwrap()
        .layer(router());
    expect(
        rt,
        &miss,
        get(&tokens[0]),
        StatusCode::OK,
        "cache miss admits",
    );
    let mut i = 0;
    t.add(
        "bearer",
        "BearerLayer HS256 cold, cache on (miss: each token new)",
        Reference::Axum08,
        drive(rt, miss, move || {
            i = (i + 1) % tokens.len();
            get(&tokens[i])
        }),
    );
}

fn scope_rows(t: &mut Table, rt: &Rc<Runtime>, f: &Fixture) {
    let auth = bearer_value(&f.token);
    for warm in [false, true] {
        let mut b = BearerLayer::builder(verifier(f));
        if warm {
            b = b.token_cache(cache(10_000));
        }
        let svc = router()
            .layer(ScopeLayer::new(Requirement::scope("orders:read")))
            .layer(b.build().unwrap());
        expect(rt, &svc, get(&auth), StatusCode::OK, "scope admits");
        let a = auth.clone();
        let name = if warm {
            "ScopeLayer behind BearerLayer HS256 warm"
        } else {
            "ScopeLayer behind BearerLayer HS256 cold"
        };
        t.add(
            "scope",
            name,
            Reference::Axum08,
            drive(rt, svc, move || get(&a)),
        );
    }
    let refused = router()
        .layer(ScopeLayer::new(Requirement::scope("orders:delete")))
        .layer(BearerLayer::new(verifier(f)));
    expect(
        rt,
        &refused,
        get(&auth),
        StatusCode::FORBIDDEN,
        "scope refuses",
    );
}

fn revocation_rows(t: &mut Table, rt: &Rc<Runtime>, f: &Fixture, mode: Mode) {
    let auth = bearer_value(&f.token);
    let empty = Arc::new(MemoryRevocationStore::new());
    let full = Arc::new(MemoryRevocationStore::new());
    let until = UnixTime::from_secs(u64::from(u32::MAX));
    let started = Instant::now();
    rt.block_on(async {
        for i in 0..mode.large {
            let id = format!(
                "{:022x}",
                (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c)
            );
            full.revoke_token(Some(ISSUER), &id, until).await.unwrap();
        }
    });
    eprintln!(
        "revocation: {} revoked ids in {:.1?}",
        mode.large,
        started.elapsed()
    );
    for (store, n, warm) in [
        (&empty, 0, false),
        (&full, mode.large, false),
        (&empty, 0, true),
        (&full, mode.large, true),
    ] {
        let mut b = BearerLayer::builder(verifier(f))
            .revocation(Arc::clone(store) as Arc<dyn RevocationStore>);
        if warm {
            b = b.token_cache(cache(10_000));
        }
        let svc = b.build().unwrap().layer(router());
        expect(rt, &svc, get(&auth), StatusCode::OK, "revocation admits");
        let a = auth.clone();
        let state = if warm { "warm" } else { "cold" };
        t.add(
            "revocation",
            format!("BearerLayer HS256 {state} + revocation, {n} revoked"),
            Reference::Axum08,
            drive(rt, svc, move || get(&a)),
        );
    }
    // A revoked token is refused, cache or not.
    let revoked = f.token_for(99);
    let principal = verifier(f).verify_sync(&revoked).unwrap();
    rt.block_on(full.revoke_token(principal.issuer(), principal.token_id().unwrap(), until))
        .unwrap();
    let svc = BearerLayer::builder(verifier(f))
        .revocation(full)
        .token_cache(cache(16))
        .build()
        .unwrap()
        .layer(router());
    expect(
        rt,
        &svc,
        get(&bearer_value(&revoked)),
        StatusCode::UNAUTHORIZED,
        "revoked refused",
    );
}

/// How many distinct API keys the spread rows cycle through.
const SAMPLE: usize = 4096;

fn api_key_rows(t: &mut Table, rt: &Rc<Runtime>, mode: Mode) {
    /// `bench_live_` and 49 base62 characters.
    const KEY_LEN: usize = 60;
    // A store of SAMPLE keys, every one used in turn, isolates what the store's size adds
    // to a spread access pattern from what the pattern itself costs.
    for n in [1, SAMPLE, mode.large] {
        let keys = ApiKeys::builder(MemoryApiKeyStore::new())
            .prefix("bench_live")
            .usage_interval(Duration::from_secs(3600))
            .build()
            .unwrap();
        let every = (n / SAMPLE).max(1);
        let started = Instant::now();
        // The sampled keys, back to back in one buffer: each request's header value is a slice
        // of it, as hyper's header values are slices of its read buffer. (One allocation per
        // sampled value would add two cold cache lines per request that a server never pays.)
        let buffer: Vec<u8> = rt.block_on(async {
            let mut buffer = Vec::new();
            for i in 0..n {
                let new =
                    NewApiKey::new(format!("user-{}", i % 10_000), "bench").scopes(["orders:read"]);
                let created = keys.create(new).await.unwrap();
                if i % every == 0 && buffer.len() < SAMPLE * KEY_LEN {
                    let key = created.key.expose_secret().as_bytes();
                    assert_eq!(key.len(), KEY_LEN);
                    buffer.extend_from_slice(key);
                }
            }
            buffer
        });
        let buffer = bytes::Bytes::from(buffer);
        let sample: Vec<HeaderValue> = (0..buffer.len() / KEY_LEN)
            .map(|i| {
                HeaderValue::from_maybe_shared(buffer.slice(i * KEY_LEN..(i + 1) * KEY_LEN))
                    .unwrap()
            })
            .collect();
        eprintln!("api keys: stored {n} in {:.1?}", started.elapsed());
        // The default spawner (auth-tower's `tokio` feature) runs `last_used_at` writes on the
        // bench's runtime, as a server's would.
        let store = keys.store().clone();
        let hashes: Vec<_> = sample
            .iter()
            .map(|k| keys.hash(k.to_str().unwrap()))
            .collect();
        let layer = ApiKeyLayer::builder(keys).build().unwrap();
        let svc = router().layer(layer);
        let req = |k: &HeaderValue| {
            let mut req = Request::new(axum::body::Body::empty());
            *req.uri_mut() = http::Uri::from_static("/me");
            req.headers_mut().insert("x-api-key", k.clone());
            req
        };
        // Use every sampled key once and let the usage writes run, so each key's stored
        // `last_used_at` is fresh: the steady state (no write due, decided from the stored
        // time) is what gets measured.
        for k in &sample {
            expect(rt, &svc, req(k), StatusCode::OK, "api key admits");
        }
        rt.block_on(async {
            // The scheduler runs a few dozen spawned tasks per yield.
            while tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks()
                > 0
            {
                tokio::task::yield_now().await;
            }
        });
        for h in &hashes {
            let used = rt.block_on(store.find_by_hash(h)).unwrap().unwrap();
            assert!(used.last_used_at.is_some(), "usage write applied");
        }
        if n > SAMPLE {
            let same = sample[0].clone();
            t.add(
                "api key",
                format!("ApiKeyLayer, {n} stored keys, the same key each request"),
                Reference::Axum08,
                drive(rt, svc.clone(), move || req(&same)),
            );
        }
        let mut i = 0;
        let spread = match n {
            1 => "",
            SAMPLE => ", a different key each request (every one in turn)",
            _ => ", a different key each request",
        };
        t.add(
            "api key",
            format!("ApiKeyLayer, {n} stored keys{spread}"),
            Reference::Axum08,
            drive(rt, svc, move || {
                i = (i + 1) % sample.len();
                req(&sample[i])
            }),
        );
    }
}

fn brute_force_rows(t: &mut Table, rt: &Rc<Runtime>, mode: Mode) {
    // 16 attempts per second per client; the clock moves 0.2 s per request so the measured
    // client stays admitted (at most 10 attempts in any 2 s), and the other clients' records
    // (one failure each, kept for the 24 h decay period) stay tracked through the run.
    let policy = BruteForcePolicy::builder()
        .attempts_per_window(NonZeroU32::new(16).unwrap(), Duration::from_secs(1))
        .build()
        .unwrap();
    for n in [1, mode.large] {
        let clock = ManualClock::new(UnixTime::from_secs(1_800_000_000));
        let store = Arc::new(MemoryAttemptStore::with_max_keys(
            NonZeroUsize::new(n + 16).unwrap(),
        ));
        let limiter = BruteForceLimiter::builder(policy.clone())
            .store(Arc::clone(&store))
            .clock(clock.clone())
            .build()
            .unwrap();
        let started = Instant::now();
        rt.block_on(async {
            for i in 1..n {
                let client = ClientKey::from_ip(Ipv6Addr::from((i as u128) << 64).into());
                limiter.check(&client).await.unwrap();
                limiter
                    .record_outcome(&client, None, AttemptOutcome::Failure)
                    .await
                    .unwrap();
            }
        });
        // The fill happened at one instant; let the time pass that the clients' windows take
        // and run the periodic housekeeping a server runs (the demo: every 60 s), so the
        // measured requests do not pay for the fill's deferred wheel work.
        clock.advance(Duration::from_secs(60));
        store.purge_expired(clock.now());
        let peer: SocketAddr = "203.0.113.7:50000".parse().unwrap();
        let svc = router().layer(BruteForceLayer::new(limiter));
        let make = move || {
            let mut req = Request::new(axum::body::Body::empty());
            *req.uri_mut() = http::Uri::from_static("/me");
            req.extensions_mut().insert(ClientAddr(peer));
            clock.advance(Duration::from_millis(200));
            req
        };
        expect(rt, &svc, make(), StatusCode::OK, "brute force admits");
        eprintln!(
            "brute force: tracking {} clients (filled in {:.1?})",
            store.len(),
            started.elapsed()
        );
        t.add(
            "brute force",
            format!("BruteForceLayer, {n} tracked clients"),
            Reference::Axum08,
            drive(rt, svc, make),
        );
    }
}

fn peer_rows(t: &mut Table, rt: &Rc<Runtime>, fixtures: &[Fixture]) {
    // tower-http: a static bearer token compared with the header (no JWT at all).
    let f = &fixtures[0];
    let auth = bearer_value(&f.token);
    // Deprecated in tower-http 0.6 ("too basic"), and still its bearer check.
    #[allow(deprecated)]
    let layer = tower_http::validate_request::ValidateRequestHeaderLayer::bearer(&f.token);
    let svc = router().layer(layer);
    expect(rt, &svc, get(&auth), StatusCode::OK, "tower-http admits");
    let a = auth.clone();
    t.add(
        "peers",
        "tower-http ValidateRequestHeaderLayer::bearer (static token compare, HS256 token)",
        Reference::Axum08,
        drive(rt, svc, move || get(&a)),
    );

    // axum-jwt-auth 0.7 (jsonwebtoken 10, rust_crypto backend): an extractor over state.
    for f in fixtures {
        use jsonwebtoken10::{Algorithm as A, DecodingKey, Validation};
        let alg = match f.name {
            "HS256" => A::HS256,
            "RS256" => A::RS256,
            "ES256" => A::ES256,
            _ => A::EdDSA,
        };
        let key = match (&f.public_pem, alg) {
            (None, _) => DecodingKey::from_secret(HMAC_SECRET.as_bytes()),
            (Some(p), A::RS256) => DecodingKey::from_rsa_pem(p.as_bytes()).unwrap(),
            (Some(p), A::ES256) => DecodingKey::from_ec_pem(p.as_bytes()).unwrap(),
            (Some(p), _) => DecodingKey::from_ed_pem(p.as_bytes()).unwrap(),
        };
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = 30;
        let decoder: axum_jwt_auth::Decoder<PeerClaims> = Arc::new(
            axum_jwt_auth::LocalDecoder::builder()
                .keys(vec![key])
                .validation(validation)
                .build()
                .unwrap(),
        );
        let svc = axum::Router::new()
            .route(
                "/me",
                axum::routing::get(|c: axum_jwt_auth::Claims<PeerClaims>| async move {
                    black_box(c.claims);
                    "me"
                }),
            )
            .with_state(decoder);
        let auth = bearer_value(&f.token);
        expect(rt, &svc, get(&auth), StatusCode::OK, "axum-jwt-auth admits");
        let anonymous = Request::get("/me").body(axum::body::Body::empty()).unwrap();
        expect(
            rt,
            &svc,
            anonymous,
            StatusCode::UNAUTHORIZED,
            "axum-jwt-auth refuses",
        );
        t.add(
            "peers",
            format!("axum-jwt-auth 0.7 {}", f.name),
            Reference::Axum08,
            drive(rt, svc, move || get(&auth)),
        );
    }

    // jwt-authorizer 0.15 (axum 0.7, jsonwebtoken 9): a layer over an axum 0.7 router.
    let bare07 = axum07::Router::new().route("/me", axum07::routing::get(|| async { "me" }));
    let a = bearer_value(&fixtures[0].token);
    expect(rt, &bare07, get07(&a), StatusCode::OK, "bare axum 0.7");
    t.add(
        "bare",
        "bare axum 0.7 router (reference of the jwt-authorizer rows)",
        Reference::None,
        drive(rt, bare07, move || get07(&a)),
    );
    for f in fixtures {
        use jwt_authorizer::{IntoLayer, JwtAuthorizer, JwtClaims, Validation};
        let builder = match (f.name, &f.public_pem) {
            ("HS256", _) | (_, None) => JwtAuthorizer::<PeerClaims>::from_secret(HMAC_SECRET),
            ("RS256", Some(p)) => JwtAuthorizer::from_rsa_pem_text(p),
            ("ES256", Some(p)) => JwtAuthorizer::from_ec_pem_text(p),
            (_, Some(p)) => JwtAuthorizer::from_ed_pem_text(p),
        };
        let authorizer = rt
            .block_on(
                builder
                    .validation(Validation::new().iss(&[ISSUER]).aud(&[AUDIENCE]).leeway(30))
                    .build(),
            )
            .unwrap();
        let svc = axum07::Router::new()
            .route(
                "/me",
                axum07::routing::get(|JwtClaims(c): JwtClaims<PeerClaims>| async move {
                    black_box(c);
                    "me"
                }),
            )
            .layer(authorizer.into_layer());
        let auth = bearer_value(&f.token);
        expect(
            rt,
            &svc,
            get07(&auth),
            StatusCode::OK,
            "jwt-authorizer admits",
        );
        let anonymous = Request::get("/me")
            .body(axum07::body::Body::empty())
            .unwrap();
        expect(
            rt,
            &svc,
            anonymous,
            StatusCode::UNAUTHORIZED,
            "jwt-authorizer refuses",
        );
        t.add(
            "peers",
            format!("jwt-authorizer 0.15 {} (axum 0.7)", f.name),
            Reference::Axum07,
            drive(rt, svc, move || get07(&auth)),
        );
    }
}

fn floor_rows(t: &mut Table, fixtures: &[Fixture]) {
    for f in fixtures {
        let token = f.token.clone();
        let key = f.decoding();
        let validation = f.validation();
        jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
        t.add(
            "floor",
            format!("jsonwebtoken::decode {} alone (aws-lc-rs)", f.name),
            Reference::None,
            Box::new(move |n| {
                let started = Instant::now();
                for _ in 0..n {
                    black_box(
                        jsonwebtoken::decode::<serde_json::Value>(
                            black_box(&token),
                            &key,
                            &validation,
                        )
                        .unwrap(),
                    );
                }
                started.elapsed()
            }),
        );
    }
    let f = &fixtures[0];
    let (input, _) = f.token.rsplit_once('.').unwrap();
    let input = input.to_owned();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, HMAC_SECRET.as_bytes());
    t.add(
        "floor",
        "HMAC-SHA256 over the signing input alone (aws-lc-rs, key prepared)",
        Reference::None,
        Box::new(move |n| {
            let started = Instant::now();
            for _ in 0..n {
                black_box(aws_lc_rs::hmac::sign(&key, black_box(input.as_bytes())));
            }
            started.elapsed()
        }),
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let mode = Mode::from_args();
    let rt = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    );
    let fixtures = auth_bench::all();
    for f in &fixtures {
        eprintln!("{}: token is {} bytes", f.name, f.token.len());
    }
    let mut t = Table { rows: Vec::new() };

    let a = bearer_value(&fixtures[0].token);
    t.add(
        "bare",
        "bare axum 0.8 router (reference)",
        Reference::None,
        drive(&rt, router(), move || get(&a)),
    );
    bearer_rows(&mut t, &rt, &fixtures, mode);
    scope_rows(&mut t, &rt, &fixtures[0]);
    revocation_rows(&mut t, &rt, &fixtures[0], mode);
    api_key_rows(&mut t, &rt, mode);
    brute_force_rows(&mut t, &rt, mode);
    peer_rows(&mut t, &rt, &fixtures);
    floor_rows(&mut t, &fixtures);

    // `--only TEXT`: keep the reference rows and the rows whose name contains TEXT (profiling).
    if let Some(only) = std::env::args().skip_while(|a| a != "--only").nth(1) {
        t.rows
            .retain(|r| r.section == "bare" || r.name.contains(&only));
    }

    // Calibrate: iterations per batch so that one batch lasts about `mode.batch`.
    for row in &mut t.rows {
        let mut n = 1u64;
        loop {
            let took = (row.run)(n);
            if took >= mode.batch / 4 || n >= 1 << 24 {
                let per = took.as_secs_f64() / n as f64;
                row.iters = ((mode.batch.as_secs_f64() / per) as u64).max(1);
                break;
            }
            n *= 2;
        }
    }

    let started = Instant::now();
    let count = t.rows.len();
    for round in 0..mode.rounds {
        for k in 0..count {
            let row = &mut t.rows[(round + k) % count];
            let took = (row.run)(row.iters);
            row.samples.push(took.as_nanos() as f64 / row.iters as f64);
        }
    }
    eprintln!(
        "{} rounds of {count} rows in {:.1?}",
        mode.rounds,
        started.elapsed()
    );

    print_table(&mut t, mode);
    if std::env::args().all(|a| a != "--only") {
        run_memory(mode);
    }
}

struct Summary {
    median: f64,
    overhead: Option<f64>,
}

fn summarize(t: &Table) -> Vec<Summary> {
    let bare08 = t.find("bare axum 0.8 router (reference)").unwrap();
    let bare07 = t
        .rows
        .iter()
        .position(|r| r.name.starts_with("bare axum 0.7"));
    t.rows
        .iter()
        .map(|row| {
            let reference = match row.reference {
                Reference::Axum08 => Some(bare08),
                Reference::Axum07 => bare07,
                Reference::None => None,
            };
            let overhead = reference.map(|r| {
                let mut diffs: Vec<f64> = row
                    .samples
                    .iter()
                    .zip(&t.rows[r].samples)
                    .map(|(a, b)| a - b)
                    .collect();
                median(&mut diffs)
            });
            Summary {
                median: median(&mut row.samples.clone()),
                overhead,
            }
        })
        .collect()
}

fn print_table(t: &mut Table, mode: Mode) {
    let s = summarize(t);
    let bare08 = s[t.find("bare axum 0.8 router (reference)").unwrap()].median;
    println!();
    println!(
        "auth-bench: {} rounds, {} cores, {}medians over rounds",
        mode.rounds,
        std::thread::available_parallelism().map_or(0, NonZeroUsize::get),
        if mode.quick {
            "QUICK MODE (smoke run, figures meaningless), "
        } else {
            ""
        },
    );
    println!();
    println!("| section | row | ns/request | overhead over bare (ns) | ratio to bare axum 0.8 |");
    println!("|---|---|---:|---:|---:|");
    for (row, s) in t.rows.iter().zip(&s) {
        let overhead = s
            .overhead
            .map_or_else(|| "-".to_owned(), |o| format!("{o:.0}"));
        println!(
            "| {} | {} | {:.0} | {} | {:.2} |",
            row.section,
            row.name,
            s.median,
            overhead,
            s.median / bare08
        );
    }
    if std::env::args().all(|a| a != "--only") {
        targets(t, &s);
    }
}

/// The issue's targets, judged from this run's figures.
fn targets(t: &Table, s: &[Summary]) {
    let get =
        |name: &str| -> &Summary { &s[t.find(name).unwrap_or_else(|| panic!("no row {name}"))] };
    let ov = |name: &str| get(name).overhead.unwrap();
    let floor = |alg: &str| get(&format!("jsonwebtoken::decode {alg} alone (aws-lc-rs)")).median;
    let mut lines: Vec<(bool, String)> = Vec::new();
    let mut check = |ok: bool, text: String| lines.push((ok, text));

    let hs_cold = ov("BearerLayer HS256 cold (no cache)");
    check(
        hs_cold <= 0.75 * floor("HS256"),
        format!(
            "cold HS256 overhead {hs_cold:.0} ns <= 0.75 x decode {:.0} ns = {:.0} ns",
            floor("HS256"),
            0.75 * floor("HS256")
        ),
    );
    let peers: Vec<(String, f64)> = t
        .rows
        .iter()
        .zip(s)
        .filter(|(r, _)| {
            r.section == "peers" && r.name.contains("HS256") && !r.name.starts_with("tower-http")
        })
        .map(|(r, s)| (r.name.clone(), s.overhead.unwrap()))
        .collect();
    for (name, o) in &peers {
        check(
            hs_cold < *o,
            format!("cold HS256 overhead {hs_cold:.0} ns < {name} overhead {o:.0} ns"),
        );
    }
    for alg in ["RS256", "ES256", "EdDSA"] {
        let o = ov(&format!("BearerLayer {alg} cold (no cache)"));
        check(
            o <= 1.1 * floor(alg),
            format!(
                "cold {alg} overhead {o:.0} ns <= 1.1 x decode {:.0} ns",
                floor(alg)
            ),
        );
    }
    for alg in ["HS256", "RS256", "ES256", "EdDSA"] {
        let o = ov(&format!("BearerLayer {alg} warm (cache hit)"));
        check(
            o <= 500.0,
            format!("warm {alg} overhead {o:.0} ns <= 500 ns"),
        );
    }
    let large = t
        .rows
        .iter()
        .filter_map(|r| {
            r.name
                .strip_prefix("ApiKeyLayer, ")
                .and_then(|n| n.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
        })
        .max()
        .unwrap_or(MILLION)
        .to_string();
    let api1 = ov("ApiKeyLayer, 1 stored keys");
    let api_n = ov(&format!(
        "ApiKeyLayer, {large} stored keys, the same key each request"
    ));
    let api_spread = ov(&format!(
        "ApiKeyLayer, {large} stored keys, a different key each request"
    ));
    let scope =
        ov("ScopeLayer behind BearerLayer HS256 warm") - ov("BearerLayer HS256 warm (cache hit)");
    let bf1 = ov("BruteForceLayer, 1 tracked clients");
    let bf_n = ov(&format!("BruteForceLayer, {large} tracked clients"));
    check(
        api1 < hs_cold,
        format!("ApiKeyLayer overhead {api1:.0} ns < cold HS256 {hs_cold:.0} ns"),
    );
    check(
        scope < hs_cold,
        format!(
            "ScopeLayer marginal cost {scope:.0} ns (warm bearer + scope - warm bearer) < cold HS256 {hs_cold:.0} ns"
        ),
    );
    check(
        bf1 < hs_cold,
        format!("BruteForceLayer overhead {bf1:.0} ns < cold HS256 {hs_cold:.0} ns"),
    );
    check(
        api_n <= 1.2 * api1,
        format!(
            "ApiKeyLayer {large} keys (the same key) overhead {api_n:.0} ns <= 1.2 x 1 key {api1:.0} ns (ratio {:.2})",
            api_n / api1
        ),
    );
    check(
        api_spread <= 1.2 * api1,
        format!(
            "ApiKeyLayer {large} keys (a different key each request) overhead {api_spread:.0} ns <= 1.2 x 1 key {api1:.0} ns (ratio {:.2})",
            api_spread / api1
        ),
    );
    let small_spread = ov(&format!(
        "ApiKeyLayer, {SAMPLE} stored keys, a different key each request (every one in turn)"
    ));
    check(
        api_spread <= 1.2 * small_spread,
        format!(
            "ApiKeyLayer {large} keys overhead {api_spread:.0} ns <= 1.2 x {SAMPLE} keys {small_spread:.0} ns, a different key each request in both (ratio {:.2})",
            api_spread / small_spread
        ),
    );
    check(
        bf_n <= 1.2 * bf1,
        format!(
            "BruteForceLayer {large} clients overhead {bf_n:.0} ns <= 1.2 x 1 client {bf1:.0} ns (ratio {:.2})",
            bf_n / bf1
        ),
    );
    for state in ["cold", "warm"] {
        let r0 = ov(&format!(
            "BearerLayer HS256 {state} + revocation, 0 revoked"
        ));
        let rn = ov(&format!(
            "BearerLayer HS256 {state} + revocation, {large} revoked"
        ));
        check(
            rn <= 1.2 * r0,
            format!(
                "{state} bearer + revocation {large} revoked {rn:.0} ns <= 1.2 x 0 revoked {r0:.0} ns (ratio {:.2})",
                rn / r0
            ),
        );
    }
    println!();
    println!("Targets (from this run):");
    for (ok, text) in lines {
        println!("- [{}] {text}", if ok { "met" } else { "MISSED" });
    }
}

/// Runs the memory rows in their own process (a counting allocator would tax every timing
/// row here).
fn run_memory(mode: Mode) {
    let exe = std::env::current_exe()
        .unwrap()
        .with_file_name("auth-bench-memory");
    if !exe.exists() {
        println!();
        println!(
            "(memory rows: build them with `cargo build --release -p auth-bench` and run again)"
        );
        return;
    }
    let mut cmd = std::process::Command::new(exe);
    if mode.quick {
        cmd.arg("--quick");
    }
    let status = cmd.status().unwrap();
    assert!(status.success(), "auth-bench-memory failed");
}
