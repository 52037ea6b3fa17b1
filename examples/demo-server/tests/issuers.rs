//! Sessions, issuers and `typ` (issue 12, items 6, 7 and 8):
//!
//! - a revoked session (reuse of a refresh token, logout) takes every access token naming it
//!   in `sid` with it, at once;
//! - a token of another trusted issuer whose `sub` equals a local subject touches none of that
//!   account's keys, sessions or tokens;
//! - the demo's own tokens need `typ: at+jwt` in every mode (`AUTH_JWT_TYP`), a provider's
//!   follow `AUTH_OIDC_TYP`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::Arc;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{
    AccessGrant, Algorithm, JwtVerifier, KeyRing, SigningKey, TokenIssuer, TrustedIssuer,
    VerificationKey,
};
use auth_test::TestKey;
use base64::Engine as _;
use common::{Auth, Env, SECRET, T0, TempFile, env, jwt_parts, pem, with_demo};
use demo_server::Demo;
use demo_server::issuers::AccountKeys;
use demo_server::login::DEMO_EMAIL;
use serde_json::{Value, json};

const LOCAL: &str = "auth-demo";
const AUDIENCE: &str = "auth-demo-api";
const IDP: &str = "https://idp.example";
const IDP_SECRET: &[u8] = b"the identity provider's own secret, 32+ bytes";

/// An HS256 JWS over exactly this header and these claims (the test kit's signer).
fn hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    TestKey::hs256(secret, "any")
        .unwrap()
        .sign_compact(header, claims)
}

/// An EdDSA JWS over exactly this header and these claims (the test kit's signer).
fn ed25519(key: &TestKey, header: &Value, claims: &Value) -> String {
    key.sign_compact(header, claims)
}

fn claims(sub: &str, iss: &str) -> Value {
    json!({"sub": sub, "iss": iss, "aud": AUDIENCE, "iat": T0, "exp": T0 + 600,
           "jti": format!("{sub}-{iss}"), "roles": ["user"], "scope": "read:orders"})
}

// ---- item 6: revoking a session revokes its access tokens --------------------------------

#[tokio::test]
async fn reuse_of_a_refresh_token_revokes_every_access_token_of_its_session_at_once() {
    let e = env(&[]);
    let first = e.login(DEMO_EMAIL, "demo-password").await;
    let (a1, r1) = (first.str("access_token"), first.str("refresh_token"));
    let second = e.refresh(&r1).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let a2 = second.str("access_token");
    let other = e
        .login(DEMO_EMAIL, "demo-password")
        .await
        .str("access_token");
    assert_eq!(e.me(&a1).await.status, 200);
    assert_eq!(e.me(&a2).await.status, 200);

    // The replaced refresh token comes back: theft. The whole session ends, access tokens too.
    let replay = e.refresh(&r1).await;
    assert_eq!(replay.code(), "REFRESH_TOKEN_REUSED");
    for token in [&a1, &a2] {
        let me = e.me(token).await;
        assert_eq!(me.status, 401, "{}", me.body);
        assert_eq!(me.code(), "TOKEN_REVOKED");
    }
    // Another session of the same account is not touched.
    assert_eq!(e.me(&other).await.status, 200);
}

#[tokio::test]
async fn logout_revokes_the_earlier_access_tokens_of_the_session_too() {
    let e = env(&[]);
    let first = e.login(DEMO_EMAIL, "demo-password").await;
    let a1 = first.str("access_token");
    let a2 = e
        .refresh(&first.str("refresh_token"))
        .await
        .str("access_token");
    let out = e
        .call("POST", "/auth/logout", Auth::Bearer(&a2), None)
        .await;
    assert_eq!(out.status, 204, "{}", out.body);
    // Before issue 12 only a2 (by jti) was revoked; a1 of the same session kept working.
    let me = e.me(&a1).await;
    assert_eq!(me.code(), "TOKEN_REVOKED", "{}", me.body);
}

// ---- item 7: identity across issuers ----------------------------------------------------

/// A demo that issues its own tokens (`auth-demo`) and also trusts [`IDP`], as
/// `AUTH_OIDC_ISSUER` makes it, with fixed keys instead of a JWKS.
fn two_issuer_demo() -> (Env, TokenIssuer) {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let shared: Arc<dyn auth_core::clock::Clock> = Arc::new(clock.clone());
    let ring = KeyRing::new(SigningKey::hmac(Algorithm::HS256, SECRET, "demo-1").unwrap());
    let mut demo = Demo::issuing(ring.clone(), LOCAL, AUDIENCE, Arc::clone(&shared)).unwrap();
    let idp_key = VerificationKey::hmac(Algorithm::HS256, IDP_SECRET)
        .unwrap()
        .with_kid("idp-1");
    demo.verifier = JwtVerifier::builder()
        .trusted_issuer(
            TrustedIssuer::new(LOCAL, ring)
                .audience(AUDIENCE)
                .require_type("at+jwt"),
        )
        .trusted_issuer(
            TrustedIssuer::with_keys(IDP, [idp_key])
                .unwrap()
                .audience(AUDIENCE),
        )
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(demo.accounts, AccountKeys::new(Some(LOCAL)));
    let idp = TokenIssuer::builder(KeyRing::new(
        SigningKey::hmac(Algorithm::HS256, IDP_SECRET, "idp-1").unwrap(),
    ))
    .issuer(IDP)
    .audience(AUDIENCE)
    .clock(Arc::clone(&shared))
    .build()
    .unwrap();
    (with_demo(demo, clock), idp)
}

#[tokio::test]
async fn a_provider_token_with_a_local_subject_reaches_none_of_that_accounts_records() {
    let (e, idp) = two_issuer_demo();
    let login = e.login(DEMO_EMAIL, "demo-password").await;
    let (access, refresh) = (login.str("access_token"), login.str("refresh_token"));
    let sub = e.me(&access).await.body["sub"].as_str().unwrap().to_owned();
    assert_eq!(sub, "demo-user");
    let created = e
        .call(
            "POST",
            "/api/keys",
            Auth::Bearer(&access),
            Some(json!({"name": "cli", "scopes": ["read:orders"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let (key_id, api_key) = (created.str("id"), created.str("api_key"));

    // The provider's user `demo-user`, whose token even names the local session in `sid`.
    let (_, payload) = jwt_parts(&access);
    let sid = payload["sid"].as_str().unwrap();
    let grant = AccessGrant::new(sub.as_str())
        .role("user")
        .scope("read:orders")
        .claim("sid", sid);
    let theirs = idp.issue(&grant).unwrap().into_string();
    assert_eq!(e.me(&theirs).await.status, 200);

    let listed = e
        .call("GET", "/api/keys", Auth::Bearer(&theirs), None)
        .await;
    assert_eq!(listed.body["keys"], json!([]), "{}", listed.body);
    let deleted = e
        .call(
            "DELETE",
            &format!("/api/keys/{key_id}"),
            Auth::Bearer(&theirs),
            None,
        )
        .await;
    assert_eq!(deleted.status, 404);
    let rotated = e
        .call(
            "POST",
            &format!("/api/keys/{key_id}/rotate"),
            Auth::Bearer(&theirs),
            Some(json!({"grace_seconds": 0})),
        )
        .await;
    assert_eq!(rotated.status, 404);
    let out = e
        .call("POST", "/auth/logout", Auth::Bearer(&theirs), None)
        .await;
    assert_eq!(out.status, 204);
    assert_eq!(e.me(&theirs).await.code(), "TOKEN_REVOKED");
    let theirs = idp.issue(&grant).unwrap().into_string();
    let all = e
        .call(
            "POST",
            "/auth/logout-all",
            Auth::Bearer(&theirs),
            Some(json!({"revoke_api_keys": true})),
        )
        .await;
    assert_eq!(all.status, 204, "{}", all.body);

    // The local account is untouched: its token, its session and its key all still work.
    assert_eq!(e.me(&access).await.status, 200);
    let keys = e
        .call("GET", "/api/orders", Auth::ApiKey(&api_key), None)
        .await;
    assert_eq!(keys.status, 200, "{}", keys.body);
    assert_eq!(e.refresh(&refresh).await.status, 200);
    // The provider's user did log itself out.
    assert_eq!(e.me(&theirs).await.code(), "TOKEN_REVOKED");
}

#[tokio::test]
async fn a_provider_user_owns_keys_of_its_own_under_its_qualified_account() {
    let (e, idp) = two_issuer_demo();
    let theirs = idp
        .issue(&AccessGrant::new("demo-user").scope("read:orders"))
        .unwrap()
        .into_string();
    let created = e
        .call(
            "POST",
            "/api/keys",
            Auth::Bearer(&theirs),
            Some(json!({"name": "theirs", "scopes": ["read:orders"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let login = e.login(DEMO_EMAIL, "demo-password").await;
    let ours = e
        .call(
            "GET",
            "/api/keys",
            Auth::Bearer(&login.str("access_token")),
            None,
        )
        .await;
    assert_eq!(ours.body["keys"], json!([]));
    let listed = e
        .call("GET", "/api/keys", Auth::Bearer(&theirs), None)
        .await;
    assert_eq!(listed.body["keys"].as_array().unwrap().len(), 1);
    // The key acts for the provider's user, not for the local `demo-user`.
    let orders = e
        .call(
            "GET",
            "/api/orders",
            Auth::ApiKey(&created.str("api_key")),
            None,
        )
        .await;
    assert_eq!(orders.status, 200);
    assert_ne!(orders.body["subject"], "demo-user");
    assert!(
        orders.body["subject"].as_str().unwrap().contains(IDP),
        "{}",
        orders.body
    );
}

// ---- item 8: typ per issuer --------------------------------------------------------------

#[tokio::test]
async fn the_demos_own_tokens_need_at_jwt_unless_auth_jwt_typ_is_any() {
    let untyped = json!({"alg": "HS256", "kid": "auth-demo-1"});
    let typed_jwt = json!({"alg": "HS256", "typ": "JWT", "kid": "auth-demo-1"});
    let at_jwt = json!({"alg": "HS256", "typ": "at+jwt", "kid": "auth-demo-1"});
    // Issuing, and issuing next to a provider (whose keys are never fetched here: the token's
    // `iss` picks the demo's own key ring).
    let modes: [&[(&str, &str)]; 2] = [
        &[],
        &[
            ("AUTH_OIDC_ISSUER", "http://127.0.0.1:9/idp"),
            ("AUTH_OIDC_AUDIENCE", "api"),
        ],
    ];
    for mode in modes {
        let e = env(mode);
        let c = claims("someone", LOCAL);
        for header in [&untyped, &typed_jwt] {
            let me = e.me(&hs256(SECRET.as_bytes(), header, &c)).await;
            assert_eq!(me.status, 401, "{mode:?} {header}: {}", me.body);
            assert_eq!(me.code(), "INVALID_TOKEN");
        }
        let me = e.me(&hs256(SECRET.as_bytes(), &at_jwt, &c)).await;
        assert_eq!(me.status, 200, "{mode:?}: {}", me.body);

        let mut any = mode.to_vec();
        any.push(("AUTH_JWT_TYP", "any"));
        let e = env(&any);
        for header in [&untyped, &typed_jwt, &at_jwt] {
            let me = e.me(&hs256(SECRET.as_bytes(), header, &c)).await;
            assert_eq!(me.status, 200, "{any:?} {header}: {}", me.body);
        }
    }
}

#[tokio::test]
async fn a_verify_only_demo_requires_at_jwt_too() {
    // Before issue 12 a demo with only a public key required no `typ` at all.
    let pair = TestKey::generate(Algorithm::EdDSA, "external").unwrap();
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let x = pair.public_jwk().unwrap()["x"].as_str().unwrap().to_owned();
    spki.extend_from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(x)
            .unwrap(),
    );
    let file = TempFile::new("typ-ed25519.pub.pem", pem("PUBLIC KEY", &spki).as_bytes());
    let vars = [
        ("AUTH_JWT_ALG", "EdDSA"),
        ("AUTH_JWT_PUBLIC_KEY_FILE", file.path()),
    ];
    let c = claims("external", LOCAL);
    let untyped = ed25519(&pair, &json!({"alg": "EdDSA"}), &c);
    let typed = ed25519(&pair, &json!({"alg": "EdDSA", "typ": "at+jwt"}), &c);
    let e = env(&vars);
    assert_eq!(e.me(&untyped).await.code(), "INVALID_TOKEN");
    assert_eq!(e.me(&typed).await.status, 200);
    let mut any = vars.to_vec();
    any.push(("AUTH_JWT_TYP", "any"));
    assert_eq!(env(&any).me(&untyped).await.status, 200);
}

#[test]
fn typ_settings_are_checked_at_start_up_naming_the_variable() {
    let read = |vars: &[(&str, &str)]| {
        demo_server::config::Config::from_env(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    };
    let err = read(&[("AUTH_JWT_TYP", "at jwt")]).unwrap_err().to_string();
    assert!(err.contains("AUTH_JWT_TYP"), "{err}");
    let err = read(&[("AUTH_OIDC_TYP", "at+jwt")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("AUTH_OIDC_ISSUER"), "{err}");
    let c = read(&[]).unwrap();
    assert_eq!(c.jwt_typ.as_deref(), Some("at+jwt"));
    let c = read(&[("AUTH_JWT_TYP", "any")]).unwrap();
    assert_eq!(c.jwt_typ, None);
}
