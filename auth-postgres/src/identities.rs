//! [`PgIdentityStore`] and [`PgUsedStateStore`]: the stores of `auth_core::oidc_login`.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::oidc_login::{
    ExternalIdentity, IdentityStore, LinkOutcome, LinkedIdentity, UsedStateStore,
};
use auth_core::store::StoreError;
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::codec::{nanos, time};
use crate::error::Error;

/// How often [`PgIdentityStore::link_if_absent`] retries when the link it collided with was
/// removed before it could read it (an unlink racing a first sign-in).
const LINK_ATTEMPTS: usize = 3;

/// An [`IdentityStore`] on PostgreSQL: provider identities linked to local accounts, kept for
/// as long as the accounts.
///
/// `<prefix>identities` has the primary key `(issuer, subject)` and an index on
/// `(account, linked_at)`. [`link_if_absent`](IdentityStore::link_if_absent) is an `INSERT …
/// ON CONFLICT DO NOTHING`: of two concurrent first sign-ins of one identity, on any
/// instances, one links it and the other reads the existing link.
#[derive(Clone, Debug)]
pub struct PgIdentityStore {
    pg: PgBackend,
    pub(crate) sql: Arc<IdentitySql>,
}

#[derive(Debug)]
pub(crate) struct IdentitySql {
    pub(crate) insert: String,
    pub(crate) find: String,
    pub(crate) list: String,
    pub(crate) unlink: String,
}

impl PgIdentityStore {
    /// A store on `pg`'s `<prefix>identities` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("identities");
        let sql = IdentitySql {
            insert: format!(
                "INSERT INTO {t} (issuer, subject, provider, account, linked_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
            ),
            find: format!(
                "SELECT issuer, subject, provider, account, linked_at FROM {t} \
                 WHERE issuer = $1 AND subject = $2"
            ),
            list: format!(
                "SELECT issuer, subject, provider, account, linked_at FROM {t} \
                 WHERE account = $1 ORDER BY linked_at, issuer, subject"
            ),
            unlink: format!("DELETE FROM {t} WHERE issuer = $1 AND subject = $2 AND account = $3"),
        };
        Self {
            pg,
            sql: Arc::new(sql),
        }
    }
}

fn link_of(op: &'static str, row: &sqlx::postgres::PgRow) -> Result<LinkedIdentity, Error> {
    let db = |e| Error::database(op, e);
    let issuer: String = row.try_get(0).map_err(db)?;
    let subject: String = row.try_get(1).map_err(db)?;
    let provider: String = row.try_get(2).map_err(db)?;
    let account: String = row.try_get(3).map_err(db)?;
    let linked: i64 = row.try_get(4).map_err(db)?;
    Ok(LinkedIdentity::new(
        ExternalIdentity::new(issuer, subject),
        provider,
        account,
        time(op, linked)?,
    ))
}

#[async_trait]
impl IdentityStore for PgIdentityStore {
    async fn link_if_absent(&self, link: &LinkedIdentity) -> Result<LinkOutcome, StoreError> {
        const OP: &str = "identities.link_if_absent";
        link.check()?;
        let id = link.identity();
        for _ in 0..LINK_ATTEMPTS {
            let r = self
                .pg
                .run(OP, async {
                    sqlx::query(&self.sql.insert)
                        .bind(id.issuer())
                        .bind(id.subject())
                        .bind(link.provider())
                        .bind(link.account())
                        .bind(nanos(link.linked_at()))
                        .execute(self.pg.pool())
                        .await
                })
                .await?;
            if r.rows_affected() == 1 {
                return Ok(LinkOutcome::Linked);
            }
            if let Some(existing) = self.find(id).await? {
                return Ok(LinkOutcome::Existing(existing));
            }
        }
        Err(StoreError::new(
            "identity link kept changing under concurrent unlinks",
        ))
    }

    async fn find(
        &self,
        identity: &ExternalIdentity,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        const OP: &str = "identities.find";
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.find)
                    .bind(identity.issuer())
                    .bind(identity.subject())
                    .fetch_optional(self.pg.pool())
                    .await
            })
            .await?;
        Ok(row.map(|r| link_of(OP, &r)).transpose()?)
    }

    async fn list_for_account(&self, account: &str) -> Result<Vec<LinkedIdentity>, StoreError> {
        const OP: &str = "identities.list_for_account";
        let rows = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.list)
                    .bind(account)
                    .fetch_all(self.pg.pool())
                    .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| link_of(OP, r))
            .collect::<Result<_, _>>()?)
    }

    async fn unlink(&self, identity: &ExternalIdentity, account: &str) -> Result<bool, StoreError> {
        const OP: &str = "identities.unlink";
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.unlink)
                    .bind(identity.issuer())
                    .bind(identity.subject())
                    .bind(account)
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(r.rows_affected() == 1)
    }
}

/// A [`UsedStateStore`] on PostgreSQL: a login transaction completes once across instances.
///
/// `<prefix>used_states` holds one row per used state digest until it would have expired;
/// [`mark_used`](UsedStateStore::mark_used) is one upsert that succeeds only when the row is
/// absent or lapsed. Lapsed rows are deleted by the [`Sweeper`](crate::Sweeper).
#[derive(Clone, Debug)]
pub struct PgUsedStateStore {
    pg: PgBackend,
    mark: Arc<str>,
}

impl PgUsedStateStore {
    /// A store on `pg`'s `<prefix>used_states` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("used_states");
        let mark = format!(
            "INSERT INTO {t} AS u (state_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (state_id) DO UPDATE SET expires_at = EXCLUDED.expires_at \
             WHERE u.expires_at <= $3"
        );
        Self {
            pg,
            mark: mark.into(),
        }
    }
}

#[async_trait]
impl UsedStateStore for PgUsedStateStore {
    async fn mark_used(
        &self,
        state_id: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        const OP: &str = "identities.mark_used";
        if expires_at <= now {
            // An already expired transaction is never accepted.
            return Ok(false);
        }
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.mark)
                    .bind(state_id)
                    .bind(nanos(expires_at))
                    .bind(nanos(now))
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
