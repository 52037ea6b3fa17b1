//! Helpers for tests against a real PostgreSQL (feature `test-util`; not for production code).
//!
//! Tests read `DATABASE_URL`; each case puts its tables in a fresh schema of its own
//! ([`unique_schema`]), so cases and test binaries running in parallel never collide, and
//! drops it afterwards ([`drop_schema`]). Without `DATABASE_URL` a test is skipped, except
//! under `CI=true`, where that is a failure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Error, PgBackend};

/// `DATABASE_URL`, or `None` (skip) when it is not set.
///
/// # Panics
///
/// Under `CI=true` when `DATABASE_URL` is not set: CI must run these tests, not skip them.
#[must_use]
#[allow(clippy::panic)] // A test helper: under CI a missing database must fail the test.
pub fn database_url_for_tests() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but DATABASE_URL is not set: the PostgreSQL tests must run")
        }
        _ => {
            eprintln!("skipped: DATABASE_URL is not set");
            None
        }
    }
}

/// A schema name no other test (in this process or another) uses: `t_<label>_<pid>_<time>_<n>`.
/// `label` keeps only lowercase ASCII letters, digits and `_`.
#[must_use]
pub fn unique_schema(label: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let label: String = label
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .take(8)
        .collect();
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000_000)
        .unwrap_or(0);
    format!(
        "t_{label}_{}_{micros}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops `pg`'s schema and everything in it (a no-op for a backend without a schema).
///
/// # Errors
///
/// [`Error`] when the database refuses.
pub async fn drop_schema(pg: &PgBackend) -> Result<(), Error> {
    let Some(schema) = pg.schema() else {
        return Ok(());
    };
    let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    pg.run("drop_schema", async {
        sqlx::raw_sql(&sql).execute(pg.pool()).await?;
        Ok(())
    })
    .await
}
