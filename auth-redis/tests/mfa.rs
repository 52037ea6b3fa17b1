//! The MFA stores in Redis: the documented keys and lifetimes, and no secret, recovery code or
//! token in clear anywhere (key names and contents are read back raw).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::brute_force::BruteForceLimiter;
use auth_core::clock::{Clock, ManualClock, UnixTime};
use auth_core::mfa::{
    AuthContextStore, Mfa, RecoveryCodeKey, SealingKey, SecondFactor, SecretSealer,
    default_mfa_policy,
};
use auth_redis::test_util::{delete_prefix, keys_with_ttl, redis_for_tests, unique_prefix};
use auth_redis::{
    RedisAttemptStore, RedisAuthContextStore, RedisBackend, RedisMfaTokenStore,
    RedisRecoveryCodeStore, RedisTotpStore,
};

/// Every key under the prefix with its raw contents (hash fields and values, set members,
/// string value) as bytes.
async fn dump(url: &str, redis: &RedisBackend) -> Vec<(String, Vec<u8>)> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut out = Vec::new();
    for (key, _) in keys_with_ttl(redis).await.unwrap() {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let parts: Vec<Vec<u8>> = match kind.as_str() {
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "string" => vec![
                redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            ],
            other => panic!("{key}: unexpected type {other}"),
        };
        out.push((key, parts.concat()));
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Issue 15: no secret or recovery code in clear in any store (the Redis keys' contents).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_no_totp_secret_recovery_code_or_token_in_clear() {
    let Some(server) = redis_for_tests().expect("a Redis for the mfa tests") else {
        return;
    };
    let redis = RedisBackend::builder(server.url())
        .prefix(unique_prefix("mfa"))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let clock = ManualClock::new(UnixTime::from_secs(1_700_000_010));
    let limiter = BruteForceLimiter::builder(default_mfa_policy().unwrap())
        .store(Arc::new(RedisAttemptStore::new(redis.clone())))
        .clock(clock.clone())
        .build()
        .unwrap();
    let contexts = RedisAuthContextStore::new(redis.clone());
    let mfa = Mfa::builder(
        SecretSealer::new(SealingKey::new(1, &[7; 32]).unwrap()),
        RecoveryCodeKey::new(&[9; 32]).unwrap(),
    )
    .issuer("Acme")
    .totp_store(Arc::new(RedisTotpStore::new(redis.clone())))
    .recovery_store(Arc::new(RedisRecoveryCodeStore::new(redis.clone())))
    .token_store(Arc::new(RedisMfaTokenStore::new(redis.clone())))
    .limiter(limiter)
    .clock(clock.clone())
    .build()
    .unwrap();
    let code_now = |secret: &auth_core::mfa::TotpSecret| {
        let p = mfa.totp_params();
        p.format(p.code_at(secret.as_bytes(), p.step_at(clock.now())))
    };

    // A pending enrolment of one account, an active credential, recovery codes, a wrong code
    // (an attempt record) and a pending login of another, and a kept session context.
    let pending = mfa.enroll("user-2", "bob@example.com").await.unwrap();
    let e = mfa.enroll("user-1", "ann@example.com").await.unwrap();
    let codes = mfa.confirm("user-1", &code_now(e.secret())).await.unwrap();
    mfa.verify_totp("user-1", "abc").await.unwrap_err();
    let challenge = mfa.begin_login("user-1", "session").await.unwrap().unwrap();
    clock.advance(Duration::from_secs(30));
    let done = mfa
        .complete_login(challenge.token(), SecondFactor::Totp(&code_now(e.secret())))
        .await
        .unwrap();
    let session_end = clock
        .now()
        .saturating_add(Duration::from_secs(30 * 24 * 3600));
    contexts
        .save("family-1", done.context(), session_end, clock.now())
        .await
        .unwrap();
    let second = mfa.begin_login("user-1", "api").await.unwrap().unwrap();

    let keys = dump(&server.url(), &redis).await;
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for s in [e.secret(), pending.secret()] {
        secrets.push(s.as_bytes().to_vec());
        secrets.push(s.to_base32().into_bytes());
        secrets.push(s.to_base32().to_lowercase().into_bytes());
        secrets.push(hex(s.as_bytes()).into_bytes());
    }
    for c in codes.as_slice() {
        secrets.push(c.clone().into_bytes());
        secrets.push(c.replace('-', "").into_bytes());
        secrets.push(c.replace('-', "").to_uppercase().into_bytes());
    }
    secrets.push(challenge.token().as_bytes().to_vec());
    secrets.push(second.token().as_bytes().to_vec());
    for (key, contents) in &keys {
        for s in &secrets {
            assert!(!contains(key.as_bytes(), s), "{key} names a secret");
            assert!(!contains(contents, s), "{key} holds a secret in clear");
        }
    }

    // The documented keys and lifetimes.
    let ttls = keys_with_ttl(&redis).await.unwrap();
    let ttl_of = |suffix: &str| {
        ttls.iter()
            .find(|(k, _)| k.strip_prefix(redis.prefix()) == Some(suffix))
            .unwrap_or_else(|| panic!("no key {suffix} in {ttls:?}"))
            .1
    };
    assert_eq!(
        ttl_of("mfa:totp:user-1"),
        -1,
        "an active credential lives on"
    );
    assert!(
        (599_000..=600_000).contains(&ttl_of("mfa:totp:user-2")),
        "pending: 10 minutes"
    );
    assert_eq!(ttl_of("mfa:recovery:user-1"), -1);
    let context_ttl = ttl_of("mfa:context:family-1");
    assert!((30 * 24 * 3600 * 1000 - 2000..=30 * 24 * 3600 * 1000).contains(&context_ttl));
    let logins: Vec<_> = ttls
        .iter()
        .filter(|(k, _)| k.contains("mfa:login:"))
        .collect();
    assert_eq!(
        logins.len(),
        1,
        "the completed login's token is gone: {logins:?}"
    );
    assert!((299_000..=300_000).contains(&logins[0].1));
    for (key, _) in &ttls {
        let rest = key.strip_prefix(redis.prefix()).unwrap();
        assert!(
            [
                "mfa:totp:",
                "mfa:recovery:",
                "mfa:login:",
                "mfa:context:",
                "{attempts}:"
            ]
            .iter()
            .any(|k| rest.starts_with(k)),
            "{key} is not documented"
        );
    }
    delete_prefix(&redis).await.unwrap();
}
