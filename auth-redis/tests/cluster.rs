//! The stores on a real Redis Cluster: six `redis-server` processes on loopback (three
//! primaries, three replicas) started by the test. The store conformance suite runs against it
//! (every multi-key script in one hash slot, or the cluster refuses it with `CROSSSLOT`), and a
//! primary is killed mid-run: operations fail closed within the time limit, then recover once
//! its replica has taken over, with the revocations and refresh families intact.
//!
//! Skipped with a printed reason without `redis-server`/`redis-cli`, except under `CI=true`,
//! where that fails.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::clock::ManualClock;
use auth_core::refresh::{
    FamilyId, NewFamily, NewToken, RefreshToken, RefreshTokenStore, RotateOutcome,
};
use auth_core::revocation::{RevocationStore, TokenRef};
use auth_redis::test_util::{RedisCluster, private_redis_cluster, unique_prefix};
use auth_redis::{
    RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore, RedisRevocationStore,
};
use auth_test::conformance::{IdentityStores, Stores, at};

mod common;

fn backend(cluster: &RedisCluster, tag: &str, timeout: Duration) -> RedisBackend {
    RedisBackend::cluster_builder(cluster.seeds())
        .prefix(unique_prefix(tag))
        .timeout(timeout)
        .build()
        .expect("a valid cluster backend")
}

fn stores(cluster: &RedisCluster, clock: ManualClock) -> Stores {
    // Generous: the concurrency cases queue dozens of scripts at once on small machines.
    let redis = backend(cluster, "cluster-conformance", Duration::from_secs(5));
    Stores {
        attempts: Some(Arc::new(RedisAttemptStore::new(redis.clone()))),
        revocations: Arc::new(RedisRevocationStore::new(redis.clone()).with_clock(clock.clone())),
        refresh: Arc::new(RedisRefreshStore::new(redis.clone())),
        api_keys: Arc::new(RedisApiKeyStore::new(redis)),
        clock,
        // The cluster (and everything in it) goes away with the test.
        cleanup: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_conformance_suite_passes_on_a_redis_cluster() {
    let Some(cluster) = private_redis_cluster().expect("a private redis cluster") else {
        return;
    };
    let started = Instant::now();
    common::run_store_cases(|clock| stores(&cluster, clock)).await;
    common::run_identity_cases(|| {
        use auth_redis::{RedisIdentityStore, RedisUsedStateStore};
        let redis = backend(&cluster, "cluster-identities", Duration::from_secs(5));
        IdentityStores {
            identities: Arc::new(RedisIdentityStore::new(redis.clone())),
            used: Arc::new(RedisUsedStateStore::new(redis)),
            cleanup: None,
        }
    })
    .await;
    eprintln!("cluster conformance: {:?}", started.elapsed());
}

fn new_token(issued: u64, expires: u64) -> NewToken {
    NewToken::new(
        RefreshToken::generate().unwrap().hash(),
        at(issued),
        at(expires),
    )
}

const ISSUER: &str = "https://issuer.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_fails_closed_then_its_replica_takes_over_with_the_state() {
    let Some(mut cluster) = private_redis_cluster().expect("a private redis cluster") else {
        return;
    };
    let timeout = Duration::from_millis(200);
    let redis = backend(&cluster, "failover", timeout);
    let clock = ManualClock::new(at(0));
    let refresh = RedisRefreshStore::new(redis.clone());
    let revocations = RedisRevocationStore::new(redis.clone()).with_clock(clock.clone());

    // State before the failure: a family rotated once, a revoked token.
    let first = new_token(0, 3600);
    let family = FamilyId::generate().unwrap();
    refresh
        .insert_family(NewFamily::new(first, family.clone(), "alice"))
        .await
        .unwrap();
    let second = new_token(1, 3601);
    assert!(matches!(
        refresh.rotate(&first.hash(), second, at(1)).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    assert!(
        revocations
            .revoke_token(Some(ISSUER), "jti-before", at(3600))
            .await
            .unwrap()
    );
    let revoked = TokenRef::new(Some("jti-before"), "alice", Some(at(0))).with_issuer(Some(ISSUER));

    // The primary serving the refresh store's slot dies, once its replica has the writes
    // (Redis replicates asynchronously: a write acknowledged but not yet replicated can be
    // lost in a fail-over; see the README).
    let victim = cluster.primary_of("{refresh}").unwrap();
    for primary in cluster.primaries().unwrap() {
        assert!(
            cluster.wait_for_replica(primary).unwrap(),
            "replica of {primary} lags"
        );
    }
    cluster.stop_node(victim);
    let stopped = Instant::now();

    // Fail closed within the bound, then recover. Probe with a read-only operation (rotating an
    // unknown token changes nothing), so a timed-out, indeterminate probe cannot use a token.
    let unknown = new_token(2, 3602);
    let mut failures = 0u32;
    let mut slowest_failure = Duration::ZERO;
    let recovered_after = loop {
        let t = Instant::now();
        match refresh
            .rotate(&unknown.hash(), new_token(2, 3602), at(2))
            .await
        {
            Ok(RotateOutcome::Unknown) => break stopped.elapsed(),
            Ok(other) => panic!("an unknown token rotated: {other:?}"),
            Err(_) => {
                failures += 1;
                slowest_failure = slowest_failure.max(t.elapsed());
            }
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(30),
            "no recovery within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!(
        "failover: {failures} failed operations (slowest {slowest_failure:?}, limit {timeout:?}), \
         recovered after {recovered_after:?}"
    );
    assert!(failures > 0, "the killed primary's slot never failed");
    // The store's own limit, plus scheduling slack on a busy machine.
    assert!(
        slowest_failure <= timeout + Duration::from_millis(150),
        "a failure took {slowest_failure:?}, over the {timeout:?} limit"
    );
    cluster.wait_until_ok(Duration::from_secs(10)).unwrap();

    // Nothing was lost: the revocation holds, the used token is still used (reuse), and the
    // family was revoked by that reuse.
    assert!(revocations.is_revoked(revoked, at(10)).await.unwrap());
    assert!(matches!(
        refresh.rotate(&first.hash(), new_token(3, 3603), at(3)).await.unwrap(),
        RotateOutcome::Reused { family: f, .. } if f == family
    ));
    assert!(matches!(
        refresh
            .rotate(&second.hash(), new_token(4, 3604), at(4))
            .await
            .unwrap(),
        RotateOutcome::Revoked
    ));
}
