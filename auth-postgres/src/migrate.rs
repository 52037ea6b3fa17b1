//! Embedded migrations, run from code with [`PgBackend::migrate`].
//!
//! The SQL is compiled into the crate (`migrations/*.sql`) with the table prefix (and schema)
//! filled in at run time, which `sqlx::migrate!` cannot do. The pending migrations run in one
//! transaction and are recorded in `<prefix>schema_migrations`; a transaction-scoped advisory
//! lock keyed by the prefix serialises instances that start together, so exactly one applies
//! each migration and the others find it done.

use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::error::Error;

/// One embedded migration: its version, name and SQL template.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Released migrations are never edited: changes are new entries.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "stores",
    sql: include_str!("../migrations/0001_stores.sql"),
}];

/// The latest migration version this crate knows.
pub const LATEST_VERSION: i64 = 1;

impl PgBackend {
    /// Creates or upgrades the tables (and the schema, if one is set) to
    /// [`LATEST_VERSION`]; returns the versions applied by this call (none when up to date).
    ///
    /// Safe to call from every instance at start-up, concurrently: an advisory lock makes one
    /// apply and the others wait and find nothing left to do. Not bound by the per-operation
    /// time limit (creating tables may take longer); bound it yourself if needed.
    ///
    /// # Errors
    ///
    /// [`Error`] when the database is unreachable or refuses a statement (nothing of a failed
    /// migration stays applied: each runs in one transaction).
    pub async fn migrate(&self) -> Result<Vec<i64>, Error> {
        const OP: &str = "migrate";
        let names = self.names();
        let db = |e| Error::database(OP, e);
        let mut tx = self.pool().begin().await.map_err(db)?;
        let lock_key = format!("auth-postgres:{}", names.table(""));
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(&lock_key)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(schema) = &names.schema {
            sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let table = names.table("schema_migrations");
        sqlx::raw_sql(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (version bigint PRIMARY KEY, name text NOT NULL, \
             applied_at timestamptz NOT NULL DEFAULT now())"
        ))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let done: Vec<i64> = sqlx::query(&format!("SELECT version FROM {table}"))
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()
            .map_err(db)?;
        if let Some(newer) = done.iter().find(|v| **v > LATEST_VERSION) {
            return Err(Error::unexpected(
                OP,
                format!(
                    "the database is at migration {newer}, newer than this crate's {LATEST_VERSION}"
                ),
            ));
        }
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            sqlx::raw_sql(&names.render(m.sql))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query(&format!(
                "INSERT INTO {table} (version, name) VALUES ($1, $2)"
            ))
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            applied.push(m.version);
        }
        tx.commit().await.map_err(db)?;
        if !applied.is_empty() {
            tracing::info!(target: "auth::store", backend = "postgres", prefix = %names.prefix, versions = ?applied, "migrations applied");
        }
        Ok(applied)
    }
}
