//! The demo's API key contract: management routes, hash-only storage, and keys accepted on the
//! orders routes next to bearer tokens.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use auth_core::api_key::{ApiKeys, MemoryApiKeyStore};
use auth_core::clock::{Clock, ManualClock};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use axum::body::Body;
use demo_server::Demo;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &[u8] = b"demo api key tests secret, 32 bytes or more";
const ISS: &str = "auth-demo";
const AUD: &str = "auth-demo-api";

struct Env {
    app: axum::Router,
    store: MemoryApiKeyStore,
    clock: ManualClock,
}

fn env() -> Env {
    let verifier = JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .issuer(ISS)
        .audience(AUD)
        .build()
        .unwrap();
    let store = MemoryApiKeyStore::new();
    let clock = ManualClock::starting_now();
    let mut demo = Demo::new(verifier).unwrap();
    demo.api_keys = ApiKeys::builder(store.clone())
        .prefix("demo_live")
        .clock(clock.clone())
        .build()
        .unwrap();
    Env {
        app: demo_server::app_with(demo).unwrap(),
        store,
        clock,
    }
}

/// `demo-user`: role `user`, scope `read:orders`.
fn user() -> String {
    demo_server::demo_token(SECRET, ISS, AUD).unwrap()
}

/// `demo-admin`: role `admin`, scopes `read:orders write:orders`.
fn admin() -> String {
    demo_server::demo_admin_token(SECRET, ISS, AUD).unwrap()
}

enum Auth<'a> {
    None,
    Bearer(&'a str),
    Key(&'a str),
    Both(&'a str, &'a str),
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
}

impl Env {
    async fn call(&self, method: &str, uri: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        let mut req = http::Request::builder().method(method).uri(uri);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header("authorization", format!("Bearer {t}")),
            Auth::Key(k) => req = req.header("x-api-key", k),
            Auth::Both(t, k) => {
                req = req
                    .header("authorization", format!("Bearer {t}"))
                    .header("x-api-key", k);
            }
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn create(&self, token: &str, body: Value) -> Reply {
        self.call("POST", "/api/keys", Auth::Bearer(token), Some(body))
            .await
    }

    /// Creates a key with `read:orders` for `demo-user` and returns (id, plaintext).
    async fn reader_key(&self) -> (String, String) {
        let r = self
            .create(&user(), json!({"name": "ci", "scopes": ["read:orders"]}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        (
            r.body["id"].as_str().unwrap().to_owned(),
            r.body["api_key"].as_str().unwrap().to_owned(),
        )
    }

    async fn orders(&self, auth: Auth<'_>) -> Reply {
        self.call("GET", "/api/orders", auth, None).await
    }
}

fn code(r: &Reply) -> &str {
    r.body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn creating_a_key_returns_it_once_in_the_documented_shape() {
    let e = env();
    let r = e
        .create(
            &user(),
            json!({"name": "nightly", "scopes": ["read:orders"], "expires_in": 3600}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.headers["cache-control"], "no-store");
    let obj = r.body.as_object().unwrap();
    let mut fields: Vec<_> = obj.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["api_key", "expires_at", "id", "name", "scopes"]);
    let key = r.body["api_key"].as_str().unwrap();
    assert!(key.starts_with("demo_live_"));
    assert_eq!(key.len(), "demo_live_".len() + 49);
    assert_eq!(r.body["name"], "nightly");
    assert_eq!(r.body["scopes"], json!(["read:orders"]));
    assert_eq!(r.body["expires_at"], e.clock.now().as_secs() + 3600);
    let never = e
        .create(&user(), json!({"name": "forever", "scopes": []}))
        .await;
    assert_eq!(never.body["expires_at"], Value::Null);
}

#[tokio::test]
async fn the_store_holds_digests_never_plaintexts() {
    let e = env();
    let (_, key) = e.reader_key().await;
    let dump = format!(
        "{:?}{}",
        e.store.records(),
        serde_json::to_string(&e.store.records()).unwrap()
    );
    assert!(!dump.contains(&key));
    assert!(!dump.contains(&key["demo_live_".len()..]));
    assert_eq!(e.store.len(), 1);
}

#[tokio::test]
async fn a_key_can_only_carry_scopes_its_creator_holds() {
    let e = env();
    let r = e
        .create(
            &user(),
            json!({"name": "ci", "scopes": ["read:orders", "write:orders"]}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(code(&r), "INSUFFICIENT_SCOPE");
    assert_eq!(r.body["error"]["required"], json!(["write:orders"]));
    assert!(e.store.is_empty());
    let ok = e
        .create(
            &admin(),
            json!({"name": "ci", "scopes": ["read:orders", "write:orders"]}),
        )
        .await;
    assert_eq!(ok.status, 201);
}

#[tokio::test]
async fn key_management_needs_a_bearer_token_not_a_key() {
    let e = env();
    let (_, key) = e.reader_key().await;
    let r = e
        .call(
            "POST",
            "/api/keys",
            Auth::None,
            Some(json!({"name": "x", "scopes": []})),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(code(&r), "MISSING_CREDENTIALS");
    let r = e.call("GET", "/api/keys", Auth::Key(&key), None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn bad_bodies_are_400_invalid_request() {
    let e = env();
    for body in [
        json!({"name": "", "scopes": []}),
        json!({"name": "x\u{7}", "scopes": []}),
        json!({"name": "x", "scopes": ["has space"]}),
        json!({"name": "x", "scopes": [], "expires_in": 0}),
        json!({"name": "x", "scopes": [], "expires_in": -5}),
        json!({"name": "x", "scopes": [], "role": "admin"}),
        json!({"scopes": []}),
        json!("not an object"),
    ] {
        let r = e.create(&user(), body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(code(&r), "INVALID_REQUEST", "{body}");
    }
    assert!(e.store.is_empty());
}

#[tokio::test]
async fn a_key_authenticates_the_orders_route_with_its_scopes() {
    let e = env();
    let (_, key) = e.reader_key().await;
    let r = e.orders(Auth::Key(&key)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["subject"], "demo-user");
    // The bearer token keeps working on the same route.
    assert_eq!(e.orders(Auth::Bearer(&user())).await.status, 200);
}

#[tokio::test]
async fn a_key_without_the_scope_is_403_challenging_the_api_key_scheme() {
    let e = env();
    let r = e
        .create(
            &admin(),
            json!({"name": "writer", "scopes": ["write:orders"]}),
        )
        .await;
    let key = r.body["api_key"].as_str().unwrap();
    let r = e.orders(Auth::Key(key)).await;
    assert_eq!(r.status, 403);
    assert_eq!(code(&r), "INSUFFICIENT_SCOPE");
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("ApiKey realm=\"auth-demo\", error=\"insufficient_scope\"")
    );
}

#[tokio::test]
async fn an_anonymous_orders_request_is_challenged_for_both_schemes() {
    let e = env();
    let r = e.orders(Auth::None).await;
    assert_eq!(r.status, 401);
    assert_eq!(code(&r), "MISSING_CREDENTIALS");
    let challenges: Vec<_> = r
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        challenges,
        // Issue 20: each challenge names the API's RFC 9728 metadata.
        [
            "Bearer realm=\"auth-demo\", resource_metadata=\"http://127.0.0.1:3000/.well-known/oauth-protected-resource/api\"",
            "ApiKey realm=\"auth-demo\", resource_metadata=\"http://127.0.0.1:3000/.well-known/oauth-protected-resource/api\""
        ]
    );
}

#[tokio::test]
async fn a_mistyped_key_is_invalid_and_never_echoed() {
    let e = env();
    let (_, key) = e.reader_key().await;
    let mut typo = key.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == '0' { '1' } else { '0' });
    let r = e.orders(Auth::Key(&typo)).await;
    assert_eq!(r.status, 401);
    assert_eq!(code(&r), "INVALID_API_KEY");
    assert!(!r.body.to_string().contains(&typo));
}

#[tokio::test]
async fn bearer_and_key_together_are_400() {
    let e = env();
    let (_, key) = e.reader_key().await;
    let r = e.orders(Auth::Both(&user(), &key)).await;
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "INVALID_REQUEST");
}

#[tokio::test]
async fn listing_shows_only_the_callers_keys_without_secrets() {
    let e = env();
    let (id, key) = e.reader_key().await;
    e.create(&admin(), json!({"name": "admin key", "scopes": []}))
        .await;
    let r = e
        .call("GET", "/api/keys", Auth::Bearer(&user()), None)
        .await;
    assert_eq!(r.status, 200);
    let keys = r.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], id);
    assert_eq!(keys[0]["name"], "ci");
    assert_eq!(keys[0]["status"], "active");
    assert_eq!(keys[0]["scopes"], json!(["read:orders"]));
    let text = r.body.to_string();
    assert!(!text.contains(&key));
    assert!(!text.contains("hash"));
    let digest = e.store.records()[0].hash.to_hex();
    assert!(!text.contains(&digest));
}

#[tokio::test]
async fn last_use_is_recorded_and_shown_in_the_listing() {
    let e = env();
    let (_, key) = e.reader_key().await;
    for _ in 0..5 {
        assert_eq!(e.orders(Auth::Key(&key)).await.status, 200);
    }
    // The write was spawned off the request path; let it run.
    tokio::task::yield_now().await;
    let r = e
        .call("GET", "/api/keys", Auth::Bearer(&user()), None)
        .await;
    assert_eq!(r.body["keys"][0]["last_used_at"], e.clock.now().as_secs());
}

#[tokio::test]
async fn only_the_owner_can_revoke_and_revoked_keys_are_rejected() {
    let e = env();
    let (id, key) = e.reader_key().await;
    let path = format!("/api/keys/{id}");
    let r = e.call("DELETE", &path, Auth::Bearer(&admin()), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(code(&r), "NOT_FOUND");
    let r = e
        .call("DELETE", "/api/keys/nope", Auth::Bearer(&user()), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(e.orders(Auth::Key(&key)).await.status, 200);

    let r = e.call("DELETE", &path, Auth::Bearer(&user()), None).await;
    assert_eq!(r.status, 204);
    let r = e.orders(Auth::Key(&key)).await;
    assert_eq!(r.status, 401);
    assert_eq!(code(&r), "API_KEY_REVOKED");
    // Idempotent.
    let r = e.call("DELETE", &path, Auth::Bearer(&user()), None).await;
    assert_eq!(r.status, 204);
    let r = e
        .call("GET", "/api/keys", Auth::Bearer(&user()), None)
        .await;
    assert_eq!(r.body["keys"][0]["status"], "revoked");
}

#[tokio::test]
async fn rotation_returns_a_new_key_and_the_old_one_works_for_the_grace_period() {
    let e = env();
    let (id, old) = e.reader_key().await;
    let path = format!("/api/keys/{id}/rotate");
    let r = e
        .call(
            "POST",
            &path,
            Auth::Bearer(&user()),
            Some(json!({"grace_seconds": 120})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.headers["cache-control"], "no-store");
    let mut fields: Vec<_> = r.body.as_object().unwrap().keys().cloned().collect();
    fields.sort_unstable();
    assert_eq!(fields, ["api_key", "expires_at", "id", "name", "scopes"]);
    assert_ne!(r.body["id"], id);
    assert_eq!(r.body["name"], "ci");
    assert_eq!(r.body["scopes"], json!(["read:orders"]));
    let new = r.body["api_key"].as_str().unwrap().to_owned();

    e.clock.advance(Duration::from_secs(119));
    assert_eq!(e.orders(Auth::Key(&old)).await.status, 200);
    assert_eq!(e.orders(Auth::Key(&new)).await.status, 200);
    e.clock.advance(Duration::from_secs(1));
    let r = e.orders(Auth::Key(&old)).await;
    assert_eq!(r.status, 401);
    assert_eq!(code(&r), "API_KEY_EXPIRED");
    assert_eq!(e.orders(Auth::Key(&new)).await.status, 200);

    // The old key cannot be rotated again.
    let r = e
        .call(
            "POST",
            &path,
            Auth::Bearer(&user()),
            Some(json!({"grace_seconds": 0})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(code(&r), "API_KEY_NOT_ACTIVE");
}

#[tokio::test]
async fn rotation_is_only_for_the_owner_and_needs_a_grace_period() {
    let e = env();
    let (id, _) = e.reader_key().await;
    let path = format!("/api/keys/{id}/rotate");
    let r = e
        .call(
            "POST",
            &path,
            Auth::Bearer(&admin()),
            Some(json!({"grace_seconds": 0})),
        )
        .await;
    assert_eq!(r.status, 404);
    for body in [json!({}), json!({"grace_seconds": 31 * 24 * 3600})] {
        let r = e
            .call("POST", &path, Auth::Bearer(&user()), Some(body))
            .await;
        assert_eq!(r.status, 400);
    }
}

#[tokio::test]
async fn rotation_needs_the_scopes_the_key_carries() {
    let e = env();
    let r = e
        .create(
            &admin(),
            json!({"name": "writer", "scopes": ["write:orders"]}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap();
    // Same subject, fewer scopes now.
    let weaker =
        demo_server::demo_token_for(SECRET, ISS, AUD, "demo-admin", &["admin"], "").unwrap();
    let r = e
        .call(
            "POST",
            &format!("/api/keys/{id}/rotate"),
            Auth::Bearer(&weaker),
            Some(json!({"grace_seconds": 10})),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"]["required"], json!(["write:orders"]));
}

#[tokio::test]
async fn keys_expire_on_the_clock() {
    let e = env();
    let r = e
        .create(
            &user(),
            json!({"name": "short", "scopes": ["read:orders"], "expires_in": 60}),
        )
        .await;
    let key = r.body["api_key"].as_str().unwrap();
    e.clock.advance(Duration::from_secs(59));
    assert_eq!(e.orders(Auth::Key(key)).await.status, 200);
    e.clock.advance(Duration::from_secs(1));
    let r = e.orders(Auth::Key(key)).await;
    assert_eq!(r.status, 401);
    assert_eq!(code(&r), "API_KEY_EXPIRED");
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("ApiKey realm=\"auth-demo\"")
    );
}

#[tokio::test]
async fn the_default_demo_issues_demo_live_keys() {
    let verifier = JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .issuer(ISS)
        .audience(AUD)
        .build()
        .unwrap();
    let app = demo_server::app(verifier).unwrap();
    let req = http::Request::post("/api/keys")
        .header("authorization", format!("Bearer {}", user()))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"name":"x","scopes":["read:orders"]}"#))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 201);
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let key = body["api_key"].as_str().unwrap();
    assert!(key.starts_with("demo_live_"));
    let req = http::Request::get("/api/orders")
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(req).await.unwrap().status(), 200);
}
