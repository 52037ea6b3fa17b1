//! Issue 20: DPoP (RFC 9449) on `BearerLayer`. Tokens bound to a key (`cnf.jkt`) with proofs
//! signed by real keys: accepted with a good proof; each proof check failing alone; replay;
//! the Bearer downgrade; per-issuer modes (off, allowed, required); `htu` behind a proxy with
//! the external origin configured; server nonces; an awaited and a failing one-time-use store;
//! the `WWW-Authenticate: DPoP` challenge with `algs`.
#![cfg(all(feature = "dpop", feature = "axum"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::clock::{Clock as _, UnixTime};
use auth_core::dpop::{
    DpopNonces, DpopVerifier, ExternalOrigin, MemoryOneTimeUseStore, OneTimeUseStore,
    access_token_hash, jwk_thumbprint,
};
use auth_core::jwt::Algorithm;
use auth_core::store::{StoreError, async_trait};
use auth_core::{ErrorCode, Principal};
use auth_test::{TestAuthority, TestKey};
use auth_tower::Rejection;
use auth_tower::bearer::{BearerLayer, Dpop, DpopMode};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt, service_fn};

const ORIGIN: &str = "https://api.example";

async fn echo(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let sub = req
        .extensions()
        .get::<Principal>()
        .map_or("anonymous".to_owned(), |p| p.subject().to_owned());
    Ok(Response::new(Full::new(Bytes::from(sub))))
}

/// A client's DPoP key and the thumbprint its tokens are bound to.
struct Client {
    key: TestKey,
    jkt: String,
}

fn client() -> Client {
    let key = TestKey::generate(Algorithm::ES256, "dpop-key").unwrap();
    let jkt = jwk_thumbprint(&key.public_jwk().unwrap()).unwrap();
    Client { key, jkt }
}

struct World {
    authority: TestAuthority,
    client: Client,
}

fn world() -> World {
    World {
        authority: TestAuthority::es256(),
        client: client(),
    }
}

impl World {
    fn bound_token(&self) -> String {
        self.authority
            .token()
            .subject("alice")
            .claim("cnf", json!({ "jkt": self.client.jkt }))
            .sign()
    }

    fn plain_token(&self) -> String {
        self.authority.token().subject("bob").sign()
    }

    fn now(&self) -> u64 {
        self.authority.clock().now().as_secs()
    }

    fn claims(&self, method: &str, htu: &str, token: &str, jti: &str) -> Value {
        json!({
            "jti": jti,
            "htm": method,
            "htu": htu,
            "iat": self.now(),
            "ath": access_token_hash(token),
        })
    }

    fn header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.client.key.public_jwk().unwrap() })
    }

    fn proof(&self, method: &str, htu: &str, token: &str, jti: &str) -> String {
        self.client
            .key
            .sign_compact(&self.header(), &self.claims(method, htu, token, jti))
    }

    fn dpop_verifier(&self) -> auth_core::dpop::DpopVerifierBuilder {
        DpopVerifier::builder().clock(self.authority.clock().clone())
    }

    fn dpop(&self) -> Dpop {
        Dpop::new(
            self.dpop_verifier().build().unwrap(),
            ExternalOrigin::parse(ORIGIN).unwrap(),
        )
    }

    fn layer(&self, dpop: Dpop) -> BearerLayer {
        BearerLayer::builder(self.authority.verifier())
            .dpop(dpop)
            .build()
            .unwrap()
    }
}

fn request(
    method: &str,
    path: &str,
    authorization: &str,
    proof: Option<&str>,
) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, authorization);
    if let Some(proof) = proof {
        b = b.header("dpop", proof);
    }
    b.body(Full::default()).unwrap()
}

/// `GET /orders` with `Authorization: DPoP <token>` and the `DPoP: <proof>` header.
async fn dpop_get(layer: &BearerLayer, token: &str, proof: &str) -> Response<Full<Bytes>> {
    send(
        layer,
        request("GET", "/orders", &format!("DPoP {token}"), Some(proof)),
    )
    .await
}

/// `GET /orders` with `Authorization: Bearer <token>` and no proof.
async fn bearer_get(layer: &BearerLayer, token: &str) -> Response<Full<Bytes>> {
    send(
        layer,
        request("GET", "/orders", &format!("Bearer {token}"), None),
    )
    .await
}

async fn send(layer: &BearerLayer, req: Request<Full<Bytes>>) -> Response<Full<Bytes>> {
    layer.layer(service_fn(echo)).oneshot(req).await.unwrap()
}

fn code(res: &Response<Full<Bytes>>) -> Option<ErrorCode> {
    res.extensions().get::<Rejection>().map(Rejection::code)
}

fn challenges(res: &Response<Full<Bytes>>) -> Vec<String> {
    res.headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn body(res: Response<Full<Bytes>>) -> String {
    use http_body_util::BodyExt as _;
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn a_bound_token_with_a_proof_of_its_key_is_accepted() {
    let w = world();
    let layer = w.layer(w.dpop());
    let token = w.bound_token();
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, "alice");
}

#[tokio::test]
async fn a_replayed_proof_is_refused_with_an_invalid_dpop_proof_challenge() {
    let w = world();
    let layer = w.layer(w.dpop());
    let token = w.bound_token();
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    let req = || request("GET", "/orders", &format!("DPoP {token}"), Some(&proof));
    assert_eq!(send(&layer, req()).await.status(), StatusCode::OK);
    let res = send(&layer, req()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof));
    assert_eq!(
        challenges(&res),
        [
            "DPoP realm=\"api\", algs=\"ES256 ES384 EdDSA RS256 PS256\", error=\"invalid_dpop_proof\", error_description=\"the dpop proof is invalid\""
        ]
    );
    assert!(body(res).await.contains("\"INVALID_DPOP_PROOF\""));
    // A new jti from the same key is a new proof.
    let fresh = w.proof("GET", "https://api.example/orders", &token, "j2");
    let res = dpop_get(&layer, &token, &fresh).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bound_token_presented_as_bearer_is_refused_with_dpop_on_or_off() {
    let w = world();
    let token = w.bound_token();
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    for layer in [
        w.layer(w.dpop()),
        w.layer(w.dpop().mode(DpopMode::Off)),
        BearerLayer::new(w.authority.verifier()),
    ] {
        // With or without the proof next to it: the scheme is the downgrade.
        for proof in [None, Some(proof.as_str())] {
            let res = send(
                &layer,
                request("GET", "/orders", &format!("Bearer {token}"), proof),
            )
            .await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(code(&res), Some(ErrorCode::InvalidToken));
        }
    }
    // The same token works as DPoP where DPoP is on: the refusal was about the scheme.
    let layer = w.layer(w.dpop());
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_proof_check_failing_alone_refuses_the_request() {
    let w = world();
    let token = w.bound_token();
    let htu = "https://api.example/orders";
    let other = client();
    let mut jwk_with_d = w.client.key.public_jwk().unwrap();
    jwk_with_d.insert("d".into(), json!("AAAA"));
    let sign = |header: Value, claims: Value| w.client.key.sign_compact(&header, &claims);
    let with = |name: &str, value: Value| {
        let mut c = w.claims("GET", htu, &token, "j");
        c[name] = value;
        sign(w.header(), c)
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "typ",
            sign(
                json!({"typ": "jwt", "alg": "ES256", "jwk": w.client.key.public_jwk()}),
                w.claims("GET", htu, &token, "j"),
            ),
        ),
        (
            "alg not in the list",
            sign(
                json!({"typ": "dpop+jwt", "alg": "ES512", "jwk": w.client.key.public_jwk()}),
                w.claims("GET", htu, &token, "j"),
            ),
        ),
        (
            "private jwk member",
            sign(
                json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk_with_d}),
                w.claims("GET", htu, &token, "j"),
            ),
        ),
        ("signature", {
            let p = w.proof("GET", htu, &token, "j");
            let (rest, sig) = p.rsplit_once('.').unwrap();
            let flipped = if sig.starts_with('A') { "B" } else { "A" };
            format!("{rest}.{flipped}{}", &sig[1..])
        }),
        ("htm", with("htm", json!("POST"))),
        (
            "htu host",
            with("htu", json!("https://evil.example/orders")),
        ),
        ("htu path", with("htu", json!("https://api.example/other"))),
        ("iat too old", with("iat", json!(w.now() - 61))),
        ("iat ahead", with("iat", json!(w.now() + 6))),
        (
            "ath",
            with("ath", json!(access_token_hash("another-token"))),
        ),
        ("no ath", {
            let mut c = w.claims("GET", htu, &token, "j");
            c.as_object_mut().unwrap().remove("ath");
            sign(w.header(), c)
        }),
        (
            "another key than cnf.jkt",
            other.key.sign_compact(
                &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": other.key.public_jwk()}),
                &w.claims("GET", htu, &token, "j"),
            ),
        ),
        ("not a jws", "not-a-proof".to_owned()),
    ];
    for (what, proof) in cases {
        // A fresh layer each time: no case is refused as a replay of another.
        let layer = w.layer(w.dpop());
        let res = dpop_get(&layer, &token, &proof).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof), "{what}");
        assert!(challenges(&res)[0].starts_with("DPoP "), "{what}");
    }
    // The baseline the cases depart from passes (so each refusal above is that check's).
    let layer = w.layer(w.dpop());
    let proof = w.proof("GET", htu, &token, "j");
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_dpop_authorization_without_a_proof_or_with_two_is_refused() {
    let w = world();
    let layer = w.layer(w.dpop());
    let token = w.bound_token();
    let res = send(
        &layer,
        request("GET", "/orders", &format!("DPoP {token}"), None),
    )
    .await;
    assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof));
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    let mut req = request("GET", "/orders", &format!("DPoP {token}"), Some(&proof));
    req.headers_mut()
        .append("dpop", HeaderValue::from_str(&proof).unwrap());
    let res = send(&layer, req).await;
    assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof));
}

#[tokio::test]
async fn required_mode_refuses_plain_bearer_tokens_and_challenges_dpop_only() {
    let w = world();
    let layer = w.layer(w.dpop().mode(DpopMode::Required));
    let res = bearer_get(&layer, &w.plain_token()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), Some(ErrorCode::InvalidToken));
    let c = challenges(&res);
    assert_eq!(c.len(), 1);
    assert!(c[0].starts_with("DPoP realm=\"api\", algs=\""), "{c:?}");
    // A request without credentials is challenged with DPoP only too.
    let req = Request::get("/orders").body(Full::default()).unwrap();
    let res = send(&layer, req).await;
    assert_eq!(code(&res), Some(ErrorCode::MissingCredentials));
    assert_eq!(
        challenges(&res),
        ["DPoP realm=\"api\", algs=\"ES256 ES384 EdDSA RS256 PS256\""]
    );
}

#[tokio::test]
async fn allowed_mode_accepts_plain_bearer_tokens_and_challenges_both_schemes() {
    let w = world();
    let layer = w.layer(w.dpop());
    let res = bearer_get(&layer, &w.plain_token()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, "bob");
    let req = Request::get("/orders").body(Full::default()).unwrap();
    let res = send(&layer, req).await;
    assert_eq!(
        challenges(&res),
        [
            "Bearer realm=\"api\"",
            "DPoP realm=\"api\", algs=\"ES256 ES384 EdDSA RS256 PS256\""
        ]
    );
}

#[tokio::test]
async fn a_token_without_cnf_jkt_presented_as_dpop_is_refused() {
    let w = world();
    let layer = w.layer(w.dpop());
    let token = w.plain_token();
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), Some(ErrorCode::InvalidToken));
}

#[tokio::test]
async fn modes_apply_per_issuer() {
    let w = world();
    let iss = w.authority.issuer().to_owned();
    let token = w.bound_token();
    let plain = w.plain_token();
    let proof = |jti: &str| w.proof("GET", "https://api.example/orders", &token, jti);

    // Required by default, allowed for this issuer: its plain tokens pass.
    let layer = w.layer(
        w.dpop()
            .mode(DpopMode::Required)
            .issuer_mode(&iss, DpopMode::Allowed),
    );
    let res = bearer_get(&layer, &plain).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Allowed by default, required for this issuer: its plain tokens are refused.
    let layer = w.layer(w.dpop().issuer_mode(&iss, DpopMode::Required));
    let res = bearer_get(&layer, &plain).await;
    assert_eq!(code(&res), Some(ErrorCode::InvalidToken));
    let res = send(
        &layer,
        request(
            "GET",
            "/orders",
            &format!("DPoP {token}"),
            Some(&proof("a")),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Allowed by default, off for this issuer: DPoP is refused, plain bearer passes.
    let layer = w.layer(w.dpop().issuer_mode(&iss, DpopMode::Off));
    let res = send(
        &layer,
        request(
            "GET",
            "/orders",
            &format!("DPoP {token}"),
            Some(&proof("b")),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), Some(ErrorCode::InvalidToken));
    let res = bearer_get(&layer, &plain).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn htu_is_rebuilt_from_the_external_origin_not_the_host_header() {
    let w = world();
    // The proxy forwards https://gateway.example/api/orders as http://10.0.0.7:8080/orders.
    let dpop = Dpop::new(
        w.dpop_verifier().build().unwrap(),
        ExternalOrigin::parse("https://gateway.example/api").unwrap(),
    );
    let layer = w.layer(dpop);
    let token = w.bound_token();
    let internal = |proof: &str| {
        let mut req = request(
            "GET",
            "/orders?page=2",
            &format!("DPoP {token}"),
            Some(proof),
        );
        req.headers_mut()
            .insert(header::HOST, HeaderValue::from_static("10.0.0.7:8080"));
        req
    };
    // A proof for what the client addressed (query ignored, default port and case normalised).
    let proof = w.proof(
        "GET",
        "https://Gateway.example:443/api/orders",
        &token,
        "j1",
    );
    assert_eq!(
        send(&layer, internal(&proof)).await.status(),
        StatusCode::OK
    );
    // A proof for the internal address the Host header names is refused.
    let proof = w.proof("GET", "http://10.0.0.7:8080/orders", &token, "j2");
    let res = send(&layer, internal(&proof)).await;
    assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof));
}

#[tokio::test]
async fn a_server_nonce_is_demanded_then_accepted() {
    let w = world();
    let nonces = DpopNonces::new([9u8; 32], Duration::from_secs(300)).unwrap();
    let dpop = Dpop::new(
        w.dpop_verifier().nonces(nonces).build().unwrap(),
        ExternalOrigin::parse(ORIGIN).unwrap(),
    );
    let layer = w.layer(dpop);
    let token = w.bound_token();
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), Some(ErrorCode::UseDpopNonce));
    assert!(challenges(&res)[0].contains("error=\"use_dpop_nonce\""));
    let nonce = res.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let mut claims = w.claims("GET", "https://api.example/orders", &token, "j2");
    claims["nonce"] = json!(nonce);
    let proof = w.client.key.sign_compact(&w.header(), &claims);
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A made-up nonce is asked to be replaced again.
    claims["nonce"] = json!("made-up");
    claims["jti"] = json!("j3");
    let proof = w.client.key.sign_compact(&w.header(), &claims);
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(code(&res), Some(ErrorCode::UseDpopNonce));
}

/// A store that must be awaited (as Redis must), counting its calls, optionally failing.
#[derive(Debug, Default)]
struct Awaited {
    inner: MemoryOneTimeUseStore,
    calls: AtomicUsize,
    fail: bool,
}

#[async_trait]
impl OneTimeUseStore for Awaited {
    async fn use_once(
        &self,
        key: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err(StoreError::new("down"));
        }
        self.inner.use_once(key, expires_at, now).await
    }
}

#[tokio::test]
async fn an_awaited_store_refuses_replays_and_a_failing_one_answers_503() {
    let w = world();
    let store = Arc::new(Awaited::default());
    let layer = w.layer(w.dpop().store(store.clone()));
    let token = w.bound_token();
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    let req = || request("GET", "/orders", &format!("DPoP {token}"), Some(&proof));
    assert_eq!(send(&layer, req()).await.status(), StatusCode::OK);
    let res = send(&layer, req()).await;
    assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof));
    assert_eq!(store.calls.load(Ordering::SeqCst), 2);

    let failing = Arc::new(Awaited {
        fail: true,
        ..Awaited::default()
    });
    let layer = w.layer(w.dpop().store(failing));
    let res = send(&layer, req()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&res), Some(ErrorCode::AuthBackendUnavailable));
}

#[tokio::test]
async fn the_proof_window_moves_with_the_injected_clock() {
    let w = world();
    let layer = w.layer(w.dpop());
    let token = w.bound_token();
    let proof = w.proof("GET", "https://api.example/orders", &token, "j1");
    w.authority.clock().advance(Duration::from_secs(61));
    let res = dpop_get(&layer, &token, &proof).await;
    assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof));
}
