//! The background sweep: it deletes only rows past their expiry (and retention), at most
//! `batch` per table per pass, and rows past their expiry are never returned before it runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::revocation::{RevocationStore, TokenRef};
use auth_postgres::test_util::{database_url_for_tests, drop_schema, unique_schema};
use auth_postgres::{PgBackend, PgRevocationStore, Sweeper};
use sqlx::Row as _;

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(1_700_000_000 + secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_is_bounded_and_deletes_only_expired_rows() {
    let Some(url) = database_url_for_tests() else {
        return;
    };
    let pg = PgBackend::builder(url)
        .schema(unique_schema("sweep"))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    pg.migrate().await.unwrap();
    let store = PgRevocationStore::new(pg.clone()).with_clock(ManualClock::new(t(0)));
    // 25 entries that end at t(100), 5 that end at t(1000).
    for i in 0..30 {
        let until = if i < 25 { t(100) } else { t(1000) };
        store
            .revoke_token(None, &format!("jti-{i}"), until)
            .await
            .unwrap();
    }
    let expired = TokenRef::new(Some("jti-0"), "alice", Some(t(0)));
    let live = TokenRef::new(Some("jti-29"), "alice", Some(t(0)));
    // Past its end an entry is not returned, swept or not.
    assert!(!store.is_revoked(expired, t(100)).await.unwrap());
    assert!(store.is_revoked(live, t(100)).await.unwrap());

    let count = || async {
        let table = format!("{}.{}revocations", pg.schema().unwrap(), pg.prefix());
        sqlx::query(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(pg.pool())
            .await
            .unwrap()
            .get::<i64, _>(0)
    };
    let sweeper = Sweeper::new(pg.clone()).batch(10);
    // Before the entries end, nothing goes.
    assert_eq!(sweeper.sweep_once(t(99)).await.unwrap().total(), 0);
    assert_eq!(count().await, 30);
    // Then at most 10 per pass: 10, 10, 5, 0.
    let passes: Vec<u64> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(sweeper.sweep_once(t(100)).await.unwrap().total());
        }
        v
    };
    assert_eq!(passes, [10, 10, 5, 0]);
    assert_eq!(count().await, 5);
    assert!(store.is_revoked(live, t(100)).await.unwrap());
    drop_schema(&pg).await.unwrap();
}
