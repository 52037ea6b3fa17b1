//! The documented key layout: every key lives under the configured prefix, matches one of the
//! documented names, carries a TTL that follows the documented lifetime (the one exception:
//! an API key that can still be used indefinitely), and holds no credential.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use auth_core::api_key::{ApiKeys, NewApiKey};
use auth_core::brute_force::{
    AttemptKey, AttemptOutcome, AttemptStore, BruteForcePolicy, ClientKey,
};
use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::refresh::RefreshTokens;
use auth_core::revocation::RevocationStore;
use auth_redis::test_util::{delete_prefix, keys_with_ttl, redis_for_tests, unique_prefix};
use auth_redis::{
    RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore, RedisRevocationStore,
};

const DAY: u64 = 24 * 3600;

async fn backend(tag: &str) -> Option<(auth_redis::test_util::TestRedis, RedisBackend)> {
    let server = redis_for_tests().expect("a Redis for the layout tests")?;
    let redis = RedisBackend::builder(server.url())
        .prefix(unique_prefix(tag))
        .timeout(Duration::from_secs(2))
        .build()
        .expect("backend");
    Some((server, redis))
}

/// The part of a key after the prefix, without its variable last segment.
/// The documented kind of `key`: the part after the prefix with the revocations' issuer (inside
/// their hash tag) left out, e.g. `{revoked}:jti:` or `{refresh}:token:`.
fn kind_of(redis: &RedisBackend, key: &str) -> &'static str {
    let rest = key
        .strip_prefix(redis.prefix())
        .unwrap_or_else(|| panic!("{key} is not under the prefix {}", redis.prefix()));
    let rest = match rest.strip_prefix("{revoked:") {
        // `{revoked:<issuer>}:jti:..`: the issuer never holds `}` (base64url or `-`).
        Some(r) => {
            let (_, after) = r
                .split_once('}')
                .unwrap_or_else(|| panic!("{key}: unterminated hash tag"));
            return match after {
                a if a.starts_with(":jti:") => "{revoked}:jti:",
                a if a.starts_with(":session:") => "{revoked}:session:",
                a if a.starts_with(":subject:") => "{revoked}:subject:",
                _ => panic!("{key} is not a documented key"),
            };
        }
        None => rest,
    };
    const KINDS: [&str; 7] = [
        "{attempts}:",
        "{refresh}:token:",
        "{refresh}:family:",
        "{refresh}:subject:",
        "{apikey}:hash:",
        "{apikey}:id:",
        "{apikey}:owner:",
    ];
    KINDS
        .into_iter()
        .find(|k| rest.starts_with(k))
        .unwrap_or_else(|| panic!("{key} is not a documented key"))
}

fn assert_ttl_near(key: &str, ttl_ms: i64, expected: Duration) {
    let expected = i64::try_from(expected.as_millis()).unwrap();
    assert!(
        (ttl_ms - expected).abs() <= 2_000,
        "{key}: TTL {ttl_ms} ms, expected about {expected} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_is_documented_prefixed_and_expires_except_live_api_keys() {
    let Some((_server, redis)) = backend("layout").await else {
        return;
    };
    let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
    let now = clock.now();
    let policy = BruteForcePolicy::default();

    // Brute force: a client's window (60 s) and an account's failures (decay 24 h).
    let attempts = RedisAttemptStore::new(redis.clone());
    let client = ClientKey::from_ip("203.0.113.9".parse().unwrap()).attempt_key();
    let account = AttemptKey::account("alice@example.com");
    attempts.admit(&client, &policy, now).await.unwrap();
    attempts
        .record(
            &client,
            Some(&account),
            AttemptOutcome::Failure,
            &policy,
            now,
        )
        .await
        .unwrap();

    // Revocation: a jti for 15 minutes, a session for 20, a subject for an hour.
    let revocations = RedisRevocationStore::new(redis.clone()).with_clock(clock.clone());
    let iss = Some("https://auth.example");
    revocations
        .revoke_token(iss, "jti-1", now.saturating_add(Duration::from_secs(900)))
        .await
        .unwrap();
    revocations
        .revoke_session(None, "fam-1", now.saturating_add(Duration::from_secs(1200)))
        .await
        .unwrap();
    revocations
        .revoke_subject(
            iss,
            "alice",
            now,
            now.saturating_add(Duration::from_secs(3600)),
        )
        .await
        .unwrap();

    // Refresh: a family, rotated once (30-day tokens, 7-day retention).
    let refresh = RefreshTokens::builder(RedisRefreshStore::new(redis.clone()))
        .clock(clock.clone())
        .build()
        .unwrap();
    let session = refresh.issue("alice").await.unwrap();
    let rotated = refresh.rotate(session.token().as_str()).await.unwrap();

    // API keys: one that never expires, one for a day.
    let keys = ApiKeys::builder(RedisApiKeyStore::new(redis.clone()))
        .prefix("layout_live")
        .clock(clock.clone())
        .build()
        .unwrap();
    let forever = keys
        .create(NewApiKey::new("alice", "forever"))
        .await
        .unwrap();
    let daily = keys
        .create(NewApiKey::new("alice", "daily").expires_in(Duration::from_secs(DAY)))
        .await
        .unwrap();

    let keys_now = keys_with_ttl(&redis).await.unwrap();
    let forever_id = forever.record.id.to_string();
    let forever_hash = forever.record.hash.to_hex();
    for (key, ttl) in &keys_now {
        let kind = kind_of(&redis, key);
        let live_key =
            key.ends_with(&forever_id) || key.ends_with(&forever_hash) || kind == "{apikey}:owner:";
        if live_key {
            assert_eq!(*ttl, -1, "{key} belongs to a key that never expires");
            continue;
        }
        assert!(*ttl > 0, "{key} has no TTL");
        let expected = match kind {
            // Both the client and the account failed: remembered until the failures decay.
            "{attempts}:" => Duration::from_secs(DAY),
            "{revoked}:jti:" => Duration::from_secs(900),
            "{revoked}:session:" => Duration::from_secs(1200),
            "{revoked}:subject:" => Duration::from_secs(3600),
            "{refresh}:token:" | "{refresh}:family:" | "{refresh}:subject:" => {
                Duration::from_secs(30 * DAY + 7 * DAY)
            }
            "{apikey}:hash:" | "{apikey}:id:" => Duration::from_secs(DAY + 30 * DAY),
            other => panic!("unexpected {other}"),
        };
        assert_ttl_near(key, *ttl, expected);
    }
    let count = |kind: &str| {
        keys_now
            .iter()
            .filter(|(k, _)| kind_of(&redis, k) == kind)
            .count()
    };
    assert_eq!(count("{attempts}:"), 2);
    assert_eq!(count("{revoked}:jti:"), 1);
    assert_eq!(count("{revoked}:session:"), 1);
    assert_eq!(count("{revoked}:subject:"), 1);
    // Revocation keys name the issuer (base64url, `-` for none), then the value.
    for documented in [
        "{revoked:aHR0cHM6Ly9hdXRoLmV4YW1wbGU}:jti:jti-1",
        "{revoked:-}:session:fam-1",
        "{revoked:aHR0cHM6Ly9hdXRoLmV4YW1wbGU}:subject:alice",
    ] {
        let key = format!("{}{documented}", redis.prefix());
        assert!(keys_now.iter().any(|(k, _)| *k == key), "{key} missing");
    }
    assert_eq!(count("{refresh}:token:"), 2);
    assert_eq!(count("{refresh}:family:"), 1);
    assert_eq!(count("{refresh}:subject:"), 1);
    assert_eq!(count("{apikey}:hash:"), 2);
    assert_eq!(count("{apikey}:id:"), 2);
    assert_eq!(count("{apikey}:owner:"), 1);

    // No credential is stored: neither refresh token nor API key appears in any key name.
    for (key, _) in &keys_now {
        assert!(!key.contains(session.token().as_str()));
        assert!(!key.contains(rotated.token().as_str()));
        assert!(!key.contains(forever.key.expose_secret()));
        assert!(!key.contains("alice@example.com"));
    }

    // Revoking the live key gives it (and its owner's set) a TTL: retention after revocation.
    keys.revoke(&forever.record.id, "alice").await.unwrap();
    let _ = daily;
    for (key, ttl) in keys_with_ttl(&redis).await.unwrap() {
        assert!(ttl > 0, "{key} still has no TTL after the revocation");
        if key.ends_with(&forever_id) || key.ends_with(&forever_hash) {
            assert_ttl_near(&key, ttl, Duration::from_secs(30 * DAY));
        }
    }
    delete_prefix(&redis).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_window_expires_one_window_after_its_last_attempt() {
    let Some((_server, redis)) = backend("window").await else {
        return;
    };
    let attempts = RedisAttemptStore::new(redis.clone());
    let now = UnixTime::from_secs(1_700_000_000);
    let client = ClientKey::named("tenant-1").attempt_key();
    attempts
        .admit(&client, &BruteForcePolicy::default(), now)
        .await
        .unwrap();
    let keys = keys_with_ttl(&redis).await.unwrap();
    assert_eq!(keys.len(), 1);
    let (key, ttl) = &keys[0];
    assert_ttl_near(key, *ttl, Duration::from_secs(60));
    // The name is hashed: no client name in Redis.
    assert!(!key.contains("tenant-1"));
    delete_prefix(&redis).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_that_leave_a_fresh_state_store_nothing() {
    let Some((_server, redis)) = backend("fresh").await else {
        return;
    };
    let attempts = RedisAttemptStore::new(redis.clone());
    let policy = BruteForcePolicy::default();
    let now = UnixTime::from_secs(1_700_000_000);
    let client = ClientKey::named("c").attempt_key();
    let account = AttemptKey::account("nobody@example.com");
    for outcome in [AttemptOutcome::Success, AttemptOutcome::Neutral] {
        attempts
            .record(&client, Some(&account), outcome, &policy, now)
            .await
            .unwrap();
    }
    assert!(keys_with_ttl(&redis).await.unwrap().is_empty());
    // A success after failures resets the account: its key goes away at once.
    attempts
        .record(
            &client,
            Some(&account),
            AttemptOutcome::Failure,
            &policy,
            now,
        )
        .await
        .unwrap();
    let other = ClientKey::named("d").attempt_key();
    attempts
        .record(
            &other,
            Some(&account),
            AttemptOutcome::Success,
            &policy,
            now,
        )
        .await
        .unwrap();
    let left: Vec<_> = keys_with_ttl(&redis).await.unwrap();
    assert_eq!(
        left.len(),
        1,
        "only the failing client is remembered: {left:?}"
    );
    delete_prefix(&redis).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_keep_applications_apart() {
    let Some((server, a)) = backend("app-a").await else {
        return;
    };
    let b = RedisBackend::builder(server.url())
        .prefix(unique_prefix("app-b"))
        .build()
        .unwrap();
    let now = UnixTime::from_secs(1_700_000_000);
    let until = now.saturating_add(Duration::from_secs(60));
    // The entry's TTL is "until minus the store's now": with the system clock (years past
    // `until`) it would be 1 ms, and the check below could miss it.
    let clock = ManualClock::new(now);
    RedisRevocationStore::new(a.clone())
        .with_clock(clock.clone())
        .revoke_token(None, "shared-jti", until)
        .await
        .unwrap();
    let token = auth_core::revocation::TokenRef::new(Some("shared-jti"), "s", Some(now));
    assert!(
        RedisRevocationStore::new(a.clone())
            .is_revoked(token, now)
            .await
            .unwrap()
    );
    assert!(
        !RedisRevocationStore::new(b.clone())
            .is_revoked(token, now)
            .await
            .unwrap()
    );
    delete_prefix(&a).await.unwrap();
}
