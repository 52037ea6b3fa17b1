//! Redis going away, freezing and coming back, against a private `redis-server` that each test
//! stops or pauses (never the shared one): every operation fails within its timeout (no hang,
//! no panic), and the stores work again once Redis is back, without being rebuilt.
//!
//! What the layers make of these errors (503 or a fail-open pass) is tested end to end in the
//! workspace's `tests/tests/redis_failover.rs`.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::api_key::{ApiKeyHash, ApiKeyStore};
use auth_core::brute_force::{AttemptKey, AttemptStore, BruteForcePolicy};
use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::refresh::{RefreshToken, RefreshTokenStore, RotateOutcome, TokenHash};
use auth_core::revocation::{RevocationStore, TokenRef};
use auth_redis::test_util::{RedisServer, private_redis_server};
use auth_redis::{
    ErrorKind, RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore,
    RedisRevocationStore,
};

/// How long an operation may take to fail with the default 100 ms timeout: generous for a slow
/// CI machine, and still far from "hangs".
const FAILS_WITHIN: Duration = Duration::from_secs(1);
/// How long the stores may take to recover once Redis is back.
const RECOVERS_WITHIN: Duration = Duration::from_secs(15);

struct Fixture {
    server: RedisServer,
    redis: RedisBackend,
    attempts: Arc<dyn AttemptStore>,
    revocations: Arc<dyn RevocationStore>,
    refresh: Arc<dyn RefreshTokenStore>,
    api_keys: Arc<dyn ApiKeyStore>,
    clock: ManualClock,
}

async fn fixture() -> Option<Fixture> {
    let server = private_redis_server().expect("a private redis-server")?;
    let redis = RedisBackend::builder(server.url())
        .build()
        .expect("backend");
    redis.ping().await.expect("redis answers");
    let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
    Some(Fixture {
        attempts: Arc::new(RedisAttemptStore::new(redis.clone())),
        revocations: Arc::new(RedisRevocationStore::new(redis.clone()).with_clock(clock.clone())),
        refresh: Arc::new(RedisRefreshStore::new(redis.clone())),
        api_keys: Arc::new(RedisApiKeyStore::new(redis.clone())),
        redis,
        server,
        clock,
    })
}

/// One operation of every store; `Err` names the first that failed.
async fn every_store(f: &Fixture) -> Result<(), String> {
    let now = f.clock.now();
    let policy = BruteForcePolicy::default();
    f.attempts
        .admit(&AttemptKey::account("probe"), &policy, now)
        .await
        .map_err(|e| format!("attempts: {e}"))?;
    f.revocations
        .is_revoked(TokenRef::new(Some("j"), "s", Some(now)), now)
        .await
        .map_err(|e| format!("revocation: {e}"))?;
    let probe = RefreshToken::generate().map_err(|e| e.to_string())?;
    let replacement = auth_core::refresh::NewToken::new(
        TokenHash::from_bytes([7; 32]),
        now,
        now.saturating_add(Duration::from_secs(60)),
    );
    let out = f
        .refresh
        .rotate(&probe.hash(), replacement, now)
        .await
        .map_err(|e| format!("refresh: {e}"))?;
    if out != RotateOutcome::Unknown {
        return Err(format!("refresh: {out:?}"));
    }
    f.api_keys
        .find_by_hash(&ApiKeyHash::from_bytes([1; 32]))
        .await
        .map_err(|e| format!("api keys: {e}"))?;
    Ok(())
}

/// Asserts that every store fails, each within [`FAILS_WITHIN`].
async fn every_store_fails_fast(f: &Fixture) {
    let now = f.clock.now();
    let policy = BruteForcePolicy::default();
    let (client, account) = (AttemptKey::account("c"), AttemptKey::account("a"));
    let (presented, digest) = (
        TokenHash::from_bytes([3; 32]),
        ApiKeyHash::from_bytes([1; 32]),
    );
    timed("attempts.admit", || {
        f.attempts.admit(&account, &policy, now)
    })
    .await;
    timed("attempts.record", || {
        f.attempts.record(
            &client,
            Some(&account),
            auth_core::brute_force::AttemptOutcome::Failure,
            &policy,
            now,
        )
    })
    .await;
    timed("revocation.is_revoked", || {
        f.revocations
            .is_revoked(TokenRef::new(Some("j"), "s", Some(now)), now)
    })
    .await;
    timed("revocation.revoke_token", || {
        f.revocations
            .revoke_token(None, "j", now.saturating_add(Duration::from_secs(60)))
    })
    .await;
    timed("refresh.rotate", || {
        f.refresh.rotate(
            &presented,
            auth_core::refresh::NewToken::new(TokenHash::from_bytes([4; 32]), now, now),
            now,
        )
    })
    .await;
    timed("api_keys.find_by_hash", || f.api_keys.find_by_hash(&digest)).await;
}

async fn timed<T: std::fmt::Debug, E: std::fmt::Display, Fut>(what: &str, op: impl FnOnce() -> Fut)
where
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let result = op().await;
    let took = started.elapsed();
    match result {
        Ok(v) => panic!("{what} succeeded without Redis: {v:?}"),
        Err(e) => assert!(took < FAILS_WITHIN, "{what} took {took:?} to fail: {e}"),
    }
}

/// Bounded polling of the real server's recovery.
async fn recovers(f: &Fixture) -> Duration {
    let started = Instant::now();
    loop {
        match every_store(f).await {
            Ok(()) => return started.elapsed(),
            Err(e) if started.elapsed() < RECOVERS_WITHIN => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("not recovered within {RECOVERS_WITHIN:?}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_fails_every_store_fast_and_they_recover_when_it_returns() {
    let Some(mut f) = fixture().await else { return };
    every_store(&f).await.expect("all stores work");
    f.server.stop();
    every_store_fails_fast(&f).await;
    // Still failing fast on the next round, while the connection retries in the background.
    every_store_fails_fast(&f).await;
    f.server.start().expect("redis restarts");
    // The restarted server has no scripts cached: EVALSHA answers NOSCRIPT and the stores
    // reload them by themselves.
    let took = recovers(&f).await;
    eprintln!("recovered {took:?} after the restart");
    every_store(&f)
        .await
        .expect("all stores work after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_times_out_at_the_configured_limit_and_thaws() {
    let Some(f) = fixture().await else { return };
    every_store(&f).await.expect("all stores work");
    f.server.pause().expect("SIGSTOP");
    let started = Instant::now();
    let err = f
        .redis
        .ping()
        .await
        .expect_err("a frozen redis cannot answer");
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(
        took >= Duration::from_millis(100),
        "gave up early: {took:?}"
    );
    assert!(took < FAILS_WITHIN, "took {took:?}");
    every_store_fails_fast(&f).await;
    f.server.resume().expect("SIGCONT");
    recovers(&f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_is_configurable() {
    let Some(server) = private_redis_server().expect("a private redis-server") else {
        return;
    };
    let redis = RedisBackend::builder(server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("backend");
    redis.ping().await.expect("redis answers");
    server.pause().expect("SIGSTOP");
    let started = Instant::now();
    let err = redis.ping().await.expect_err("frozen");
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(300) + FAILS_WITHIN, "{took:?}");
    server.resume().expect("SIGCONT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_started_before_redis_fails_closed_until_it_is_up() {
    let Some(mut server) = private_redis_server().expect("a private redis-server") else {
        return;
    };
    server.stop();
    // Building does not connect, so the instance starts.
    let redis = RedisBackend::builder(server.url())
        .build()
        .expect("backend");
    let started = Instant::now();
    let err = redis.ping().await.expect_err("nothing listens yet");
    assert!(started.elapsed() < FAILS_WITHIN);
    assert!(
        matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::Unavailable),
        "{err}"
    );
    server.start().expect("redis starts");
    let started = Instant::now();
    while let Err(e) = redis.ping().await {
        assert!(started.elapsed() < RECOVERS_WITHIN, "never connected: {e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_that_timed_out_may_still_have_been_applied() {
    // The documented caveat: a timeout means "no answer in time", not "not done". Redis runs a
    // script it received once it can, so the client's retry of a timed-out rotation finds the
    // token used (reuse). Clients should not retry a refresh blindly after a 503.
    let Some(f) = fixture().await else { return };
    let refresh = auth_core::refresh::RefreshTokens::builder_shared(Arc::clone(&f.refresh))
        .build()
        .unwrap();
    // Warm the script cache, so the frozen call is a plain EVALSHA the server will run.
    let warm = refresh.issue("alice").await.unwrap();
    refresh.rotate(warm.token().as_str()).await.unwrap();
    let session = refresh.issue("alice").await.unwrap();
    f.server.pause().expect("SIGSTOP");
    let err = refresh.rotate(session.token().as_str()).await.unwrap_err();
    assert_eq!(err.code(), auth_core::ErrorCode::AuthBackendUnavailable);
    f.server.resume().expect("SIGCONT");
    // Same connection, so this runs after the queued rotation.
    let err = refresh.rotate(session.token().as_str()).await.unwrap_err();
    assert_eq!(err.code(), auth_core::ErrorCode::RefreshTokenReused);
}
