//! Every request-path query is an index lookup: `EXPLAIN` of each, on a real PostgreSQL
//! (`DATABASE_URL`), with sequential scans disabled for the session so that the plan shows a
//! sequential scan only when no index can serve the query (tiny test tables would otherwise
//! make the planner prefer one).

// A test module: helpers outside #[test] fns panic on a broken expectation.
#![allow(clippy::unwrap_used)]

use sqlx::{Connection as _, Row as _};

use crate::test_util::{database_url_for_tests, drop_schema, unique_schema};
use crate::{
    PgApiKeyStore, PgAuthContextStore, PgBackend, PgIdentityStore, PgMfaTokenStore, PgRefreshStore,
    PgRevocationStore, PgTotpStore,
};

/// A bound parameter of an explained query.
enum P {
    Bytes(Vec<u8>),
    Text(&'static str),
    Int(i64),
    NullInt,
}

async fn plan(pg: &PgBackend, sql: &str, params: &[P]) -> String {
    let mut conn = pg.pool().acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let explain = format!("EXPLAIN {sql}");
    let mut q = sqlx::query(&explain);
    for p in params {
        q = match p {
            P::Bytes(b) => q.bind(b.clone()),
            P::Text(t) => q.bind(*t),
            P::Int(i) => q.bind(*i),
            P::NullInt => q.bind(None::<i64>),
        };
    }
    let rows = q.fetch_all(&mut *tx).await.unwrap();
    rows.iter()
        .map(|r| r.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn request_path_queries_are_index_lookups() {
    let Some(url) = database_url_for_tests() else {
        return;
    };
    let pg = PgBackend::builder(url)
        .schema(unique_schema("explain"))
        .build()
        .unwrap();
    pg.migrate().await.unwrap();
    let keys = PgApiKeyStore::new(pg.clone());
    let refresh = PgRefreshStore::new(pg.clone());
    let revocations = PgRevocationStore::new(pg.clone());
    let totp = PgTotpStore::new(pg.clone());
    let tokens = PgMfaTokenStore::new(pg.clone());
    let contexts = PgAuthContextStore::new(pg.clone());
    let identities = PgIdentityStore::new(pg.clone());
    let digest = || P::Bytes(vec![7; 32]);
    let cases: Vec<(&str, &str, Vec<P>)> = vec![
        (
            "api key verification",
            &keys.sql.find,
            vec![digest(), P::Int(1)],
        ),
        (
            "api key listing",
            &keys.sql.list,
            vec![P::Text("alice"), P::Int(1)],
        ),
        (
            "api key row lock",
            &keys.sql.lock,
            vec![P::Text("id"), P::Int(1)],
        ),
        (
            "revocation check",
            &revocations.sql.check,
            vec![
                P::Bytes(vec![1, b'i']),
                P::Bytes(b"jti".to_vec()),
                P::Bytes(b"sid".to_vec()),
                P::Bytes(b"sub".to_vec()),
                P::Int(1),
                P::NullInt,
            ],
        ),
        (
            "refresh rotation lock",
            &refresh.sql.lock,
            vec![digest(), P::Int(1)],
        ),
        (
            "refresh logout",
            &refresh.sql.revoke_family_of,
            vec![digest()],
        ),
        (
            "refresh families of a subject",
            &refresh.sql.subject_families,
            vec![P::Text("alice")],
        ),
        (
            "totp credential",
            &totp.sql.get,
            vec![P::Text("alice"), P::Int(1)],
        ),
        (
            "totp replay guard",
            &totp.sql.consume,
            vec![P::Text("alice"), P::Text("c"), P::Int(5)],
        ),
        (
            "mfa token take",
            &tokens.sql.take,
            vec![digest(), P::Int(1)],
        ),
        (
            "auth context",
            &contexts.sql.load,
            vec![P::Text("s"), P::Int(1)],
        ),
        (
            "identity",
            &identities.sql.find,
            vec![P::Text("iss"), P::Text("sub")],
        ),
        (
            "identities of an account",
            &identities.sql.list,
            vec![P::Text("alice")],
        ),
    ];
    for (what, sql, params) in &cases {
        let plan = plan(&pg, sql, params).await;
        assert!(
            plan.contains("Index") && !plan.contains("Seq Scan"),
            "{what} is not an index lookup:\n{plan}"
        );
    }
    // The check itself can fail: a query on an unindexed column plans a sequential scan.
    let t = pg.names().table("api_keys");
    let unindexed = plan(
        &pg,
        &format!("SELECT id FROM {t} WHERE record = $1"),
        &[P::Text("x")],
    )
    .await;
    assert!(unindexed.contains("Seq Scan"), "{unindexed}");
    drop_schema(&pg).await.unwrap();
}
