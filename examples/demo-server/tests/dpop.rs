//! Issue 20 in the demo: `AUTH_DPOP` (off by default, allowed, required) with login binding
//! tokens to a proof's key, `GET /.well-known/oauth-protected-resource` (and `/api`), and
//! `resource_metadata` in every 401.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use auth_core::clock::Clock as _;
use auth_core::dpop::{access_token_hash, jwk_thumbprint};
use auth_core::jwt::Algorithm;
use auth_test::TestKey;
use axum::body::Body;
use common::{Env, env, jwt_parts};
use serde_json::json;

const PUBLIC: &str = "http://127.0.0.1:3000";
const API_METADATA: &str = "http://127.0.0.1:3000/.well-known/oauth-protected-resource/api";

struct Client {
    key: TestKey,
    jti: std::cell::Cell<u32>,
}

impl Client {
    fn new() -> Self {
        Self {
            key: TestKey::generate(Algorithm::ES256, "client").unwrap(),
            jti: std::cell::Cell::new(0),
        }
    }

    fn jkt(&self) -> String {
        jwk_thumbprint(&self.key.public_jwk().unwrap()).unwrap()
    }

    fn proof(&self, env: &Env, method: &str, path: &str, token: Option<&str>) -> String {
        self.jti.set(self.jti.get() + 1);
        let mut claims = json!({
            "jti": format!("p{}", self.jti.get()),
            "htm": method,
            "htu": format!("{PUBLIC}{path}"),
            "iat": env.clock.now().as_secs(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(access_token_hash(token));
        }
        self.key.sign_compact(
            &json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.public_jwk().unwrap() }),
            &claims,
        )
    }
}

async fn login(env: &Env, proof: Option<&str>) -> common::Reply {
    let r = env.register("dpop@example.com", "a good password").await;
    assert!(r.status == 201 || r.code() == "EMAIL_TAKEN", "{}", r.body);
    let mut req = http::Request::post("/auth/login").header("content-type", "application/json");
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    let body = json!({"email": "dpop@example.com", "password": "a good password"}).to_string();
    env.send(req.body(Body::from(body)).unwrap()).await
}

async fn me(env: &Env, scheme: &str, token: &str, proof: Option<&str>) -> common::Reply {
    let mut req =
        http::Request::get("/api/me").header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    env.send(req.body(Body::empty()).unwrap()).await
}

async fn get(env: &Env, path: &str) -> common::Reply {
    env.send(http::Request::get(path).body(Body::empty()).unwrap())
        .await
}

fn challenges(r: &common::Reply) -> Vec<String> {
    r.headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_metadata_documents_are_served_with_path_insertion() {
    let env = env(&[]);
    let root = get(&env, "/.well-known/oauth-protected-resource").await;
    assert_eq!(root.status, 200);
    assert_eq!(root.body["resource"], PUBLIC);
    assert_eq!(root.body["authorization_servers"], json!(["auth-demo"]));
    assert_eq!(root.body["bearer_methods_supported"], json!(["header"]));
    assert_eq!(
        root.body["scopes_supported"],
        json!(["read:orders", "write:orders"])
    );
    let api = get(&env, "/.well-known/oauth-protected-resource/api").await;
    assert_eq!(api.status, 200);
    assert_eq!(api.body["resource"], format!("{PUBLIC}/api"));
    // DPoP is off by default: the document says nothing of it.
    assert!(api.body.get("dpop_signing_alg_values_supported").is_none());
}

#[tokio::test]
async fn every_401_names_the_api_metadata_and_that_url_fetches_it() {
    let env = env(&[]);
    for r in [
        get(&env, "/api/me").await,
        me(&env, "Bearer", "not.a.token", None).await,
        get(&env, "/api/orders").await,
    ] {
        assert_eq!(r.status, 401);
        let bearer = challenges(&r)
            .into_iter()
            .find(|c| c.starts_with("Bearer "))
            .unwrap();
        assert!(
            bearer.ends_with(&format!(", resource_metadata=\"{API_METADATA}\"")),
            "{bearer}"
        );
    }
    let doc = get(&env, API_METADATA.strip_prefix(PUBLIC).unwrap()).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["resource"], format!("{PUBLIC}/api"));
}

#[tokio::test]
async fn with_dpop_off_a_login_proof_is_ignored_and_the_token_is_bearer() {
    let env = env(&[]);
    let client = Client::new();
    let proof = client.proof(&env, "POST", "/auth/login", None);
    let r = login(&env, Some(&proof)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    let token = r.str("access_token");
    assert!(jwt_parts(&token).1.get("cnf").is_none());
    assert_eq!(me(&env, "Bearer", &token, None).await.status, 200);
    // `Authorization: DPoP` is not a credential here.
    let proof = client.proof(&env, "GET", "/api/me", Some(&token));
    assert_eq!(me(&env, "DPoP", &token, Some(&proof)).await.status, 401);
}

#[tokio::test]
async fn with_dpop_allowed_a_login_proof_binds_the_token_to_its_key() {
    let env = env(&[("AUTH_DPOP", "allowed")]);
    let client = Client::new();
    let proof = client.proof(&env, "POST", "/auth/login", None);
    let r = login(&env, Some(&proof)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "DPoP");
    let token = r.str("access_token");
    assert_eq!(jwt_parts(&token).1["cnf"], json!({ "jkt": client.jkt() }));

    let proof = client.proof(&env, "GET", "/api/me", Some(&token));
    let ok = me(&env, "DPoP", &token, Some(&proof)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // The same proof again is a replay.
    let replay = me(&env, "DPoP", &token, Some(&proof)).await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.code(), "INVALID_DPOP_PROOF");
    let dpop = challenges(&replay);
    assert!(
        dpop[0].starts_with("DPoP realm=\"auth-demo\", algs=\""),
        "{dpop:?}"
    );
    assert!(dpop[0].contains("error=\"invalid_dpop_proof\""), "{dpop:?}");
    assert!(dpop[0].ends_with(&format!("resource_metadata=\"{API_METADATA}\"")));
    // A bound token presented as Bearer is refused.
    let downgrade = me(&env, "Bearer", &token, None).await;
    assert_eq!(downgrade.status, 401);
    assert_eq!(downgrade.code(), "INVALID_TOKEN");

    // Without a proof, login still gives a plain Bearer token, accepted as such.
    let r = login(&env, None).await;
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(
        me(&env, "Bearer", &r.str("access_token"), None)
            .await
            .status,
        200
    );

    let doc = get(&env, "/.well-known/oauth-protected-resource/api").await;
    assert_eq!(
        doc.body["dpop_signing_alg_values_supported"],
        json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"])
    );
    assert_eq!(doc.body["dpop_bound_access_tokens_required"], false);
}

#[tokio::test]
async fn a_bad_or_replayed_login_proof_is_a_400_invalid_dpop_proof() {
    let env = env(&[("AUTH_DPOP", "allowed")]);
    let client = Client::new();
    // A proof for another endpoint.
    let wrong = client.proof(&env, "POST", "/auth/refresh", None);
    let r = login(&env, Some(&wrong)).await;
    assert_eq!((r.status, r.code()), (400, "INVALID_DPOP_PROOF"));
    let proof = client.proof(&env, "POST", "/auth/login", None);
    assert_eq!(login(&env, Some(&proof)).await.status, 200);
    let r = login(&env, Some(&proof)).await;
    assert_eq!((r.status, r.code()), (400, "INVALID_DPOP_PROOF"));
}

#[tokio::test]
async fn with_dpop_required_bearer_tokens_are_refused() {
    let env = env(&[("AUTH_DPOP", "required")]);
    let plain = login(&env, None).await.str("access_token");
    let r = me(&env, "Bearer", &plain, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "INVALID_TOKEN");
    let c = challenges(&r);
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0].starts_with("DPoP "), "{c:?}");

    let client = Client::new();
    let proof = client.proof(&env, "POST", "/auth/login", None);
    let token = login(&env, Some(&proof)).await.str("access_token");
    let proof = client.proof(&env, "GET", "/api/me", Some(&token));
    assert_eq!(me(&env, "DPoP", &token, Some(&proof)).await.status, 200);
    let doc = get(&env, "/.well-known/oauth-protected-resource").await;
    assert_eq!(doc.body["dpop_bound_access_tokens_required"], true);
}

#[test]
fn an_unknown_dpop_mode_is_a_configuration_error() {
    let err = demo_server::config::Config::from_env(|k| match k {
        "AUTH_DPOP" => Some("sometimes".into()),
        _ => None,
    })
    .unwrap_err();
    assert!(err.to_string().contains("AUTH_DPOP"), "{err}");
}
