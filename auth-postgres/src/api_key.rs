//! [`PgApiKeyStore`]: API-key records by digest, id and owner.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::api_key::{
    ApiKeyHash, ApiKeyId, ApiKeyRecord, ApiKeyStore, RotateOutcome, Rotation, StoreError,
};
use auth_core::clock::{Clock, SystemClock, UnixTime};
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::codec::nanos;
use crate::error::Error;

/// How long [`PgApiKeyStore`] keeps a key after it stopped working (revoked, expired, or past a
/// rotation's grace period) by default: 30 days, so owners still see it listed (as the Redis
/// store).
pub const DEFAULT_API_KEY_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// An [`ApiKeyStore`] on PostgreSQL: keys survive restarts, and a key created, revoked or
/// rotated at one instance is seen by every other at its next request.
///
/// # Cost
///
/// Verification ([`find_by_hash`](ApiKeyStore::find_by_hash)) is **one statement**, a lookup
/// in the unique index on the digest (one round trip, whatever the number of keys; see the
/// `EXPLAIN` test in `src/explain.rs`).
///
/// # Table
///
/// `<prefix>api_keys`: `id` (primary key), `hash` (the SHA-256 digest, unique; never the key),
/// `owner`, `created_at`, `purge_after`, and `record`, the [`ApiKeyRecord`] as JSON.
///
/// # Atomicity
///
/// Revocation, rotation and usage writes each run in one transaction that locks the key's row
/// (`SELECT … FOR UPDATE`), applies auth-core's own state change ([`ApiKeyRecord::revoke`],
/// [`ApiKeyRecord::rotate_into`], [`ApiKeyRecord::record_use`]) and writes it back, so the
/// owner check, "can be rotated" and the change are one step: of concurrent rotations one wins,
/// and a revocation racing a rotation sees the record before or after it, never half of it.
///
/// # Retention and sweeping
///
/// A key that stopped working is kept for [`DEFAULT_API_KEY_RETENTION`] after that (its row's
/// `purge_after`), then the [`Sweeper`](crate::Sweeper) deletes it; until then
/// it is listed and verification answers "revoked" or "expired". Past `purge_after` a row is
/// never returned, swept or not. A live key without expiry is never deleted.
///
/// # Failures
///
/// Every operation fails with [`StoreError::Unavailable`] past the backend's time limit;
/// `ApiKeyLayer` answers 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed).
#[derive(Clone, Debug)]
pub struct PgApiKeyStore {
    pg: PgBackend,
    pub(crate) sql: Arc<Sql>,
    clock: Arc<dyn Clock>,
    retention: Duration,
}

#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) insert: String,
    pub(crate) find: String,
    pub(crate) list: String,
    pub(crate) lock: String,
    pub(crate) update: String,
}

impl PgApiKeyStore {
    /// A store on `pg`'s `<prefix>api_keys` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("api_keys");
        let sql = Sql {
            insert: format!(
                "INSERT INTO {t} (id, hash, owner, created_at, purge_after, record) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
            ),
            find: format!(
                "SELECT record FROM {t} WHERE hash = $1 \
                 AND (purge_after IS NULL OR purge_after > $2)"
            ),
            list: format!(
                "SELECT record FROM {t} WHERE owner = $1 \
                 AND (purge_after IS NULL OR purge_after > $2) ORDER BY created_at, id"
            ),
            lock: format!(
                "SELECT record FROM {t} WHERE id = $1 \
                 AND (purge_after IS NULL OR purge_after > $2) FOR UPDATE"
            ),
            update: format!("UPDATE {t} SET purge_after = $2, record = $3 WHERE id = $1"),
        };
        Self {
            pg,
            sql: Arc::new(sql),
            clock: Arc::new(SystemClock),
            retention: DEFAULT_API_KEY_RETENTION,
        }
    }

    /// The clock that decides when a row is past its retention (default: the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a key is kept after it stopped working (default
    /// [`DEFAULT_API_KEY_RETENTION`]).
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// When the sweep may delete `r`: retention after it stopped working; never for a live key
    /// without expiry.
    fn purge_after(&self, r: &ApiKeyRecord) -> Option<i64> {
        let stopped = match (r.revoked_at, r.expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        stopped.map(|t| nanos(t.saturating_add(self.retention)))
    }

    fn now(&self) -> i64 {
        nanos(self.clock.now())
    }
}

/// What a change decided under the key's row lock.
enum Change<T> {
    /// Answer `T`, write nothing.
    Keep(T),
    /// Store `insert` (if any; a taken id or digest fails the whole change with
    /// [`StoreError::Duplicate`]), write `record` back, answer `out`.
    Write {
        out: T,
        record: Box<ApiKeyRecord>,
        insert: Option<Box<ApiKeyRecord>>,
    },
}

impl PgApiKeyStore {
    /// In one transaction: locks key `id`'s row (`SELECT … FOR UPDATE`), lets `change` decide
    /// on the record (`None`: no such key), and applies what it decided.
    async fn modify<T>(
        &self,
        op: &'static str,
        id: &ApiKeyId,
        change: impl FnOnce(Option<ApiKeyRecord>) -> Change<T>,
    ) -> Result<T, StoreError> {
        self.pg
            .run(op, async {
                let mut tx = self.pg.pool().begin().await?;
                let row = sqlx::query(&self.sql.lock)
                    .bind(id.as_str())
                    .bind(self.now())
                    .fetch_optional(&mut *tx)
                    .await?;
                let current = match row.map(|r| record_of(op, &r)).transpose() {
                    Ok(r) => r,
                    Err(e) => return Ok(Err(e.into())),
                };
                let (out, record, insert) = match change(current) {
                    Change::Keep(out) => return Ok(Ok(out)),
                    Change::Write {
                        out,
                        record,
                        insert,
                    } => (out, record, insert),
                };
                if let Some(new) = insert {
                    let json = match encode(op, &new) {
                        Ok(j) => j,
                        Err(e) => return Ok(Err(e.into())),
                    };
                    let inserted = sqlx::query(&self.sql.insert)
                        .bind(new.id.as_str())
                        .bind(new.hash.as_bytes().as_slice())
                        .bind(&new.owner)
                        .bind(nanos(new.created_at))
                        .bind(self.purge_after(&new))
                        .bind(&json)
                        .execute(&mut *tx)
                        .await?;
                    if inserted.rows_affected() != 1 {
                        // Dropping the transaction rolls it back: nothing changed.
                        return Ok(Err(StoreError::Duplicate));
                    }
                }
                let json = match encode(op, &record) {
                    Ok(j) => j,
                    Err(e) => return Ok(Err(e.into())),
                };
                sqlx::query(&self.sql.update)
                    .bind(id.as_str())
                    .bind(self.purge_after(&record))
                    .bind(&json)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Ok(out))
            })
            .await?
    }
}

fn encode(op: &'static str, r: &ApiKeyRecord) -> Result<String, Error> {
    serde_json::to_string(r).map_err(|e| Error::unexpected(op, format!("record: {e}")))
}

fn decode(op: &'static str, s: &str) -> Result<ApiKeyRecord, Error> {
    serde_json::from_str(s).map_err(|e| Error::unexpected(op, format!("record: {e}")))
}

fn record_of(op: &'static str, row: &sqlx::postgres::PgRow) -> Result<ApiKeyRecord, Error> {
    let s: &str = row.try_get(0).map_err(|e| Error::database(op, e))?;
    decode(op, s)
}

#[async_trait]
impl ApiKeyStore for PgApiKeyStore {
    async fn create(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        const OP: &str = "api_key.create";
        let json = encode(OP, &record)?;
        let n = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.insert)
                    .bind(record.id.as_str())
                    .bind(record.hash.as_bytes().as_slice())
                    .bind(&record.owner)
                    .bind(nanos(record.created_at))
                    .bind(self.purge_after(&record))
                    .bind(&json)
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        if n.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::Duplicate)
        }
    }

    async fn find_by_hash(&self, hash: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        const OP: &str = "api_key.find_by_hash";
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.find)
                    .bind(hash.as_bytes().as_slice())
                    .bind(self.now())
                    .fetch_optional(self.pg.pool())
                    .await
            })
            .await?;
        Ok(row.map(|r| record_of(OP, &r)).transpose()?)
    }

    async fn list_by_owner(&self, owner: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        const OP: &str = "api_key.list_by_owner";
        let rows = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.list)
                    .bind(owner)
                    .bind(self.now())
                    .fetch_all(self.pg.pool())
                    .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| record_of(OP, r))
            .collect::<Result<_, _>>()?)
    }

    async fn revoke(
        &self,
        id: &ApiKeyId,
        owner: &str,
        at: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.modify("api_key.revoke", id, |r| match r {
            Some(mut r) if r.owner == owner => {
                r.revoke(at);
                Change::Write {
                    out: Some(r.clone()),
                    record: Box::new(r),
                    insert: None,
                }
            }
            _ => Change::Keep(None),
        })
        .await
    }

    async fn rotate(
        &self,
        id: &ApiKeyId,
        owner: &str,
        rotation: Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        self.modify("api_key.rotate", id, |r| match r {
            Some(mut old) if old.owner == owner => {
                if !old.can_rotate(rotation.now) {
                    return Change::Keep(RotateOutcome::NotActive);
                }
                let new = old.rotate_into(&rotation);
                Change::Write {
                    out: RotateOutcome::Rotated {
                        previous: Box::new(old.clone()),
                        replacement: Box::new(new.clone()),
                    },
                    record: Box::new(old),
                    insert: Some(Box::new(new)),
                }
            }
            _ => Change::Keep(RotateOutcome::NotFound),
        })
        .await
    }

    async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError> {
        self.modify("api_key.record_use", id, |r| match r {
            Some(mut r) if r.last_used_at.is_none_or(|t| t < at) => {
                r.record_use(at);
                Change::Write {
                    out: (),
                    record: Box::new(r),
                    insert: None,
                }
            }
            _ => Change::Keep(()),
        })
        .await
    }
}
