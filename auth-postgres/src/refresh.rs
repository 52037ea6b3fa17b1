//! [`PgRefreshStore`]: refresh-token families with atomic rotation and reuse detection.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::refresh::{
    DEFAULT_EXPIRED_RETENTION, FamilyId, NewFamily, NewToken, RefreshTokenStore, RevokedFamilies,
    RotateOutcome, TokenHash,
};
use auth_core::store::StoreError;
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::codec::nanos;
use crate::error::Error;

/// A [`RefreshTokenStore`] on PostgreSQL: sessions survive restarts, and one rotation wins
/// whichever instance the requests reach.
///
/// # Atomicity
///
/// [`rotate`](RefreshTokenStore::rotate) is one transaction that reads the presented token and
/// its family with `SELECT … FOR UPDATE` (a lookup by primary key), then either marks the
/// token used and stores the replacement, or on reuse revokes the family. Concurrent rotations
/// of one token queue on the token's row lock; the first marks it used, and every later one
/// reads the committed row (PostgreSQL re-checks a locked row after the lock is released) and
/// sees a used token: of 100 concurrent rotations exactly one gets
/// [`RotateOutcome::Rotated`] (a conformance case). Revocations are single `UPDATE`s.
///
/// # Tables
///
/// - `<prefix>refresh_families`: `id`, `subject`, `revoked`, `expires_at` (the latest expiry
///   of its tokens);
/// - `<prefix>refresh_tokens`: `hash` (SHA-256 of the token, never the token), `family`,
///   `expires_at`, `used`.
///
/// # Retention and sweeping
///
/// A token is remembered until its expiry plus the retention (default
/// [`DEFAULT_EXPIRED_RETENTION`], 7 days, as the memory and Redis stores), so a used token
/// counts as reuse for as long as it could have been valid and an expired one answers
/// [`RotateOutcome::Expired`]; past that, the [`Sweeper`](crate::Sweeper)
/// deletes it (and a family with its last token), and rotation treats it as unknown even
/// before the sweep.
///
/// # Failures
///
/// Every operation fails with [`StoreError`] past the backend's time limit (503
/// `AUTH_BACKEND_UNAVAILABLE`, fail closed). A rotation that timed out may have committed: the
/// client's retry with the same token then counts as reuse.
#[derive(Clone, Debug)]
pub struct PgRefreshStore {
    pg: PgBackend,
    pub(crate) sql: Arc<Sql>,
    retention: Duration,
}

#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) insert_family: String,
    pub(crate) insert_token: String,
    pub(crate) lock: String,
    pub(crate) mark_used: String,
    pub(crate) extend_family: String,
    pub(crate) revoke_family: String,
    pub(crate) revoke_family_of: String,
    pub(crate) subject_families: String,
    pub(crate) revoke_families: String,
}

impl PgRefreshStore {
    /// A store on `pg`'s refresh tables (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let f = pg.names().table("refresh_families");
        let t = pg.names().table("refresh_tokens");
        let sql = Sql {
            insert_family: format!(
                "INSERT INTO {f} (id, subject, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING"
            ),
            insert_token: format!(
                "INSERT INTO {t} (hash, family, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING"
            ),
            lock: format!(
                "SELECT t.family, t.expires_at, t.used, f.subject, f.revoked \
                 FROM {t} t JOIN {f} f ON f.id = t.family \
                 WHERE t.hash = $1 AND t.expires_at > $2 FOR UPDATE OF t, f"
            ),
            mark_used: format!("UPDATE {t} SET used = true WHERE hash = $1"),
            extend_family: format!(
                "UPDATE {f} SET expires_at = GREATEST(expires_at, $2) WHERE id = $1"
            ),
            revoke_family: format!("UPDATE {f} SET revoked = true WHERE id = $1 AND NOT revoked"),
            revoke_family_of: format!(
                "WITH tok AS (SELECT family FROM {t} WHERE hash = $1), \
                 upd AS (UPDATE {f} SET revoked = true \
                         WHERE id IN (SELECT family FROM tok) AND NOT revoked) \
                 SELECT family FROM tok"
            ),
            subject_families: format!("SELECT id FROM {f} WHERE subject = $1 FOR UPDATE"),
            revoke_families: format!(
                "UPDATE {f} SET revoked = true WHERE id = ANY($1) AND NOT revoked"
            ),
        };
        Self {
            pg,
            sql: Arc::new(sql),
            retention: DEFAULT_EXPIRED_RETENTION,
        }
    }

    /// How long a token is remembered after its expiry (default
    /// [`DEFAULT_EXPIRED_RETENTION`]).
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }
}

/// What the rotation transaction decided.
enum Decision {
    Done(RotateOutcome),
    Duplicate,
}

#[async_trait]
impl RefreshTokenStore for PgRefreshStore {
    async fn insert_family(&self, family: NewFamily) -> Result<(), StoreError> {
        const OP: &str = "refresh.insert_family";
        let token = family.token();
        let inserted = self
            .pg
            .run(OP, async {
                let mut tx = self.pg.pool().begin().await?;
                let f = sqlx::query(&self.sql.insert_family)
                    .bind(family.family().as_str())
                    .bind(family.subject())
                    .bind(nanos(token.expires_at()))
                    .execute(&mut *tx)
                    .await?;
                if f.rows_affected() != 1 {
                    return Ok(Some("family"));
                }
                let t = sqlx::query(&self.sql.insert_token)
                    .bind(token.hash().as_bytes().as_slice())
                    .bind(family.family().as_str())
                    .bind(nanos(token.expires_at()))
                    .execute(&mut *tx)
                    .await?;
                if t.rows_affected() != 1 {
                    return Ok(Some("token digest"));
                }
                tx.commit().await?;
                Ok(None)
            })
            .await?;
        match inserted {
            None => Ok(()),
            Some(what) => Err(StoreError::new(format!("refresh {what} already stored"))),
        }
    }

    async fn rotate(
        &self,
        presented: &TokenHash,
        replacement: NewToken,
        now: UnixTime,
    ) -> Result<RotateOutcome, StoreError> {
        const OP: &str = "refresh.rotate";
        // Past its expiry plus the retention a token is forgotten, swept or not.
        let retention = i64::try_from(self.retention.as_nanos()).unwrap_or(i64::MAX);
        let remembered_after = nanos(now).saturating_sub(retention);
        let decision = self
            .pg
            .run(OP, async {
                let mut tx = self.pg.pool().begin().await?;
                let Some(row) = sqlx::query(&self.sql.lock)
                    .bind(presented.as_bytes().as_slice())
                    .bind(remembered_after)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    return Ok(Decision::Done(RotateOutcome::Unknown));
                };
                let family: String = row.try_get(0)?;
                let expires_at: i64 = row.try_get(1)?;
                let used: bool = row.try_get(2)?;
                let subject: String = row.try_get(3)?;
                let revoked: bool = row.try_get(4)?;
                if used && revoked {
                    // Reuse of a family already revoked (the common case when many copies of
                    // one token race): nothing to write, so no commit to wait for; dropping
                    // the transaction rolls it back and releases the row locks.
                    return Ok(Decision::Done(RotateOutcome::Reused {
                        family: FamilyId::new(family),
                        subject,
                    }));
                }
                if used {
                    sqlx::query(&self.sql.revoke_family)
                        .bind(&family)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(Decision::Done(RotateOutcome::Reused {
                        family: FamilyId::new(family),
                        subject,
                    }));
                }
                if revoked {
                    return Ok(Decision::Done(RotateOutcome::Revoked));
                }
                if nanos(now) >= expires_at {
                    return Ok(Decision::Done(RotateOutcome::Expired));
                }
                let inserted = sqlx::query(&self.sql.insert_token)
                    .bind(replacement.hash().as_bytes().as_slice())
                    .bind(&family)
                    .bind(nanos(replacement.expires_at()))
                    .execute(&mut *tx)
                    .await?;
                if inserted.rows_affected() != 1 {
                    return Ok(Decision::Duplicate);
                }
                sqlx::query(&self.sql.mark_used)
                    .bind(presented.as_bytes().as_slice())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&self.sql.extend_family)
                    .bind(&family)
                    .bind(nanos(replacement.expires_at()))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Decision::Done(RotateOutcome::Rotated {
                    family: FamilyId::new(family),
                    subject,
                }))
            })
            .await?;
        match decision {
            Decision::Done(out) => Ok(out),
            Decision::Duplicate => Err(StoreError::new(
                "the replacement refresh token's digest is already stored",
            )),
        }
    }

    async fn revoke_family(&self, family: &FamilyId) -> Result<bool, StoreError> {
        const OP: &str = "refresh.revoke_family";
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.revoke_family)
                    .bind(family.as_str())
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_family_of(&self, token: &TokenHash) -> Result<Option<FamilyId>, StoreError> {
        const OP: &str = "refresh.revoke_family_of";
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.revoke_family_of)
                    .bind(token.as_bytes().as_slice())
                    .fetch_optional(self.pg.pool())
                    .await
            })
            .await?;
        row.map(|r| {
            r.try_get::<String, _>(0)
                .map(FamilyId::new)
                .map_err(|e| Error::database(OP, e).into())
        })
        .transpose()
    }

    async fn revoke_subject(&self, subject: &str) -> Result<RevokedFamilies, StoreError> {
        const OP: &str = "refresh.revoke_subject";
        let (ids, newly) = self
            .pg
            .run(OP, async {
                let mut tx = self.pg.pool().begin().await?;
                let ids: Vec<String> = sqlx::query(&self.sql.subject_families)
                    .bind(subject)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<_, _>>()?;
                let n = sqlx::query(&self.sql.revoke_families)
                    .bind(&ids)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok((ids, n))
            })
            .await?;
        Ok(RevokedFamilies::new(
            ids.into_iter().map(FamilyId::new).collect(),
            usize::try_from(newly).unwrap_or(usize::MAX),
        ))
    }
}
