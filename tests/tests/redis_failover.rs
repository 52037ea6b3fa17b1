//! The failure policies end to end: an instance on a private `redis-server` (default 100 ms
//! timeout) while Redis is stopped or frozen, and after it comes back.
//!
//! | store | while Redis is away |
//! |---|---|
//! | revocation (`BearerLayer`) | 503 `AUTH_BACKEND_UNAVAILABLE` |
//! | API keys (`ApiKeyLayer`) | 503 `AUTH_BACKEND_UNAVAILABLE` |
//! | refresh tokens (`RefreshTokens`) | 503 `AUTH_BACKEND_UNAVAILABLE` |
//! | brute force, default (`/auth/login`, `/session/login-closed`) | 503 `AUTH_BACKEND_UNAVAILABLE` |
//! | brute force, `dangerous_fail_open_on_store_error` (`/session/login-open`) | the handler answers (unprotected) |
//!
//! Every answer comes within a bound (no request hangs), and the same instance serves normally
//! again once Redis is back, without a restart. Skipped without `redis-server`, except under
//! `CI=true`, where that fails.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use auth_redis::test_util::{RedisServer, private_redis_server, unique_prefix};
use common::{Answer, Instance, SECRET, client, instance, send};
use reqwest::Method;
use serde_json::json;

/// How long a request may take while Redis is away: the 100 ms store timeout plus a loaded
/// CI machine, far from "hangs".
const ANSWERS_WITHIN: Duration = Duration::from_secs(2);
/// How long the instance may take to serve normally once Redis is back.
const RECOVERS_WITHIN: Duration = Duration::from_secs(15);

struct Fixture {
    server: RedisServer,
    inst: Instance,
    http: reqwest::Client,
    bearer: String,
    api_key: String,
}

async fn fixture() -> Option<Fixture> {
    let server = private_redis_server().expect("a private redis-server")?;
    let inst = instance(
        &server.url(),
        &unique_prefix("failover"),
        auth_redis::DEFAULT_TIMEOUT,
    )
    .await;
    let http = client();
    let bearer = format!(
        "Bearer {}",
        demo_server::demo_token(SECRET.as_bytes(), "auth-demo", "auth-demo-api").unwrap()
    );
    let mut f = Fixture {
        server,
        inst,
        http,
        bearer,
        api_key: String::new(),
    };
    f.api_key = f.new_api_key().await;
    Some(f)
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inst.base)
    }

    async fn new_api_key(&self) -> String {
        let res = send(
            &self.http,
            Method::POST,
            &self.url("/api/keys"),
            &[("authorization", &self.bearer)],
            Some(json!({"name": "ci", "scopes": ["read:orders"]})),
        )
        .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        res.body["api_key"].as_str().unwrap().to_owned()
    }

    async fn me(&self) -> Answer {
        let h = [("authorization", self.bearer.as_str())];
        send(&self.http, Method::GET, &self.url("/session/me"), &h, None).await
    }

    async fn orders(&self, key: &str) -> Answer {
        let h = [("x-api-key", key)];
        send(&self.http, Method::GET, &self.url("/api/orders"), &h, None).await
    }

    async fn login(&self, path: &str, password: &str) -> Answer {
        send(
            &self.http,
            Method::POST,
            &self.url(path),
            &[("x-forwarded-for", "198.51.100.9")],
            Some(json!({"email": "demo@example.com", "password": password})),
        )
        .await
    }

    async fn start_session(&self) -> Answer {
        let body = Some(json!({"sub": "alice"}));
        send(
            &self.http,
            Method::POST,
            &self.url("/session/start"),
            &[],
            body,
        )
        .await
    }

    async fn refresh(&self, token: &str) -> Answer {
        let body = Some(json!({"refresh_token": token}));
        send(
            &self.http,
            Method::POST,
            &self.url("/session/refresh"),
            &[],
            body,
        )
        .await
    }

    /// While Redis is away: every store fails closed except the fail-open limiter, each
    /// answer within [`ANSWERS_WITHIN`].
    async fn assert_policies_while_redis_is_away(&self, refresh_token: &str) {
        let unavailable = |what: &str, res: Answer, took: Duration| {
            assert_eq!(res.status, 503, "{what}: {:?}", res.body);
            assert_eq!(res.code(), "AUTH_BACKEND_UNAVAILABLE", "{what}");
            assert!(took < ANSWERS_WITHIN, "{what} took {took:?}");
        };
        let t = Instant::now();
        unavailable("bearer + revocation", self.me().await, t.elapsed());
        let t = Instant::now();
        unavailable("api key", self.orders(&self.api_key).await, t.elapsed());
        let t = Instant::now();
        unavailable("refresh", self.refresh(refresh_token).await, t.elapsed());
        let t = Instant::now();
        unavailable(
            "brute force (closed)",
            self.login("/session/login-closed", "right").await,
            t.elapsed(),
        );
        let t = Instant::now();
        unavailable(
            "demo login",
            self.login("/auth/login", "demo-password").await,
            t.elapsed(),
        );
        // Fail open: the handler's answer goes out, unprotected.
        let t = Instant::now();
        let res = self.login("/session/login-open", "right").await;
        assert_eq!(res.status, 200, "fail open: {:?}", res.body);
        assert!(t.elapsed() < ANSWERS_WITHIN);
        let res = self.login("/session/login-open", "wrong").await;
        assert_eq!(res.status, 401, "fail open: {:?}", res.body);
    }

    /// Bounded polling until the instance serves a bearer request again.
    async fn recovers(&self) -> Duration {
        let started = Instant::now();
        loop {
            let res = self.me().await;
            if res.status == 200 {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < RECOVERS_WITHIN,
                "not recovered within {RECOVERS_WITHIN:?}: {} {:?}",
                res.status,
                res.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_stores_fail_closed_the_open_limiter_passes_and_all_recover() {
    let Some(mut f) = fixture().await else { return };
    let session = f.start_session().await;
    assert_eq!(session.status, 200);
    let token = session.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(f.me().await.status, 200);
    assert_eq!(f.orders(&f.api_key).await.status, 200);
    assert_eq!(f.login("/session/login-closed", "right").await.status, 200);

    f.server.stop();
    f.assert_policies_while_redis_is_away(&token).await;
    // Still bounded on a second round, while the connection keeps retrying.
    f.assert_policies_while_redis_is_away(&token).await;

    f.server.start().expect("redis restarts");
    let took = f.recovers().await;
    eprintln!("served again {took:?} after redis restarted");
    // The same instance, no restart: every store works again. (This test server keeps no data
    // across restarts, so the session and key are new.)
    assert_eq!(f.login("/session/login-closed", "right").await.status, 200);
    let session = f.start_session().await;
    assert_eq!(session.status, 200, "{:?}", session.body);
    let token = session.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(f.refresh(&token).await.status, 200);
    let key = f.new_api_key().await;
    assert_eq!(f.orders(&key).await.status, 200);
    assert_eq!(f.login("/auth/login", "wrong-password").await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_frozen_requests_get_503_within_the_timeout_and_resume_when_it_thaws() {
    let Some(f) = fixture().await else { return };
    let kept = f.start_session().await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A token only for the refresh attempted during the freeze: that rotation may still run
    // when Redis thaws (a timeout is not a "no"), see auth-redis' failure tests.
    let probe = f.start_session().await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(f.orders(&f.api_key).await.status, 200);

    f.server.pause().expect("SIGSTOP");
    f.assert_policies_while_redis_is_away(&probe).await;
    f.server.resume().expect("SIGCONT");
    f.recovers().await;
    // Nothing was lost: the key and the refresh token from before the freeze still work.
    assert_eq!(f.orders(&f.api_key).await.status, 200);
    let res = f.refresh(&kept).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}
