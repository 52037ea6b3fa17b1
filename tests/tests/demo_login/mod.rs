//! The demo server with login providers, served in-process on a loopback listener beside real
//! OpenID Providers (npm `oidc-provider`, `tests/oidc/login_provider.mjs`), for
//! `demo_provider_login.rs` and `demo_provider_login_refused.rs` (issue 14). The demo is
//! configured through the same `AUTH_*` variables as the binary; its port is bound first,
//! since the provider must know the redirect URI.

#![allow(dead_code)]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    unreachable_pub,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;

use auth_core::clock::{Clock as _, ManualClock, SystemClock};
use auth_integration_tests::oidc::KeyFile;
use auth_integration_tests::oidc_login::{
    Browser, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, LoginProvider, PUBLIC_CLIENT, Page,
    sign_in_at_provider,
};
use demo_server::config::Config;
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "demo provider login tests secret, 32+ bytes";

/// A provider process and its key file.
pub(crate) struct Idp {
    pub(crate) provider: LoginProvider,
    _key: KeyFile,
}

impl Idp {
    pub(crate) fn start(redirect_uris: &[&str]) -> Self {
        let key = KeyFile::fresh("demo-login");
        let provider = LoginProvider::start(&key, redirect_uris).unwrap_or_else(|e| panic!("{e}"));
        Self {
            provider,
            _key: key,
        }
    }

    pub(crate) fn issuer(&self) -> &str {
        self.provider.issuer()
    }

    pub(crate) async fn token_requests(&self) -> usize {
        self.provider.token_requests().await.unwrap()
    }
}

/// The demo with providers `acme` (public client) and, with [`Rig::two_providers`], `beta` (a
/// second provider instance, confidential client), served on 127.0.0.1.
pub(crate) struct Rig {
    pub(crate) origin: String,
    pub(crate) acme: Idp,
    pub(crate) beta: Option<Idp>,
    pub(crate) demo: demo_server::Demo,
    pub(crate) clock: ManualClock,
    pub(crate) server: tokio::task::JoinHandle<()>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Rig {
    pub(crate) async fn one_provider() -> Self {
        Self::start(false).await
    }

    pub(crate) async fn two_providers() -> Self {
        Self::start(true).await
    }

    pub(crate) async fn start(two: bool) -> Self {
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

    pub(crate) fn beta(&self) -> &Idp {
        self.beta.as_ref().unwrap()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    pub(crate) fn callback(&self, provider: &str) -> String {
        self.url(&format!("/auth/login/{provider}/callback"))
    }

    /// Goes from the demo's begin route (`path_and_query` under `/auth/login/<provider>`)
    /// through the provider's pages as `user`; the callback URL, not requested.
    pub(crate) async fn to_callback(
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
    pub(crate) async fn sign_in(&self, browser: &Browser, provider: &str, user: &str) -> Page {
        let cb = self.to_callback(browser, provider, "", user).await;
        browser.get(&cb).await.unwrap()
    }

    pub(crate) async fn me(&self, browser: &Browser) -> (u16, Value) {
        let page = browser.get(&self.url("/api/me")).await.unwrap();
        (
            page.status,
            serde_json::from_str(&page.body).unwrap_or(Value::Null),
        )
    }

    /// `POST path` with a JSON body and this browser's cookies (and its CSRF cookie echoed);
    /// the answer's cookies are kept.
    pub(crate) async fn post_json(
        &self,
        browser: &Browser,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
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
    pub(crate) async fn password_session(&self, browser: &Browser, email: &str) -> String {
        let creds = json!({"email": email, "password": "a good password"});
        let (status, body) = self.post_json(browser, "/auth/register", &creds).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = self.post_json(browser, "/auth/session/login", &creds).await;
        assert_eq!(status, 200, "{body}");
        body["sub"].as_str().unwrap().to_owned()
    }
}

pub(crate) fn header_value<'p>(page: &'p Page, cookie: &str) -> Option<&'p str> {
    page.set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{cookie}=")))
        .map(String::as_str)
}

/// The answer started no session, and the browser has none.
pub(crate) async fn assert_no_session(rig: &Rig, browser: &Browser, page: &Page) {
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

pub(crate) fn error_code(page: &Page) -> String {
    let v: Value = serde_json::from_str(&page.body).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or("").to_owned()
}

pub(crate) fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .map_or("", |(_, q)| q)
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// Two demo instances behind one public URL (instance A's origin, as behind a load balancer),
/// sharing every store through Redis, with provider `acme`.
pub(crate) struct RedisPair {
    pub(crate) a: String,
    pub(crate) b: String,
    pub(crate) acme: Idp,
    stores: demo_server::stores::Stores,
    servers: Vec<tokio::task::JoinHandle<()>>,
    _redis: auth_redis::test_util::TestRedis,
}

impl RedisPair {
    /// `None` (skipped) without a Redis; under `CI=true` a missing Redis fails.
    pub(crate) async fn start() -> Option<Self> {
        let redis = auth_redis::test_util::redis_for_tests().unwrap()?;
        let prefix = auth_redis::test_util::unique_prefix("demo-login");
        let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = format!("http://{}", la.local_addr().unwrap());
        let b = format!("http://{}", lb.local_addr().unwrap());
        let acme = Idp::start(&[&format!("{a}/auth/login/acme/callback")]);
        let key = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let vars: Vec<(&str, String)> = vec![
            ("AUTH_JWT_SECRET", SECRET.into()),
            ("AUTH_DEMO_PUBLIC_URL", a.clone()),
            ("AUTH_MFA_SEALING_KEY", key.into()),
            ("AUTH_MFA_RECOVERY_KEY", key.into()),
            ("AUTH_LOGIN_SEALING_KEY", key.into()),
            ("AUTH_LOGIN_PROVIDERS", "acme".into()),
            ("AUTH_LOGIN_ACME_ISSUER", acme.issuer().into()),
            ("AUTH_LOGIN_ACME_CLIENT_ID", PUBLIC_CLIENT.into()),
        ];
        let config =
            Config::from_env(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
                .unwrap();
        let store_config = demo_server::stores::StoreConfig {
            redis_url: Some(redis.url()),
            redis_prefix: prefix,
            ..demo_server::stores::StoreConfig::default()
        };
        let mut servers = Vec::new();
        let mut last = None;
        for listener in [la, lb] {
            // Each instance its own stack: its own demo and Redis connections.
            let stores = demo_server::stores::Stores::from_config(&store_config).unwrap();
            let (mut demo, _) = demo_server::Demo::from_config(&config).unwrap();
            stores.apply_to(&mut demo).unwrap();
            let app = demo_server::app_with(demo).unwrap();
            servers.push(tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
                .unwrap();
            }));
            last = Some(stores);
        }
        Some(Self {
            a,
            b,
            acme,
            stores: last.unwrap(),
            servers,
            _redis: redis,
        })
    }

    /// Removes the test's keys.
    pub(crate) async fn clean_up(&self) {
        if let Some(redis) = self.stores.redis() {
            let _ = auth_redis::test_util::delete_prefix(redis).await;
        }
    }
}

impl Drop for RedisPair {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}
