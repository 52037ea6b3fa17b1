//! The demo's user accounts in PostgreSQL (`DATABASE_URL`), so accounts survive restarts and
//! every instance on the same database sees them.
//!
//! The table is the demo's own (`<prefix>demo_users`, prefix `auth_demo_` by default, next to
//! `auth-postgres`'s tables), created by [`PgUserStore::migrate`]: `id` (primary key),
//! `login_email` (unique: the email of an account with a password, `NULL` otherwise), `email`,
//! `password_hash` (the Argon2id PHC string, never the password) and `created_at`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::store::StoreError;
use auth_postgres::PgBackend;
use sqlx::Row as _;

use crate::user_store::{CreateOutcome, PasswordHash, UserRecord, UserStore};

/// [`UserStore`] on PostgreSQL; each operation is one statement, bounded by the backend's time
/// limit (past it: 503).
#[derive(Clone)]
pub struct PgUserStore {
    pg: PgBackend,
    table: Arc<str>,
}

impl fmt::Debug for PgUserStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgUserStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl PgUserStore {
    /// A store in `pg`'s `<prefix>demo_users` table (create it with [`migrate`](Self::migrate)).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let table = match pg.schema() {
            Some(s) => format!("{s}.{}demo_users", pg.prefix()),
            None => format!("{}demo_users", pg.prefix()),
        };
        Self {
            pg,
            table: table.into(),
        }
    }

    /// Creates the table if it does not exist (after `auth-postgres`'s migrations, which create
    /// the schema).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the database is unreachable or refuses.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let t = &self.table;
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {t} (id text PRIMARY KEY, login_email text UNIQUE, \
             email text, password_hash text, created_at bigint NOT NULL)"
        );
        self.bounded("migrate", sqlx::raw_sql(&sql).execute(self.pg.pool()))
            .await?;
        Ok(())
    }

    async fn bounded<T>(
        &self,
        what: &str,
        op: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.pg.timeout(), op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(StoreError::with_source(format!("user store: {what}"), e)),
            Err(_) => Err(StoreError::new(format!("user store: {what} timed out"))),
        }
    }

    async fn find(
        &self,
        what: &str,
        column: &str,
        value: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT id, email, password_hash, created_at FROM {} WHERE {column} = $1",
            self.table
        );
        let row = self
            .bounded(
                what,
                sqlx::query(&sql).bind(value).fetch_optional(self.pg.pool()),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let bad = |e| StoreError::with_source("user store: malformed user row", e);
        let created: i64 = row.try_get(3).map_err(bad)?;
        Ok(Some(UserRecord {
            id: row.try_get(0).map_err(bad)?,
            email: row.try_get(1).map_err(bad)?,
            password_hash: row
                .try_get::<Option<String>, _>(2)
                .map_err(bad)?
                .map(PasswordHash::new),
            created_at: UnixTime::from_nanos(u64::try_from(created).unwrap_or(0)),
        }))
    }
}

#[async_trait]
impl UserStore for PgUserStore {
    async fn create_if_absent(&self, user: UserRecord) -> Result<CreateOutcome, StoreError> {
        let sql = format!(
            "INSERT INTO {} (id, login_email, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            self.table
        );
        let created = i64::try_from(user.created_at.as_nanos()).unwrap_or(i64::MAX);
        let r = self
            .bounded(
                "create",
                sqlx::query(&sql)
                    .bind(&user.id)
                    .bind(user.login_email())
                    .bind(user.email.as_deref())
                    .bind(user.password_hash.as_ref().map(PasswordHash::as_str))
                    .bind(created)
                    .execute(self.pg.pool()),
            )
            .await?;
        Ok(if r.rows_affected() == 1 {
            CreateOutcome::Created
        } else {
            CreateOutcome::EmailTaken
        })
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        self.find("find by email", "login_email", email).await
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.find("find by id", "id", id).await
    }
}
