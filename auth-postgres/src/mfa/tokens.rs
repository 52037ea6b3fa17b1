//! [`PgMfaTokenStore`]: pending logins between the password and the second factor.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::mfa::{MfaTokenHash, MfaTokenStore, PendingLogin};
use auth_core::store::StoreError;
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::codec::{nanos, time};
use crate::error::Error;

/// A [`MfaTokenStore`] on PostgreSQL.
///
/// `<prefix>mfa_tokens` holds one row per token digest (never the token).
/// [`take`](MfaTokenStore::take) is one `DELETE … RETURNING` by primary key, so a token
/// completes at most one login whatever the concurrency. Expired rows are never returned and
/// are deleted by the [`Sweeper`](crate::Sweeper); a digest whose row expired
/// may be inserted again.
#[derive(Clone, Debug)]
pub struct PgMfaTokenStore {
    pg: PgBackend,
    pub(crate) sql: Arc<Sql>,
}

#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) insert: String,
    pub(crate) get: String,
    pub(crate) take: String,
}

impl PgMfaTokenStore {
    /// A store on `pg`'s `<prefix>mfa_tokens` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("mfa_tokens");
        let sql = Sql {
            insert: format!(
                "INSERT INTO {t} AS m (hash, subject, binding, started_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (hash) DO UPDATE SET subject = EXCLUDED.subject, \
                   binding = EXCLUDED.binding, started_at = EXCLUDED.started_at, \
                   expires_at = EXCLUDED.expires_at \
                 WHERE m.expires_at <= $6"
            ),
            get: format!(
                "SELECT subject, binding, started_at FROM {t} WHERE hash = $1 AND expires_at > $2"
            ),
            take: format!(
                "DELETE FROM {t} WHERE hash = $1 AND expires_at > $2 \
                 RETURNING subject, binding, started_at"
            ),
        };
        Self {
            pg,
            sql: Arc::new(sql),
        }
    }

    async fn fetch(
        &self,
        op: &'static str,
        sql: &str,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError> {
        let row = self
            .pg
            .run(op, async {
                sqlx::query(sql)
                    .bind(token.as_bytes().as_slice())
                    .bind(nanos(now))
                    .fetch_optional(self.pg.pool())
                    .await
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let db = |e| Error::database(op, e);
        let subject: String = row.try_get(0).map_err(db)?;
        let binding: String = row.try_get(1).map_err(db)?;
        let started: i64 = row.try_get(2).map_err(db)?;
        Ok(Some(PendingLogin::new(
            subject,
            binding,
            time(op, started)?,
        )))
    }
}

#[async_trait]
impl MfaTokenStore for PgMfaTokenStore {
    async fn insert(
        &self,
        token: &MfaTokenHash,
        login: &PendingLogin,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        const OP: &str = "mfa.tokens.insert";
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.insert)
                    .bind(token.as_bytes().as_slice())
                    .bind(login.subject())
                    .bind(login.binding())
                    .bind(nanos(login.started_at()))
                    .bind(nanos(expires_at))
                    .bind(nanos(now))
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        if r.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::new("mfa token digest already exists"))
        }
    }

    async fn get(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError> {
        self.fetch("mfa.tokens.get", &self.sql.get, token, now)
            .await
    }

    async fn take(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError> {
        self.fetch("mfa.tokens.take", &self.sql.take, token, now)
            .await
    }
}
