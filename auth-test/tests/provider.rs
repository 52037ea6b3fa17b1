//! `MockOidcProvider` driven by the library's own clients: `JwksSource` (discovery, rotation,
//! faults), `TokenManager` (client credentials) and `OidcLogin` (the code flow with PKCE).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use auth_core::ErrorCode;
use auth_core::jwks::JwksSource;
use auth_core::jwt::{Algorithm, JwtVerifier};
use auth_core::oauth_client::{ClientAuth, TokenError, TokenManager};
use auth_core::oidc_login::{BeginOptions, OidcLogin, ProviderConfig};
use auth_core::seal::SealingKey;
use auth_test::MockOidcProvider;
use auth_test::provider::{Endpoint, Fault};
use serde_json::{Value, json};

fn verifier(idp: &MockOidcProvider, timeout: Duration) -> JwtVerifier {
    let keys = JwksSource::from_oidc_issuer(idp.issuer())
        .clock(idp.clock().clone())
        .timeout(timeout)
        .build()
        .unwrap();
    JwtVerifier::builder()
        .jwks(keys)
        .issuer(idp.issuer())
        .audience(auth_test::DEFAULT_AUDIENCE)
        .clock(idp.clock().clone())
        .build()
        .unwrap()
}

#[tokio::test]
async fn discovery_and_jwks_give_a_key_source_that_verifies_the_providers_tokens() {
    let idp = MockOidcProvider::start().await.unwrap();
    let v = verifier(&idp, Duration::from_secs(5));
    let token = idp.authority().token().subject("alice").sign();
    assert_eq!(v.verify(&token).await.unwrap().subject(), "alice");
    assert_eq!(idp.requests(Endpoint::Discovery), 1);
    assert_eq!(idp.requests(Endpoint::Jwks), 1);
    // Cached: a second token costs no request.
    v.verify(&token).await.unwrap();
    assert_eq!(idp.requests(Endpoint::Jwks), 1);
    // Presets made by the provider's authority are refused as by a static key.
    let bad = idp.authority().tampered();
    assert_eq!(v.verify(bad.token()).await.unwrap_err().code(), bad.code());
}

#[tokio::test]
async fn a_rotated_key_is_learned_by_one_refetch_and_a_retired_one_stays_trusted_until_expiry_of_the_cache()
 {
    let idp = MockOidcProvider::start_with(
        Algorithm::RS256,
        auth_core::clock::ManualClock::new(auth_test::DEFAULT_START),
    )
    .await
    .unwrap();
    let v = verifier(&idp, Duration::from_secs(5));
    let old = idp.authority().token().sign();
    v.verify(&old).await.unwrap();
    let kid = idp.rotate_key();
    assert_eq!(idp.published_kids(), [kid.as_str(), "mock-oidc-1"]);
    let new = idp.authority().token().sign();
    assert_eq!(v.verify(&new).await.unwrap().subject(), "test-user");
    assert_eq!(idp.requests(Endpoint::Jwks), 2);
    // The old key is still published, and still in the refreshed cache.
    v.verify(&old).await.unwrap();
    idp.retire_old_keys();
    assert_eq!(idp.published_kids(), [kid.as_str()]);
}

#[tokio::test]
async fn jwks_faults_reach_the_client_as_unavailable_or_unknown_keys() {
    for fault in [Fault::Status(500), Fault::InvalidJson, Fault::NoKeys] {
        let idp = MockOidcProvider::start().await.unwrap();
        idp.fault(Endpoint::Jwks, Some(fault.clone()));
        let v = verifier(&idp, Duration::from_secs(5));
        let err = v.verify(&idp.authority().token().sign()).await.unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::AuthBackendUnavailable,
            "{fault:?}: {err}"
        );
        assert!(idp.requests(Endpoint::Jwks) >= 1);
    }
}

#[tokio::test]
async fn a_slow_jwks_endpoint_hits_the_client_timeout() {
    let idp = MockOidcProvider::start().await.unwrap();
    idp.fault(Endpoint::Jwks, Some(Fault::Slow(Duration::from_secs(2))));
    let v = verifier(&idp, Duration::from_millis(200));
    let err = v.verify(&idp.authority().token().sign()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable);
}

#[tokio::test]
async fn a_broken_discovery_document_is_unavailable_not_unauthorized() {
    let idp = MockOidcProvider::start().await.unwrap();
    idp.fault(Endpoint::Discovery, Some(Fault::InvalidJson));
    let v = verifier(&idp, Duration::from_secs(5));
    let err = v.verify(&idp.authority().token().sign()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable);
    assert_eq!(idp.requests(Endpoint::Jwks), 0);
}

fn manager(idp: &MockOidcProvider, auth: ClientAuth) -> TokenManager {
    TokenManager::builder(auth)
        .token_endpoint(idp.token_endpoint())
        .scope("read:orders")
        .clock(idp.clock().clone())
        .max_attempts(std::num::NonZeroU32::new(1).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn client_credentials_tokens_verify_and_are_requested_once_for_many_calls() {
    let idp = MockOidcProvider::start().await.unwrap();
    idp.register_client("reports", "s3cr3t: +%/é");
    idp.set_expires_in(Duration::from_secs(600));
    let v = verifier(&idp, Duration::from_secs(5));
    for auth in [
        ClientAuth::client_secret_basic("reports", "s3cr3t: +%/é").unwrap(),
        ClientAuth::client_secret_post("reports", "s3cr3t: +%/é").unwrap(),
    ] {
        let before = idp.requests(Endpoint::Token);
        let tokens = manager(&idp, auth);
        let first = tokens.access_token().await.unwrap();
        for _ in 0..3 {
            let again = tokens.access_token().await.unwrap();
            assert_eq!(again.as_str(), first.as_str());
        }
        assert_eq!(idp.requests(Endpoint::Token), before + 1);
        assert_eq!(
            first.expires_at().as_secs(),
            auth_test::DEFAULT_START.as_secs() + 600
        );
        let p = v.verify(first.as_str()).await.unwrap();
        assert_eq!(p.subject(), "reports");
        assert!(p.has_scope("read:orders"));
    }
}

#[tokio::test]
async fn token_endpoint_errors_map_to_the_clients_errors() {
    let idp = MockOidcProvider::start().await.unwrap();
    idp.register_client_with_scopes("reports", "secret", ["read:reports"]);
    let err = manager(
        &idp,
        ClientAuth::client_secret_basic("reports", "wrong").unwrap(),
    )
    .access_token()
    .await
    .unwrap_err();
    assert!(matches!(err, TokenError::InvalidClient { .. }), "{err:?}");
    let err = manager(
        &idp,
        ClientAuth::client_secret_basic("reports", "secret").unwrap(),
    )
    .access_token()
    .await
    .unwrap_err();
    assert!(matches!(err, TokenError::InvalidScope { .. }), "{err:?}");
    idp.register_client("reports", "secret");
    idp.fault(Endpoint::Token, Some(Fault::Status(503)));
    let err = manager(
        &idp,
        ClientAuth::client_secret_basic("reports", "secret").unwrap(),
    )
    .access_token()
    .await
    .unwrap_err();
    assert_eq!(err, TokenError::Status { status: 503 });
    idp.fault(
        Endpoint::Token,
        Some(Fault::OAuthError(400, "unauthorized_client".into())),
    );
    let err = manager(
        &idp,
        ClientAuth::client_secret_basic("reports", "secret").unwrap(),
    )
    .access_token()
    .await
    .unwrap_err();
    assert!(
        matches!(err, TokenError::UnauthorizedClient { .. }),
        "{err:?}"
    );
    idp.clear_faults();
    assert!(
        manager(
            &idp,
            ClientAuth::client_secret_basic("reports", "secret").unwrap()
        )
        .access_token()
        .await
        .is_ok()
    );
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn login(idp: &MockOidcProvider) -> OidcLogin {
    idp.register_relying_party("rp", "rp-secret", REDIRECT);
    let login = OidcLogin::builder(SealingKey::new(1, &[7u8; 32]).unwrap())
        .provider(
            ProviderConfig::new("mock", idp.issuer(), "rp", REDIRECT)
                .client_secret_basic("rp-secret"),
        )
        .clock(idp.clock().clone())
        .build()
        .unwrap();
    login.discover().await.unwrap();
    login
}

/// Follows the authorization URL to the provider and returns the callback's query string.
async fn authorize(url: &str) -> String {
    let res = no_redirects().get(url).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, REDIRECT);
    query.to_owned()
}

#[tokio::test]
async fn the_code_flow_signs_in_through_the_librarys_relying_party() {
    let idp = MockOidcProvider::start().await.unwrap();
    let login = login(&idp).await;
    idp.sign_in_as(
        "user-42",
        json!({"email": "u42@example.test", "email_verified": true}),
    );
    let start = login.begin("mock", BeginOptions::new()).await.unwrap();
    let query = authorize(start.authorization_url()).await;
    let cookie = format!("{}={}", start.cookie().name(), start.cookie().value());
    let callback = login.complete("mock", &query, &[&cookie]).await;
    let done = callback.outcome().unwrap();
    assert_eq!(done.identity().subject(), "user-42");
    assert_eq!(done.identity().issuer(), idp.issuer());
    assert_eq!(done.email(), Some("u42@example.test"));
    assert!(done.email_verified());
    assert_eq!(idp.requests(Endpoint::Authorize), 1);
    assert_eq!(idp.requests(Endpoint::Token), 1);
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_wrong_verifier_and_a_reused_code() {
    let idp = MockOidcProvider::start().await.unwrap();
    idp.register_relying_party("rp", "rp-secret", REDIRECT);
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; // RFC 7636 appendix B
    let url = format!(
        "{}?response_type=code&client_id=rp&redirect_uri={}&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256",
        idp.authorization_endpoint(),
        form_urlencoded(REDIRECT)
    );
    let query = authorize(&url).await;
    let code = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("code="))
        .unwrap()
        .to_owned();
    assert!(query.contains("state=s1"));
    let exchange = |verifier: &'static str| {
        let code = code.clone();
        let endpoint = idp.token_endpoint();
        async move {
            let res = no_redirects()
                .post(endpoint)
                .basic_auth("rp", Some("rp-secret"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}",
                    form_urlencoded(REDIRECT)
                ))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
            (status, body)
        }
    };
    // A wrong verifier uses the code up.
    let (status, body) = exchange("not-the-verifier-of-this-challenge-at-all-0123").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = exchange("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

fn form_urlencoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_correct_rfc7636_verifier_gets_tokens() {
    let idp = MockOidcProvider::start().await.unwrap();
    idp.register_relying_party("rp", "rp-secret", REDIRECT);
    let url = format!(
        "{}?response_type=code&client_id=rp&redirect_uri={}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        idp.authorization_endpoint(),
        form_urlencoded(REDIRECT)
    );
    let query = authorize(&url).await;
    let code = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("code="))
        .unwrap();
    let res = no_redirects()
        .post(idp.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&client_id=rp&client_secret=rp-secret&code={code}&redirect_uri={}&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            form_urlencoded(REDIRECT)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert!(body["id_token"].is_string() && body["access_token"].is_string());
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_never_redirected_to() {
    let idp = MockOidcProvider::start().await.unwrap();
    idp.register_relying_party("rp", "rp-secret", REDIRECT);
    let url = format!(
        "{}?response_type=code&client_id=rp&redirect_uri=http%3A%2F%2Fevil.example%2Fcb&code_challenge=x&code_challenge_method=S256",
        idp.authorization_endpoint()
    );
    let res = no_redirects().get(url).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}
