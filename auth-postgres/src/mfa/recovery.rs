//! [`PgRecoveryCodeStore`]: recovery-code digests, redeemed atomically.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::mfa::{RecoveryCodeDigest, RecoveryCodeStore};
use auth_core::store::StoreError;
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::error::Error;

/// A [`RecoveryCodeStore`] on PostgreSQL.
///
/// `<prefix>recovery_codes` holds one row per `(account, digest)` (the keyed digests of
/// `auth_core::mfa::RecoveryCodeKey`, never the codes). [`redeem`](RecoveryCodeStore::redeem)
/// is one `DELETE` by primary key, so a code is used at most once whatever the concurrency;
/// [`replace`](RecoveryCodeStore::replace) deletes the old set and inserts the new one in one
/// transaction, so no code of the old set survives a regeneration.
#[derive(Clone, Debug)]
pub struct PgRecoveryCodeStore {
    pg: PgBackend,
    sql: Arc<Sql>,
}

#[derive(Debug)]
struct Sql {
    clear: String,
    insert: String,
    redeem: String,
    remaining: String,
}

impl PgRecoveryCodeStore {
    /// A store on `pg`'s `<prefix>recovery_codes` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("recovery_codes");
        let sql = Sql {
            clear: format!("DELETE FROM {t} WHERE account = $1"),
            insert: format!(
                "INSERT INTO {t} (account, digest) SELECT $1, d FROM UNNEST($2::bytea[]) AS d \
                 ON CONFLICT DO NOTHING"
            ),
            redeem: format!("DELETE FROM {t} WHERE account = $1 AND digest = $2"),
            remaining: format!("SELECT count(*) FROM {t} WHERE account = $1"),
        };
        Self {
            pg,
            sql: Arc::new(sql),
        }
    }
}

#[async_trait]
impl RecoveryCodeStore for PgRecoveryCodeStore {
    async fn replace(
        &self,
        account: &str,
        digests: &[RecoveryCodeDigest],
    ) -> Result<(), StoreError> {
        const OP: &str = "mfa.recovery.replace";
        let bytes: Vec<Vec<u8>> = digests.iter().map(|d| d.as_bytes().to_vec()).collect();
        self.pg
            .run(OP, async {
                let mut tx = self.pg.pool().begin().await?;
                sqlx::query(&self.sql.clear)
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
                if !bytes.is_empty() {
                    sqlx::query(&self.sql.insert)
                        .bind(account)
                        .bind(&bytes)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            })
            .await?;
        Ok(())
    }

    async fn redeem(&self, account: &str, digest: &RecoveryCodeDigest) -> Result<bool, StoreError> {
        const OP: &str = "mfa.recovery.redeem";
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.redeem)
                    .bind(account)
                    .bind(digest.as_bytes().as_slice())
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn remaining(&self, account: &str) -> Result<usize, StoreError> {
        const OP: &str = "mfa.recovery.remaining";
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.remaining)
                    .bind(account)
                    .fetch_one(self.pg.pool())
                    .await
            })
            .await?;
        let n: i64 = row.try_get(0).map_err(|e| Error::database(OP, e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
