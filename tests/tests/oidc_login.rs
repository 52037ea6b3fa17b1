//! Sign-in with a real OpenID Provider (issue 14): npm `oidc-provider` (pinned in
//! `tests/oidc/package.json`, run by `tests/oidc/login_provider.mjs`) with authorization-code
//! clients that must use PKCE S256, driven through its development login and consent pages by
//! a cookie-keeping HTTP client (`auth_integration_tests::oidc_login`).
//!
//! Most tests use `auth_core::oidc_login` directly (the relying party's callback is not served:
//! the browser stops at the redirect to it, and the test completes it with the transaction
//! cookie it was given); the last one mounts `LoginRoutes` in an axum server and lets the
//! browser go through everything. Each refused callback also checks, on the provider's token
//! endpoint counter, that the code was never sent.
//!
//! Needs Node.js and `npm ci --prefix tests/oidc` (or `bash tests/interop/install.sh`); without
//! them every test here fails with that instruction.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use auth_axum_extractors::oidc_login::{LoginHooks, LoginRoutes};
use auth_core::ErrorCode;
use auth_core::oidc_login::{
    BeginOptions, Callback, CompletedLogin, IdentityStore as _, LoginError, MemoryIdentityStore,
    OidcLogin, ProviderConfig, SignIn, StateProblem, link_identity, sign_in,
};
use auth_core::seal::SealingKey;
use auth_integration_tests::oidc::KeyFile;
use auth_integration_tests::oidc_login::{
    Browser, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, LoginProvider, PUBLIC_CLIENT,
    abort_at_provider, sign_in_at_provider,
};
use axum::Router;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

/// The relying party's callback; nothing listens there (the browser stops before it).
const CALLBACK: &str = "http://127.0.0.1:1/auth/login/acme/callback";

struct Rig {
    provider: LoginProvider,
    _key: KeyFile,
    login: OidcLogin,
}

fn provider(redirect_uris: &[&str]) -> (LoginProvider, KeyFile) {
    let key = KeyFile::fresh("login");
    let p = LoginProvider::start(&key, redirect_uris).unwrap_or_else(|e| panic!("{e}"));
    (p, key)
}

fn public_config(name: &str, issuer: &str, callback: &str) -> ProviderConfig {
    ProviderConfig::new(name, issuer, PUBLIC_CLIENT, callback)
}

fn rig_with(config: impl FnOnce(&str) -> ProviderConfig) -> Rig {
    let (provider, key) = provider(&[CALLBACK]);
    let login = OidcLogin::builder(SealingKey::new(1, &[42; 32]).unwrap())
        .provider(config(provider.issuer()))
        .build()
        .unwrap();
    Rig {
        provider,
        _key: key,
        login,
    }
}

fn rig() -> Rig {
    rig_with(|iss| public_config("acme", iss, CALLBACK))
}

/// A login started in `browser`: the callback URL the provider redirected to, and the
/// transaction cookie (`name=value`) the relying party set.
struct Attempt {
    callback: String,
    cookie: String,
}

impl Attempt {
    fn query(&self) -> &str {
        self.callback.split_once('?').map_or("", |(_, q)| q)
    }

    fn param(&self, name: &str) -> String {
        self.query()
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {}", self.callback))
            .to_owned()
    }
}

impl Rig {
    async fn start(&self, options: BeginOptions) -> (String, String) {
        let start = self.login.begin("acme", options).await.unwrap();
        let cookie = format!("{}={}", start.cookie().name(), start.cookie().value());
        (start.authorization_url().to_owned(), cookie)
    }

    async fn attempt(&self, browser: &Browser, user: &str) -> Attempt {
        let (url, cookie) = self.start(BeginOptions::new()).await;
        let callback = sign_in_at_provider(browser, &url, user, CALLBACK)
            .await
            .unwrap_or_else(|e| panic!("{e}\nprovider stderr:\n{}", self.provider.stderr()));
        Attempt { callback, cookie }
    }

    async fn complete(&self, query: &str, cookies: &[&str]) -> Callback {
        self.login.complete("acme", query, cookies).await
    }

    async fn token_requests(&self) -> usize {
        self.provider.token_requests().await.unwrap()
    }
}

fn state_problem(c: &Callback) -> Option<StateProblem> {
    c.outcome().unwrap_err().state_problem()
}

#[tokio::test]
async fn a_first_login_creates_an_account_and_a_second_login_reuses_it() {
    let r = rig();
    let store = MemoryIdentityStore::new();
    let browser = Browser::new().unwrap();

    let a = r.attempt(&browser, "ann").await;
    assert_eq!(
        a.param("iss"),
        "http%3A%2F%2F127.0.0.1%3A".to_owned() + &r.provider.port().to_string()
    );
    let c = r.complete(a.query(), &[&a.cookie]).await;
    let login = c.outcome().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(login.identity().issuer(), r.provider.issuer());
    assert_eq!(login.identity().subject(), "ann");
    assert_eq!(login.email(), Some("ann@example.test"));
    assert!(login.email_verified());
    assert!(c.clear_cookie().unwrap().is_removal());
    let first = sign_in(&store, login, "account-1").await.unwrap();
    assert!(matches!(first, SignIn::Created(_)), "{first:?}");

    // Same browser: the provider remembers the session and the consent.
    let a = r.attempt(&browser, "ann").await;
    let c = r.complete(a.query(), &[&a.cookie]).await;
    let again = sign_in(&store, c.outcome().unwrap(), "account-2")
        .await
        .unwrap();
    assert_eq!(again, SignIn::Existing(first.link().clone()));
    assert_eq!(r.token_requests().await, 2);
}

#[tokio::test]
async fn a_second_providers_identity_links_to_a_password_account_and_only_to_it() {
    let r = rig();
    let (other, _other_key) = provider(&["http://127.0.0.1:1/auth/login/corp/callback"]);
    let corp_callback = "http://127.0.0.1:1/auth/login/corp/callback";
    let login = OidcLogin::builder(SealingKey::new(1, &[42; 32]).unwrap())
        .provider(public_config("acme", r.provider.issuer(), CALLBACK))
        .provider(public_config("corp", other.issuer(), corp_callback))
        .build()
        .unwrap();
    let store = MemoryIdentityStore::new();
    let browser = Browser::new().unwrap();

    // "password-account" signed in with its password, then asks to link corp.
    let start = login
        .begin("corp", BeginOptions::new().link_to("password-account"))
        .await
        .unwrap();
    let cookie = format!("{}={}", start.cookie().name(), start.cookie().value());
    let cb = sign_in_at_provider(
        &browser,
        start.authorization_url(),
        "ann.corp",
        corp_callback,
    )
    .await
    .unwrap();
    let c = login
        .complete("corp", cb.split_once('?').unwrap().1, &[&cookie])
        .await;
    let linked = c.outcome().unwrap();
    assert_eq!(linked.link_to(), Some("password-account"));
    link_identity(&store, linked, "password-account")
        .await
        .unwrap();
    // Signing in with corp now lands in the password account.
    let start = login.begin("corp", BeginOptions::new()).await.unwrap();
    let cookie = format!("{}={}", start.cookie().name(), start.cookie().value());
    let cb = sign_in_at_provider(
        &browser,
        start.authorization_url(),
        "ann.corp",
        corp_callback,
    )
    .await
    .unwrap();
    let c = login
        .complete("corp", cb.split_once('?').unwrap().1, &[&cookie])
        .await;
    let s = sign_in(&store, c.outcome().unwrap(), "fresh")
        .await
        .unwrap();
    assert_eq!(s.account(), "password-account");
    // The acme identity of another user cannot be linked to it once linked elsewhere.
    let a = r.attempt(&browser, "bob").await;
    let c = login.complete("acme", a.query(), &[&a.cookie]).await;
    let bob = c.outcome().unwrap();
    sign_in(&store, bob, "bob-account").await.unwrap();
    let err = link_identity(&store, bob, "password-account")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdentityAlreadyLinked);
    let ids = store.list_for_account("password-account").await.unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].identity().issuer(), other.issuer());
}

#[tokio::test]
async fn two_logins_started_in_two_tabs_complete_in_reverse_order() {
    let r = rig();
    let browser = Browser::new().unwrap();
    let (url1, cookie1) = r.start(BeginOptions::new().return_to(Some("/tab-1"))).await;
    let (url2, cookie2) = r.start(BeginOptions::new().return_to(Some("/tab-2"))).await;
    // Both tabs reach the provider before either finishes.
    let first = browser.get(&url1).await.unwrap();
    assert!(first.is_redirect());
    let cb2 = sign_in_at_provider(&browser, &url2, "ann", CALLBACK)
        .await
        .unwrap();
    let cb1 = sign_in_at_provider(&browser, &url1, "ann", CALLBACK)
        .await
        .unwrap();
    let both = [cookie1.as_str(), cookie2.as_str()];
    let c2 = r.complete(cb2.split_once('?').unwrap().1, &both).await;
    assert_eq!(c2.outcome().unwrap().return_to(), "/tab-2");
    let c1 = r.complete(cb1.split_once('?').unwrap().1, &both).await;
    assert_eq!(c1.outcome().unwrap().return_to(), "/tab-1");
    assert_ne!(
        c1.clear_cookie().unwrap().name(),
        c2.clear_cookie().unwrap().name()
    );
}

#[tokio::test]
async fn state_swapped_replayed_duplicated_or_missing_is_refused_before_the_token_endpoint() {
    let r = rig();
    let browser = Browser::new().unwrap();
    let mine = r.attempt(&browser, "ann").await;
    let theirs = r.attempt(&Browser::new().unwrap(), "mallory").await;

    // Swapped: the attacker's callback in my browser (login CSRF).
    let c = r.complete(theirs.query(), &[&mine.cookie]).await;
    assert_eq!(state_problem(&c), Some(StateProblem::Unknown));
    // Duplicated.
    let dup = format!("{}&state={}", mine.query(), mine.param("state"));
    let c = r.complete(&dup, &[&mine.cookie]).await;
    assert_eq!(state_problem(&c), Some(StateProblem::Duplicated));
    // Missing.
    let missing: Vec<&str> = mine
        .query()
        .split('&')
        .filter(|p| !p.starts_with("state="))
        .collect();
    let c = r.complete(&missing.join("&"), &[&mine.cookie]).await;
    assert_eq!(state_problem(&c), Some(StateProblem::Missing));
    assert_eq!(r.token_requests().await, 0);

    // The real callback works once; replayed with the kept cookie, it is refused.
    assert!(
        r.complete(mine.query(), &[&mine.cookie])
            .await
            .outcome()
            .is_ok()
    );
    assert_eq!(r.token_requests().await, 1);
    let c = r.complete(mine.query(), &[&mine.cookie]).await;
    assert_eq!(state_problem(&c), Some(StateProblem::AlreadyUsed));
    assert_eq!(
        c.outcome().unwrap_err().code(),
        ErrorCode::LoginStateInvalid
    );
    assert_eq!(r.token_requests().await, 1);
}

#[tokio::test]
async fn a_wrong_iss_is_refused_before_the_token_endpoint() {
    let r = rig();
    let browser = Browser::new().unwrap();
    let a = r.attempt(&browser, "ann").await;
    let forged = a
        .query()
        .replace(&a.param("iss"), "https%3A%2F%2Fevil.example");
    let c = r.complete(&forged, &[&a.cookie]).await;
    assert_eq!(c.outcome().unwrap_err(), &LoginError::IssuerMismatch);
    assert_eq!(c.outcome().unwrap_err().code(), ErrorCode::LoginFailed);
    // Without iss (the provider advertises RFC 9207 support, so it is required).
    let a = r.attempt(&browser, "ann").await;
    let without: Vec<&str> = a
        .query()
        .split('&')
        .filter(|p| !p.starts_with("iss="))
        .collect();
    let c = r.complete(&without.join("&"), &[&a.cookie]).await;
    assert_eq!(c.outcome().unwrap_err(), &LoginError::IssuerMismatch);
    assert_eq!(r.token_requests().await, 0);
}

#[tokio::test]
async fn access_denied_at_the_provider_is_login_failed_with_its_error() {
    let r = rig();
    let browser = Browser::new().unwrap();
    let (url, cookie) = r.start(BeginOptions::new()).await;
    let callback = abort_at_provider(&browser, &url, CALLBACK).await.unwrap();
    let query = callback.split_once('?').unwrap().1;
    assert!(query.contains("error=access_denied"), "{callback}");
    // Without this browser's transaction the error is not even reported.
    let c = r.complete(query, &[]).await;
    assert_eq!(state_problem(&c), Some(StateProblem::Unknown));
    let c = r.complete(query, &[&cookie]).await;
    let err = c.outcome().unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginFailed);
    assert_eq!(err.provider_error(), Some("access_denied"));
    assert!(c.clear_cookie().unwrap().is_removal());
    assert_eq!(r.token_requests().await, 0);
}

#[tokio::test]
async fn a_confidential_client_signs_in_with_client_secret_basic_and_reads_userinfo() {
    let r = rig_with(|iss| {
        ProviderConfig::new("acme", iss, CONFIDENTIAL_CLIENT, CALLBACK)
            .client_secret_basic(CONFIDENTIAL_SECRET)
            .fetch_userinfo()
    });
    let a = r.attempt(&Browser::new().unwrap(), "carol").await;
    let c = r.complete(a.query(), &[&a.cookie]).await;
    let login = c.outcome().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(login.identity().subject(), "carol");
    assert_eq!(login.userinfo().unwrap()["name"], "carol");
    // A wrong secret: the provider refuses the exchange.
    let r = rig_with(|iss| {
        ProviderConfig::new("acme", iss, CONFIDENTIAL_CLIENT, CALLBACK)
            .client_secret_basic("wrong-secret")
    });
    let a = r.attempt(&Browser::new().unwrap(), "carol").await;
    let c = r.complete(a.query(), &[&a.cookie]).await;
    let err = c.outcome().unwrap_err();
    assert_eq!(err.code(), ErrorCode::LoginFailed);
    assert_eq!(err.provider_error(), Some("invalid_client"));
}

// The provider requires PKCE with S256 (as the login clients are registered), so the
// successful logins above prove the challenge and verifier we send match.
#[tokio::test]
async fn the_provider_refuses_plain_pkce_and_our_urls_always_carry_s256() {
    let r = rig();
    let (url, _cookie) = r.start(BeginOptions::new()).await;
    assert!(url.contains("&code_challenge_method=S256"));
    let plain = url.replace("code_challenge_method=S256", "code_challenge_method=plain");
    let cb = sign_in_at_provider(&Browser::new().unwrap(), &plain, "ann", CALLBACK)
        .await
        .unwrap();
    assert!(cb.contains("error=invalid_request"), "{cb}");
}

#[derive(Clone, Default)]
struct Hooks {
    logins: Arc<Mutex<Vec<CompletedLogin>>>,
}

impl LoginHooks for Hooks {
    async fn current_account(&self, _parts: &Parts) -> Option<String> {
        None
    }

    async fn completed(&self, login: CompletedLogin, _parts: Parts) -> Response {
        let to = login.return_to().to_owned();
        self.logins.lock().unwrap().push(login);
        Redirect::to(&to).into_response()
    }
}

#[tokio::test]
async fn the_mounted_routes_take_a_browser_through_the_whole_login() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let callback = format!("{base}/auth/login/acme/callback");
    let (provider, _key) = provider(&[&callback]);
    let login = OidcLogin::builder(SealingKey::new(1, &[42; 32]).unwrap())
        .provider(public_config("acme", provider.issuer(), &callback))
        .build()
        .unwrap();
    let hooks = Hooks::default();
    let app = Router::new().nest_service("/auth/login", LoginRoutes::new(login, hooks.clone()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = Browser::new().unwrap();
    let start = format!("{base}/auth/login/acme?return_to=/orders");
    let cb = sign_in_at_provider(&browser, &start, "dave", &callback)
        .await
        .unwrap();
    assert_eq!(
        browser
            .cookie_names()
            .iter()
            .filter(|n| n.starts_with("auth_login_"))
            .count(),
        1
    );
    let page = browser.get(&cb).await.unwrap();
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some(format!("{base}/orders").as_str())
    );
    assert!(
        !browser
            .cookie_names()
            .iter()
            .any(|n| n.starts_with("auth_login_")),
        "transaction cookie removed"
    );
    assert_eq!(hooks.logins.lock().unwrap()[0].identity().subject(), "dave");
    // The same callback again: refused, nothing reaches the provider's token endpoint.
    let page = browser.get(&cb).await.unwrap();
    assert_eq!(page.status, 400);
    assert!(page.body.contains("LOGIN_STATE_INVALID"), "{}", page.body);
    assert_eq!(provider.token_requests().await.unwrap(), 1);
    server.abort();
}
