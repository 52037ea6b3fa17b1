//! Two instances of the demo that share nothing but their stores (separate stacks, connections
//! and listeners; the same signing secret, as any deployment behind a load balancer), and every
//! security decision holds across both. Each scenario runs twice: `on_redis::*` with every
//! store in one Redis, and `on_postgres_and_redis::*` with the durable state in one PostgreSQL
//! and the counters in one Redis (issue 19):
//!
//! - a lockout earned through A blocks at B (and a rate limit used up at A holds at B);
//! - a logout at A rejects the token at B;
//! - a refresh token rotated at A and replayed at B is reuse, and the family dies everywhere;
//! - an API key revoked at A is refused at B;
//! - 100 concurrent refreshes of one token, spread over both instances, have exactly one winner.
//! - a TOTP code accepted at A is refused at B, and so is a recovery code redeemed at A (issue
//!   15: every MFA store is shared).
//!
//! Redis: `REDIS_URL`, or a private `redis-server`; PostgreSQL: `DATABASE_URL`. Without them the
//! tests are skipped, except under `CI=true`, where they fail. Each test uses its own key
//! prefix and schema.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use auth_postgres::test_util::{database_url_for_tests, drop_schema, unique_schema};
use auth_redis::test_util::{TestRedis, delete_prefix, redis_for_tests, unique_prefix};
use common::{Instance, SECRET, client, instance_with, send};
use demo_server::stores::StoreConfig;
use reqwest::Method;
use serde_json::json;

/// Where the two instances keep their shared state.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Every store in one Redis (`REDIS_URL`).
    Redis,
    /// Issue 19: users, API keys, refresh families, revocations, identities and MFA state in
    /// one PostgreSQL (`DATABASE_URL`, a fresh schema per test), brute-force counters and DPoP
    /// proofs in one Redis.
    PostgresAndRedis,
}

/// Two instances sharing one Redis (and, in [`Mode::PostgresAndRedis`], one database), under a
/// fresh key prefix and schema.
async fn pair(mode: Mode, tag: &str) -> Option<(TestRedis, Instance, Instance)> {
    let redis = redis_for_tests().expect("a Redis for the multi-instance tests")?;
    let prefix = unique_prefix(tag);
    // The tests are not about timeouts: be generous with a loaded CI machine.
    let timeout = Duration::from_secs(2);
    let config = StoreConfig {
        redis_url: Some(redis.url()),
        redis_prefix: prefix,
        redis_timeout: timeout,
        ..StoreConfig::default()
    };
    let config = match mode {
        Mode::Redis => config,
        Mode::PostgresAndRedis => StoreConfig {
            database_url: Some(database_url_for_tests()?),
            database_schema: Some(unique_schema(tag)),
            database_timeout: timeout,
            ..config
        },
    };
    let a = instance_with(&config).await;
    let b = instance_with(&config).await;
    let kind = match mode {
        Mode::Redis => "redis",
        Mode::PostgresAndRedis => "postgres+redis",
    };
    assert_eq!((a.stores.kind(), b.stores.kind()), (kind, kind));
    Some((redis, a, b))
}

/// Deletes the test's Redis keys and, with PostgreSQL, its schema.
async fn cleanup(a: &Instance) {
    delete_prefix(a.stores.redis().expect("redis stores"))
        .await
        .expect("cleanup");
    if let Some(pg) = a.stores.postgres() {
        drop_schema(pg).await.expect("drop the test's schema");
    }
}

/// Runs each scenario in both modes: `on_redis::NAME` and `on_postgres_and_redis::NAME`.
macro_rules! in_both_modes {
    ($($name:ident: $threads:literal),* $(,)?) => {
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    super::$name(super::Mode::Redis).await;
                }
            )*
        }
        mod on_postgres_and_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    super::$name(super::Mode::PostgresAndRedis).await;
                }
            )*
        }
    };
}

in_both_modes! {
    a_lockout_earned_through_a_blocks_at_b: 2,
    a_logout_at_a_rejects_the_token_at_b: 2,
    a_refresh_token_rotated_at_a_and_replayed_at_b_is_reuse_and_the_family_dies: 2,
    an_api_key_revoked_at_a_is_refused_at_b: 2,
    a_hundred_concurrent_refreshes_over_both_instances_have_exactly_one_winner: 4,
    a_user_registered_at_a_logs_in_at_b_and_the_session_is_shared: 2,
    a_totp_code_accepted_at_a_is_refused_at_b: 2,
}

fn demo_token() -> String {
    demo_server::demo_token(SECRET.as_bytes(), "auth-demo", "auth-demo-api").unwrap()
}

async fn a_lockout_earned_through_a_blocks_at_b(mode: Mode) {
    let Some((_shared, a, b)) = pair(mode, "lockout").await else {
        return;
    };
    let http = client();
    let login_as = |inst: &Instance, ip: &str, email: &str, password: &str| {
        let url = format!("{}/auth/login", inst.base);
        let (http, ip) = (http.clone(), ip.to_owned());
        let body = json!({"email": email, "password": password});
        async move {
            send(
                &http,
                Method::POST,
                &url,
                &[("x-forwarded-for", &ip)],
                Some(body),
            )
            .await
        }
    };
    let login = |inst: &Instance, ip: &str, password: &str| {
        login_as(inst, ip, "demo@example.com", password)
    };
    // Five wrong passwords for the account through A, each from its own address.
    for i in 1..=5 {
        let res = login(&a, &format!("198.51.100.{i}"), "wrong-password").await;
        assert_eq!(res.status, 401, "{:?}", res.body);
    }
    // Through B, one of those (now suspect) addresses is refused even with the right password.
    let res = login(&b, "198.51.100.1", "demo-password").await;
    assert_eq!(res.status, 429, "{:?}", res.body);
    assert_eq!(res.code(), "TOO_MANY_ATTEMPTS");
    assert!(res.retry_after.is_some());

    // A client's rate limit used up through A holds at B: the sixth attempt within the
    // minute is refused before the handler runs.
    for _ in 0..5 {
        let res = login_as(&a, "203.0.113.50", "mallory@example.com", "guess").await;
        assert_eq!(res.status, 401, "{:?}", res.body);
    }
    let res = login_as(&b, "203.0.113.50", "mallory@example.com", "guess").await;
    assert_eq!(res.status, 429, "{:?}", res.body);
    // The system clock runs: the oldest attempt leaves about a minute from now (rounded up).
    let retry: u64 = res.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((55..=61).contains(&retry), "Retry-After {retry}");

    // B still answers a client with a clean record (the default lockout scope), whose success
    // resets the account for everyone.
    let res = login(&b, "192.0.2.77", "demo-password").await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let res = login(&a, "198.51.100.2", "demo-password").await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    cleanup(&a).await;
}

async fn a_logout_at_a_rejects_the_token_at_b(mode: Mode) {
    let Some((_shared, a, b)) = pair(mode, "logout").await else {
        return;
    };
    let http = client();
    let token = demo_token();
    let bearer = format!("Bearer {token}");
    let me = |inst: &Instance| {
        let (http, url, bearer) = (
            http.clone(),
            format!("{}/session/me", inst.base),
            bearer.clone(),
        );
        async move {
            send(
                &http,
                Method::GET,
                &url,
                &[("authorization", &bearer)],
                None,
            )
            .await
        }
    };
    assert_eq!(me(&b).await.status, 200);
    let res = send(
        &http,
        Method::POST,
        &format!("{}/session/logout", a.base),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(res.status, 204, "{:?}", res.body);
    let res = me(&b).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.code(), "TOKEN_REVOKED");
    assert_eq!(me(&a).await.code(), "TOKEN_REVOKED");
    // Another token of the same user is not affected.
    let other = format!("Bearer {}", demo_token());
    let res = send(
        &http,
        Method::GET,
        &format!("{}/session/me", b.base),
        &[("authorization", &other)],
        None,
    )
    .await;
    assert_eq!(res.status, 200);
    cleanup(&a).await;
}

async fn refresh(http: &reqwest::Client, inst: &Instance, token: &str) -> common::Answer {
    send(
        http,
        Method::POST,
        &format!("{}/session/refresh", inst.base),
        &[],
        Some(json!({"refresh_token": token})),
    )
    .await
}

async fn start_session(http: &reqwest::Client, inst: &Instance) -> String {
    let res = send(
        http,
        Method::POST,
        &format!("{}/session/start", inst.base),
        &[],
        Some(json!({"sub": "alice"})),
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    res.body["refresh_token"].as_str().unwrap().to_owned()
}

async fn a_refresh_token_rotated_at_a_and_replayed_at_b_is_reuse_and_the_family_dies(mode: Mode) {
    let Some((_shared, a, b)) = pair(mode, "reuse").await else {
        return;
    };
    reuse_kills_the_family_everywhere(&a, &b).await;
    cleanup(&a).await;
}

/// The same on a private six-node Redis Cluster (`REDIS_CLUSTER_URLS`): the family's keys
/// share one hash slot, whichever node serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_replayed_at_b_is_reuse_on_a_redis_cluster() {
    let Some(cluster) = auth_redis::test_util::private_redis_cluster().expect("a redis cluster")
    else {
        return;
    };
    let config = StoreConfig {
        redis_cluster_urls: cluster.seeds(),
        redis_prefix: unique_prefix("cluster-reuse"),
        redis_timeout: Duration::from_secs(2),
        ..StoreConfig::default()
    };
    let a = instance_with(&config).await;
    let b = instance_with(&config).await;
    assert!(a.stores.redis().expect("redis stores").is_cluster());
    reuse_kills_the_family_everywhere(&a, &b).await;
    // The cluster and its data go away with the test.
}

async fn reuse_kills_the_family_everywhere(a: &Instance, b: &Instance) {
    let http = client();
    let first = start_session(&http, a).await;
    let res = refresh(&http, a, &first).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let second = res.body["refresh_token"].as_str().unwrap().to_owned();
    // The used token replayed at the other instance.
    let res = refresh(&http, b, &first).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.code(), "REFRESH_TOKEN_REUSED");
    // The family is dead at both instances: the legitimate newer token no longer works.
    for inst in [a, b] {
        let res = refresh(&http, inst, &second).await;
        assert_eq!(res.status, 401);
        assert_eq!(res.code(), "INVALID_REFRESH_TOKEN");
    }
    // A new login starts a family that works anywhere.
    let fresh = start_session(&http, b).await;
    assert_eq!(refresh(&http, a, &fresh).await.status, 200);
}

async fn an_api_key_revoked_at_a_is_refused_at_b(mode: Mode) {
    let Some((_shared, a, b)) = pair(mode, "apikey").await else {
        return;
    };
    let http = client();
    let bearer = format!("Bearer {}", demo_token());
    let res = send(
        &http,
        Method::POST,
        &format!("{}/api/keys", a.base),
        &[("authorization", &bearer)],
        Some(json!({"name": "ci", "scopes": ["read:orders"]})),
    )
    .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    let key = res.body["api_key"].as_str().unwrap().to_owned();
    let id = res.body["id"].as_str().unwrap().to_owned();
    let orders = |inst: &Instance| {
        let (http, url, key) = (
            http.clone(),
            format!("{}/api/orders", inst.base),
            key.clone(),
        );
        async move { send(&http, Method::GET, &url, &[("x-api-key", &key)], None).await }
    };
    assert_eq!(orders(&b).await.status, 200, "a key made at A works at B");
    let res = send(
        &http,
        Method::DELETE,
        &format!("{}/api/keys/{id}", a.base),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(res.status, 204, "{:?}", res.body);
    let res = orders(&b).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.code(), "API_KEY_REVOKED");
    // B lists it as revoked.
    let res = send(
        &http,
        Method::GET,
        &format!("{}/api/keys", b.base),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["keys"][0]["id"], id.as_str());
    assert_eq!(res.body["keys"][0]["status"], "revoked", "{:?}", res.body);
    cleanup(&a).await;
}

async fn a_hundred_concurrent_refreshes_over_both_instances_have_exactly_one_winner(mode: Mode) {
    let Some((_shared, a, b)) = pair(mode, "race").await else {
        return;
    };
    let http = client();
    let token = start_session(&http, &a).await;
    let urls = [a.base.clone(), b.base.clone()];
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let http = http.clone();
            let url = format!("{}/session/refresh", urls[i % 2]);
            let token = token.clone();
            tokio::spawn(async move {
                send(
                    &http,
                    Method::POST,
                    &url,
                    &[],
                    Some(json!({"refresh_token": token})),
                )
                .await
            })
        })
        .collect();
    let (mut won, mut reused, mut other) = (0, 0, Vec::new());
    for t in tasks {
        let res = t.await.unwrap();
        match (res.status, res.code()) {
            (200, _) => won += 1,
            (401, "REFRESH_TOKEN_REUSED") => reused += 1,
            (status, code) => other.push(format!("{status} {code}")),
        }
    }
    assert_eq!(won, 1, "exactly one winner; others: {other:?}");
    assert_eq!(reused, 99, "every loser sees reuse; others: {other:?}");
    cleanup(&a).await;
}

/// Through the demo's own routes: a user registered at A logs in at B (accounts in Redis), a
/// refresh token rotated at B and replayed at A is reuse (the session's access token is then
/// refused at B too), and a logout at A rejects the access token of a new session at B.
async fn a_user_registered_at_a_logs_in_at_b_and_the_session_is_shared(mode: Mode) {
    let Some((_shared, a, b)) = pair(mode, "accounts").await else {
        return;
    };
    let http = client();
    let creds = json!({"email": "multi@example.com", "password": "a long enough password"});
    let url = |inst: &Instance, path: &str| format!("{}{path}", inst.base);

    let registered = send(
        &http,
        Method::POST,
        &url(&a, "/auth/register"),
        &[],
        Some(creds.clone()),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let again = send(
        &http,
        Method::POST,
        &url(&b, "/auth/register"),
        &[],
        Some(creds.clone()),
    )
    .await;
    assert_eq!((again.status, again.code()), (409, "EMAIL_TAKEN"));

    let login = send(
        &http,
        Method::POST,
        &url(&b, "/auth/login"),
        &[],
        Some(creds.clone()),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let first_refresh = login.body["refresh_token"].as_str().unwrap().to_owned();

    let bearer = format!("Bearer {access}");
    let me = send(
        &http,
        Method::GET,
        &url(&a, "/api/me"),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["sub"], registered.body["sub"]);

    let rotated = send(
        &http,
        Method::POST,
        &url(&b, "/auth/refresh"),
        &[],
        Some(json!({"refresh_token": first_refresh})),
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let replayed = send(
        &http,
        Method::POST,
        &url(&a, "/auth/refresh"),
        &[],
        Some(json!({"refresh_token": first_refresh})),
    )
    .await;
    assert_eq!(
        (replayed.status, replayed.code()),
        (401, "REFRESH_TOKEN_REUSED")
    );
    // Issue 12, item 6: the reuse at A revoked the whole session, its access tokens included,
    // at both instances at once.
    for inst in [&a, &b] {
        let me = send(
            &http,
            Method::GET,
            &url(inst, "/api/me"),
            &[("authorization", &bearer)],
            None,
        )
        .await;
        assert_eq!(
            (me.status, me.code()),
            (401, "TOKEN_REVOKED"),
            "{}",
            me.body
        );
    }

    let relogin = send(
        &http,
        Method::POST,
        &url(&a, "/auth/login"),
        &[],
        Some(json!({"email": "multi@example.com", "password": "a long enough password"})),
    )
    .await;
    assert_eq!(relogin.status, 200, "{}", relogin.body);
    let bearer = format!("Bearer {}", relogin.body["access_token"].as_str().unwrap());
    let logout = send(
        &http,
        Method::POST,
        &url(&a, "/auth/logout-all"),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(logout.status, 204, "{}", logout.body);
    let after = send(
        &http,
        Method::GET,
        &url(&b, "/api/me"),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!((after.status, after.code()), (401, "TOKEN_REVOKED"));
    cleanup(&a).await;
}

/// The TOTP code of `secret` (base32) for the step `ahead` steps after the current one, as an
/// authenticator app computes it (the system clock: the instances read it too).
fn totp(secret: &str, ahead: u64) -> String {
    use auth_core::clock::{Clock as _, SystemClock};
    let secret = auth_core::mfa::TotpSecret::from_base32(secret).unwrap();
    let p = auth_core::mfa::TotpParams::DEFAULT;
    p.format(p.code_at(secret.as_bytes(), p.step_at(SystemClock.now()) + ahead))
}

/// Issue 15: with `REDIS_URL` every MFA store is in Redis: an enrolment started at A is
/// confirmed at B, a login started at A completes at B, and a code (or recovery code) accepted
/// at one instance is refused at the other.
async fn a_totp_code_accepted_at_a_is_refused_at_b(mode: Mode) {
    let Some((_shared, a, b)) = pair(mode, "mfa").await else {
        return;
    };
    let http = client();
    let url = |inst: &Instance, path: &str| format!("{}{path}", inst.base);
    let creds = json!({"email": "mfa@example.com", "password": "a long enough password"});
    // Each request from its own client address: the login routes' per-client rate limit is
    // not what this test is about.
    let next_ip = std::sync::atomic::AtomicU32::new(1);
    let post = |u: String, bearer: Option<String>, body: Option<serde_json::Value>| {
        let http = http.clone();
        let n = next_ip.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move {
            let ip = format!("198.18.{}.{}", n / 256, n % 256);
            let auth = bearer.map(|t| format!("Bearer {t}"));
            let mut headers: Vec<(&str, &str)> = vec![("x-forwarded-for", &ip)];
            if let Some(v) = auth.as_deref() {
                headers.push(("authorization", v));
            }
            send(&http, Method::POST, &u, &headers, body).await
        }
    };

    let r = post(url(&a, "/auth/register"), None, Some(creds.clone())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let login = post(url(&a, "/auth/login"), None, Some(creds.clone())).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let access = login.body["access_token"].as_str().unwrap().to_owned();

    // Enrolled at A, confirmed at B.
    let enrol = post(url(&a, "/auth/mfa/totp/enroll"), Some(access.clone()), None).await;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    let secret = enrol.body["secret"].as_str().unwrap().to_owned();
    let confirm = post(
        url(&b, "/auth/mfa/totp/confirm"),
        Some(access.clone()),
        Some(json!({"code": totp(&secret, 0)})),
    )
    .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let recovery = confirm.body["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();

    // A login started at A completes at B with the next step's code (the confirmation used
    // up the current one; the window accepts one step ahead).
    let started = post(url(&a, "/auth/login"), None, Some(creds.clone())).await;
    assert_eq!(started.code(), "MFA_REQUIRED", "{}", started.body);
    let code = totp(&secret, 1);
    let done = post(
        url(&b, "/auth/mfa/verify"),
        None,
        Some(json!({"mfa_token": started.body["mfa_token"], "code": code})),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body["access_token"].is_string());

    // The same code at A, in a login started at B: refused as a wrong code.
    let started = post(url(&b, "/auth/login"), None, Some(creds.clone())).await;
    assert_eq!(started.code(), "MFA_REQUIRED", "{}", started.body);
    let token = started.body["mfa_token"].clone();
    let replay = post(
        url(&a, "/auth/mfa/verify"),
        None,
        Some(json!({"mfa_token": token, "code": code})),
    )
    .await;
    assert_eq!((replay.status, replay.code()), (401, "INVALID_OTP"));

    // A recovery code redeemed at A is refused at B.
    let used = post(
        url(&a, "/auth/mfa/verify"),
        None,
        Some(json!({"mfa_token": token, "recovery_code": recovery})),
    )
    .await;
    assert_eq!(used.status, 200, "{}", used.body);
    let started = post(url(&a, "/auth/login"), None, Some(creds)).await;
    let again = post(
        url(&b, "/auth/mfa/verify"),
        None,
        Some(json!({"mfa_token": started.body["mfa_token"], "recovery_code": recovery})),
    )
    .await;
    assert_eq!((again.status, again.code()), (401, "INVALID_OTP"));
    cleanup(&a).await;
}
