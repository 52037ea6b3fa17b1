//! The demo server's "Sign in with a provider" (issue 14, demo part) against a real OpenID
//! Provider: npm `oidc-provider` run by `tests/oidc/login_provider.mjs`, driven through its
//! development login and consent pages by the cookie-keeping `Browser` of
//! `auth_integration_tests::oidc_login`. The demo runs in-process on a bound loopback listener
//! (its port is in the redirect URI the provider must know first), configured through the
//! same `AUTH_*` variables as the binary.
//!
//! Every refused callback asserts that no session started (no session cookie set, `/api/me`
//! refused) and, when the flow was cut before the code exchange, that the provider's token
//! endpoint saw no request.
//!
//! Needs Node.js and `npm ci --prefix tests/oidc` (or `bash tests/interop/install.sh`).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{Clock as _, ManualClock, SystemClock};
use auth_integration_tests::oidc::KeyFile;
use auth_integration_tests::oidc_login::{
    Browser, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, LoginProvider, PUBLIC_CLIENT, Page,
    abort_at_provider, sign_in_at_provider,
};
use demo_server::config::Config;
use serde_json::{Value, json};

const SECRET: &str = "demo provider login tests secret, 32+ bytes";

/// A provider process and its key file.
struct Idp {
    provider: LoginProvider,
    _key: KeyFile,
}

impl Idp {
    fn start(redirect_uris: &[&str]) -> Self {
        let key = KeyFile::fresh("demo-login");
        let provider = LoginProvider::start(&key, redirect_uris).unwrap_or_else(|e| panic!("{e}"));
        Self {
            provider,
            _key: key,
        }
    }

    fn issuer(&self) -> &str {
        self.provider.issuer()
    }

    async fn token_requests(&self) -> usize {
        self.provider.token_requests().await.unwrap()
    }
}

/// The demo with providers `acme` (public client) and, with [`Rig::two_providers`], `beta` (a
/// second provider instance, confidential client), served on 127.0.0.1.
struct Rig {
    origin: String,
    acme: Idp,
    beta: Option<Idp>,
    demo: demo_server::Demo,
    clock: ManualClock,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Rig {
    async fn one_provider() -> Self {
        Self::start(false).await
    }

    async fn two_providers() -> Self {
        Self::start(true).await
    }

    async fn start(two: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let origin = format!("http://{addr}");
        let callbacks = [
            format!("{origin}/auth/login/acme/callback"),
            format!("{origin}/auth/login/beta/callback"),
        ];
        let uris: Vec<&str> = callbacks.iter().map(String::as_str).collect();
        let acme = Idp::start(&uris);
        let beta = two.then(|| Idp::start(&uris));
        let mut vars: Vec<(String, String)> = vec![
            ("AUTH_DEMO_ADDR".into(), addr.to_string()),
            ("AUTH_JWT_SECRET".into(), SECRET.into()),
            ("AUTH_PASSWORD_MAX_WAIT_MS".into(), "10000".into()),
            ("AUTH_LOGIN_ACME_ISSUER".into(), acme.issuer().into()),
            ("AUTH_LOGIN_ACME_CLIENT_ID".into(), PUBLIC_CLIENT.into()),
        ];
        let mut providers = "acme".to_owned();
        if let Some(beta) = &beta {
            providers.push_str(",beta");
            vars.extend([
                ("AUTH_LOGIN_BETA_ISSUER".into(), beta.issuer().into()),
                (
                    "AUTH_LOGIN_BETA_CLIENT_ID".into(),
                    CONFIDENTIAL_CLIENT.into(),
                ),
                (
                    "AUTH_LOGIN_BETA_CLIENT_SECRET".into(),
                    CONFIDENTIAL_SECRET.into(),
                ),
            ]);
        }
        vars.push(("AUTH_LOGIN_PROVIDERS".into(), providers));
        let config =
            Config::from_env(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
                .unwrap();
        // A manual clock at the real time: the provider's ID tokens are checked against it, and
        // the second-factor test moves it one TOTP step on.
        let clock = ManualClock::new(SystemClock.now());
        let (demo, _) =
            demo_server::Demo::from_config_with_clock(&config, Arc::new(clock.clone())).unwrap();
        let app = demo_server::app_with(demo.clone()).unwrap();
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            origin,
            acme,
            beta,
            demo,
            clock,
            server,
        }
    }

    fn beta(&self) -> &Idp {
        self.beta.as_ref().unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn callback(&self, provider: &str) -> String {
        self.url(&format!("/auth/login/{provider}/callback"))
    }

    /// Goes from the demo's begin route (`path_and_query` under `/auth/login/<provider>`)
    /// through the provider's pages as `user`; the callback URL, not requested.
    async fn to_callback(
        &self,
        browser: &Browser,
        provider: &str,
        query: &str,
        user: &str,
    ) -> String {
        let start = self.url(&format!("/auth/login/{provider}{query}"));
        let idp = if provider == "beta" {
            self.beta()
        } else {
            &self.acme
        };
        sign_in_at_provider(browser, &start, user, &self.callback(provider))
            .await
            .unwrap_or_else(|e| panic!("{e}\nprovider stderr:\n{}", idp.provider.stderr()))
    }

    /// A whole sign-in: the callback's answer.
    async fn sign_in(&self, browser: &Browser, provider: &str, user: &str) -> Page {
        let cb = self.to_callback(browser, provider, "", user).await;
        browser.get(&cb).await.unwrap()
    }

    async fn me(&self, browser: &Browser) -> (u16, Value) {
        let page = browser.get(&self.url("/api/me")).await.unwrap();
        (
            page.status,
            serde_json::from_str(&page.body).unwrap_or(Value::Null),
        )
    }

    /// `POST path` with a JSON body and this browser's cookies (and its CSRF cookie echoed);
    /// the answer's cookies are kept.
    async fn post_json(&self, browser: &Browser, path: &str, body: &Value) -> (u16, Value) {
        let url = self.url(path);
        let mut req = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(cookies) = browser.cookie_header(&url) {
            req = req.header("cookie", cookies);
        }
        if let Some(csrf) = browser.cookie("csrf_token") {
            req = req.header("x-csrf-token", csrf);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        for c in res.headers().get_all("set-cookie") {
            browser.store(&url, c.to_str().unwrap());
        }
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A password account, signed in to a cookie session in `browser`; its subject.
    async fn password_session(&self, browser: &Browser, email: &str) -> String {
        let creds = json!({"email": email, "password": "a good password"});
        let (status, body) = self.post_json(browser, "/auth/register", &creds).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = self.post_json(browser, "/auth/session/login", &creds).await;
        assert_eq!(status, 200, "{body}");
        body["sub"].as_str().unwrap().to_owned()
    }
}

fn header_value<'p>(page: &'p Page, cookie: &str) -> Option<&'p str> {
    page.set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{cookie}=")))
        .map(String::as_str)
}

/// The answer started no session, and the browser has none.
async fn assert_no_session(rig: &Rig, browser: &Browser, page: &Page) {
    for name in ["access_token", "refresh_token"] {
        assert!(
            header_value(page, name).is_none_or(|c| c.starts_with(&format!("{name}=;"))),
            "{name} set by {}: {:?}",
            page.url,
            page.set_cookies
        );
    }
    assert_eq!(browser.cookie("access_token"), None);
    assert_eq!(rig.me(browser).await.0, 401);
}

fn error_code(page: &Page) -> String {
    let v: Value = serde_json::from_str(&page.body).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or("").to_owned()
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .map_or("", |(_, q)| q)
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_creates_an_account_and_starts_a_cookie_session() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let cb = rig
        .to_callback(&browser, "acme", "?return_to=/orders", "ann")
        .await;
    let page = browser.get(&cb).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/orders").as_str()));
    // The cookies of POST /auth/session/login, and the transaction cookie removed.
    let access = header_value(&page, "access_token").unwrap();
    assert!(
        access.contains("HttpOnly") && access.contains("SameSite=Lax"),
        "{access}"
    );
    assert!(
        header_value(&page, "refresh_token")
            .unwrap()
            .contains("Path=/auth/session")
    );
    assert!(header_value(&page, "csrf_token").is_some());
    assert!(
        !browser
            .cookie_names()
            .iter()
            .any(|n| n.contains("auth_login_")),
        "{:?}",
        browser.cookie_names()
    );

    let (status, me) = rig.me(&browser).await;
    assert_eq!(status, 200, "{me}");
    let sub = me["sub"].as_str().unwrap();
    assert!(sub.starts_with("usr_"), "{me}");
    assert_eq!(me["amr"], json!(["ext"]));
    assert_eq!(me["roles"], json!(["user"]));
    assert_eq!(
        me["identities"],
        json!([{"provider": "acme", "iss": rig.acme.issuer(), "sub": "ann"}])
    );
    // The account exists, without a password, with the provider's email for display.
    let account = rig.demo.users.by_subject(sub).await.unwrap().unwrap();
    assert_eq!(account.email.as_deref(), Some("ann@example.test"));
    let login = json!({"email": "ann@example.test", "password": "any password at all"});
    let (status, body) = rig
        .post_json(&Browser::new().unwrap(), "/auth/login", &login)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("INVALID_CREDENTIALS"))
    );
    // The session is a real one: refresh works with the CSRF cookie.
    let (status, body) = rig
        .post_json(&browser, "/auth/session/refresh", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_with_the_same_identity_reuses_the_account() {
    let rig = Rig::one_provider().await;
    let first = Browser::new().unwrap();
    assert_eq!(rig.sign_in(&first, "acme", "bea").await.status, 303);
    let (_, me1) = rig.me(&first).await;
    // Another browser, so the provider asks for the login again.
    let second = Browser::new().unwrap();
    let page = rig.sign_in(&second, "acme", "bea").await;
    assert_eq!(page.status, 303, "{}", page.body);
    let (_, me2) = rig.me(&second).await;
    assert_eq!(me1["sub"], me2["sub"]);
    assert_eq!(me2["identities"].as_array().unwrap().len(), 1);
    // Two sessions of one account: two sessions, not one.
    assert_ne!(
        first.cookie("refresh_token"),
        second.cookie("refresh_token")
    );
    // A different user at the provider is a different account.
    let third = Browser::new().unwrap();
    rig.sign_in(&third, "acme", "cid").await;
    assert_ne!(rig.me(&third).await.1["sub"], me1["sub"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_of_two_providers_link_to_a_password_account_and_to_no_other() {
    let rig = Rig::two_providers().await;
    let browser = Browser::new().unwrap();
    let sub = rig.password_session(&browser, "pat@example.com").await;

    // Link acme's "pat", then beta's "pat" (another issuer: another identity).
    for provider in ["acme", "beta"] {
        let cb = rig
            .to_callback(&browser, provider, "?link=true&return_to=/linked", "pat")
            .await;
        let page = browser.get(&cb).await.unwrap();
        assert_eq!(page.status, 303, "{provider}: {}", page.body);
        assert_eq!(page.location.as_deref(), Some(rig.url("/linked").as_str()));
        // Linking keeps the session: no new session cookie.
        assert!(
            header_value(&page, "access_token").is_none(),
            "{:?}",
            page.set_cookies
        );
    }
    let (status, me) = rig.me(&browser).await;
    assert_eq!(status, 200);
    assert_eq!(me["sub"], sub.as_str());
    assert_eq!(me["amr"], json!(["pwd"]));
    assert_eq!(
        me["identities"],
        json!([
            {"provider": "acme", "iss": rig.acme.issuer(), "sub": "pat"},
            {"provider": "beta", "iss": rig.beta().issuer(), "sub": "pat"},
        ])
    );

    // Either identity now signs in to the password account.
    for provider in ["beta", "acme"] {
        let other = Browser::new().unwrap();
        assert_eq!(rig.sign_in(&other, provider, "pat").await.status, 303);
        let (_, me) = rig.me(&other).await;
        assert_eq!(me["sub"], sub.as_str(), "{provider}");
        assert_eq!(me["amr"], json!(["ext"]));
    }

    // Another account cannot take acme's "pat": 409, nothing linked, its session unchanged.
    let mallory = Browser::new().unwrap();
    let msub = rig.password_session(&mallory, "mal@example.com").await;
    let cb = rig.to_callback(&mallory, "acme", "?link=true", "pat").await;
    let page = mallory.get(&cb).await.unwrap();
    assert_eq!(page.status, 409, "{}", page.body);
    assert_eq!(error_code(&page), "IDENTITY_ALREADY_LINKED");
    assert!(header_value(&page, "access_token").is_none());
    let (_, me) = rig.me(&mallory).await;
    assert_eq!(me["sub"], msub.as_str());
    assert!(me.get("identities").is_none(), "{me}");

    // Linking needs a session: without one, 401 before the provider is involved.
    let anonymous = Browser::new().unwrap();
    let page = anonymous
        .get(&rig.url("/auth/login/acme?link=true"))
        .await
        .unwrap();
    assert_eq!(page.status, 401);
    assert_eq!(error_code(&page), "MISSING_CREDENTIALS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_logins_started_in_two_tabs_complete_in_reverse_order() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let first = rig
        .to_callback(&browser, "acme", "?return_to=/first", "tab")
        .await;
    let second = rig
        .to_callback(&browser, "acme", "?return_to=/second", "tab")
        .await;
    assert_ne!(param(&first, "state"), param(&second, "state"));
    let page = browser.get(&second).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/second").as_str()));
    let (_, me_second) = rig.me(&browser).await;
    let page = browser.get(&first).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/first").as_str()));
    let (_, me_first) = rig.me(&browser).await;
    assert_eq!(me_first["sub"], me_second["sub"]);
    assert_eq!(rig.acme.token_requests().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_duplicated_missing_or_replayed_state_starts_no_session() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let mine = rig.to_callback(&browser, "acme", "", "ann").await;
    // The attacker's own callback, sent to my browser (login CSRF).
    let theirs = rig
        .to_callback(&Browser::new().unwrap(), "acme", "", "mallory")
        .await;
    let query = mine.split_once('?').unwrap().1;
    let without_state: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("state="))
        .collect();
    let cases = [
        ("swapped", theirs.clone()),
        (
            "duplicated",
            format!("{mine}&state={}", param(&mine, "state")),
        ),
        (
            "missing",
            format!("{}?{}", rig.callback("acme"), without_state.join("&")),
        ),
    ];
    // My transaction cookie, put back after each refusal (a refused callback clears the
    // transaction cookie it names).
    let kept: Vec<String> = browser
        .cookie_names()
        .into_iter()
        .filter(|n| n.contains("auth_login_"))
        .map(|n| format!("{n}={}; Path=/", browser.cookie(&n).unwrap()))
        .collect();
    assert_eq!(kept.len(), 1);
    for (what, url) in &cases {
        let page = browser.get(url).await.unwrap();
        assert_eq!(page.status, 400, "{what}: {}", page.body);
        assert_eq!(error_code(&page), "LOGIN_STATE_INVALID", "{what}");
        assert_no_session(&rig, &browser, &page).await;
        browser.store(&rig.url("/"), &kept[0]);
    }
    assert_eq!(rig.acme.token_requests().await, 0);

    // The real callback works once; replayed by a client that kept the cookie, refused.
    let page = browser.get(&mine).await.unwrap();
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(rig.acme.token_requests().await, 1);
    let replayer = Browser::new().unwrap();
    replayer.store(&rig.url("/"), &kept[0]);
    let page = replayer.get(&mine).await.unwrap();
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(error_code(&page), "LOGIN_STATE_INVALID");
    assert_no_session(&rig, &replayer, &page).await;
    assert_eq!(rig.acme.token_requests().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_iss_starts_no_session_and_never_reaches_the_token_endpoint() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let cb = rig.to_callback(&browser, "acme", "", "ann").await;
    let forged = cb.replace(param(&cb, "iss"), "https%3A%2F%2Fevil.example");
    assert_ne!(forged, cb);
    let page = browser.get(&forged).await.unwrap();
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(error_code(&page), "LOGIN_FAILED");
    assert_no_session(&rig, &browser, &page).await;
    assert_eq!(rig.acme.token_requests().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_at_the_provider_starts_no_session_and_says_why() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    let cb = abort_at_provider(
        &browser,
        &rig.url("/auth/login/acme"),
        &rig.callback("acme"),
    )
    .await
    .unwrap();
    let page = browser.get(&cb).await.unwrap();
    assert_eq!(page.status, 400, "{}", page.body);
    let body: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(body["error"]["code"], "LOGIN_FAILED");
    assert_eq!(body["error"]["provider_error"], "access_denied");
    assert_no_session(&rig, &browser, &page).await;
    assert!(
        !browser
            .cookie_names()
            .iter()
            .any(|n| n.contains("auth_login_")),
        "transaction cleared"
    );
    assert_eq!(rig.acme.token_requests().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_to_off_this_origin_lands_on_the_home_page() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    // `//evil.example`, `https://evil.example`, `/\evil.example`, `/%2F%2Fevil.example`,
    // percent-encoded in the begin URL's query.
    for encoded in [
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%252F%252Fevil.example",
    ] {
        let cb = rig
            .to_callback(&browser, "acme", &format!("?return_to={encoded}"), "ann")
            .await;
        let page = browser.get(&cb).await.unwrap();
        assert_eq!(page.status, 303, "{encoded}: {}", page.body);
        assert_eq!(
            page.location.as_deref(),
            Some(rig.url("/").as_str()),
            "{encoded}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_begin_route_404s_for_an_unknown_provider_and_post_auth_login_still_works() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    for path in ["/auth/login/nope", "/auth/login/nope/callback"] {
        assert_eq!(
            browser.get(&rig.url(path)).await.unwrap().status,
            404,
            "{path}"
        );
    }
    let page = browser.get(&rig.url("/auth/login/acme")).await.unwrap();
    assert_eq!(page.status, 303);
    assert!(
        page.location
            .as_deref()
            .unwrap()
            .starts_with(&format!("{}/auth?", rig.acme.issuer())),
        "{:?}",
        page.location
    );
    // The password login beside the provider routes.
    let creds = json!({"email": "demo@example.com", "password": "demo-password"});
    let (status, body) = rig.post_json(&browser, "/auth/login", &creds).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    // The page offers the provider.
    let page = browser.get(&rig.url("/")).await.unwrap();
    assert!(
        page.body
            .contains(r#"href="/auth/login/acme?return_to=/">Sign in with acme</a>"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_login_to_an_account_with_totp_needs_the_second_factor() {
    let rig = Rig::one_provider().await;
    let browser = Browser::new().unwrap();
    assert_eq!(rig.sign_in(&browser, "acme", "tess").await.status, 303);
    let (status, body) = rig
        .post_json(&browser, "/auth/mfa/totp/enroll", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let secret = auth_core::mfa::TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
    let p = rig.demo.mfa.totp_params();
    let code = || p.format(p.code_at(secret.as_bytes(), p.step_at(rig.clock.now())));
    let (status, body) = rig
        .post_json(&browser, "/auth/mfa/totp/confirm", &json!({"code": code()}))
        .await;
    assert_eq!(status, 200, "{body}");
    rig.clock.advance(Duration::from_secs(30));

    // A new browser signs in with the provider: no session, the second step instead.
    let other = Browser::new().unwrap();
    let page = rig.sign_in(&other, "acme", "tess").await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(rig.url("/").as_str()));
    assert_no_session(&rig, &other, &page).await;
    let mfa_token = other.cookie("mfa_login").unwrap();
    let (status, body) = rig
        .post_json(
            &other,
            "/auth/mfa/verify",
            &json!({"mfa_token": mfa_token, "code": code()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, me) = rig.me(&other).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["amr"], json!(["ext", "otp", "mfa"]), "no pwd is claimed");
    assert_eq!(me["mfa"]["totp"], true);
}
