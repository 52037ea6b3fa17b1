//! [`PgRevocationStore`]: revoked access tokens by `jti`, session and subject, per issuer.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::clock::{Clock, SystemClock, UnixTime};
use auth_core::revocation::{RevocationStore, TokenRef};
use auth_core::store::StoreError;
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::codec::nanos;

const JTI: i16 = 1;
const SESSION: i16 = 2;
const SUBJECT: i16 = 3;

/// A [`RevocationStore`] on PostgreSQL: a token revoked through one instance is refused by
/// every other at its next request, and stays revoked across restarts until it would have
/// expired anyway.
///
/// # Cost
///
/// [`is_revoked`](RevocationStore::is_revoked) is **one statement** of three primary-key
/// lookups (the token's `jti`, its session, its subject's cutoff), one round trip whatever the
/// number of entries. Put a short-lived cache in front only if you accept revocations taking
/// that long to apply.
///
/// # Table
///
/// `<prefix>revocations`: `(kind, issuer, id)` primary key, `issued_before` (subject cutoffs),
/// `until`. The issuer is stored as `0x00` for tokens without `iss` and `0x01` + the issuer
/// otherwise, so "no issuer" is a namespace of its own; identifiers are kept as bytes, so any
/// string a token carries is stored exactly.
///
/// # Atomicity
///
/// Every write is one `INSERT … ON CONFLICT DO UPDATE` (or a short transaction for
/// `revoke_token` / `revoke_session`, which report whether the entry is new) that only ever
/// extends an entry, so concurrent revocations cannot undo each other.
///
/// # Sweeping
///
/// Entries are ignored from `until` on, and the [`Sweeper`](crate::Sweeper)
/// deletes them.
#[derive(Clone, Debug)]
pub struct PgRevocationStore {
    pg: PgBackend,
    pub(crate) sql: Arc<Sql>,
    clock: Arc<dyn Clock>,
}

#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) drop_lapsed: String,
    pub(crate) upsert: String,
    pub(crate) upsert_subject: String,
    pub(crate) check: String,
}

impl PgRevocationStore {
    /// A store on `pg`'s `<prefix>revocations` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("revocations");
        let sql = Sql {
            drop_lapsed: format!(
                "DELETE FROM {t} WHERE kind = $1 AND issuer = $2 AND id = $3 AND until <= $4"
            ),
            upsert: format!(
                "INSERT INTO {t} AS r (kind, issuer, id, until) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kind, issuer, id) DO UPDATE SET until = GREATEST(r.until, EXCLUDED.until) \
                 RETURNING (xmax = 0) AS inserted"
            ),
            upsert_subject: format!(
                "INSERT INTO {t} AS r (kind, issuer, id, issued_before, until) \
                 VALUES ({SUBJECT}, $1, $2, $3, $4) \
                 ON CONFLICT (kind, issuer, id) DO UPDATE SET \
                   issued_before = CASE WHEN r.until <= $5 THEN EXCLUDED.issued_before \
                                        ELSE GREATEST(r.issued_before, EXCLUDED.issued_before) END, \
                   until = GREATEST(r.until, EXCLUDED.until)"
            ),
            check: format!(
                "SELECT EXISTS (SELECT 1 FROM {t} WHERE kind = {JTI} AND issuer = $1 AND id = $2 AND until > $5) \
                 OR EXISTS (SELECT 1 FROM {t} WHERE kind = {SESSION} AND issuer = $1 AND id = $3 AND until > $5) \
                 OR EXISTS (SELECT 1 FROM {t} WHERE kind = {SUBJECT} AND issuer = $1 AND id = $4 AND until > $5 \
                            AND ($6::bigint IS NULL OR $6 <= issued_before))"
            ),
        };
        Self {
            pg,
            sql: Arc::new(sql),
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock that decides whether an existing entry has lapsed when a revocation is
    /// written (checks use the `now` they are given). Default: the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Lists `(kind, issuer, id)` until `until`; whether it was not listed before.
    async fn list(
        &self,
        op: &'static str,
        kind: i16,
        issuer: Option<&str>,
        id: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        let issuer = issuer_key(issuer);
        let now = nanos(self.clock.now());
        let new = self
            .pg
            .run(op, async {
                let mut tx = self.pg.pool().begin().await?;
                // A lapsed entry counts as absent (as a Redis key past its TTL would).
                sqlx::query(&self.sql.drop_lapsed)
                    .bind(kind)
                    .bind(&issuer)
                    .bind(id.as_bytes())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(&self.sql.upsert)
                    .bind(kind)
                    .bind(&issuer)
                    .bind(id.as_bytes())
                    .bind(nanos(until))
                    .fetch_one(&mut *tx)
                    .await?;
                let inserted: bool = row.try_get(0)?;
                tx.commit().await?;
                Ok(inserted)
            })
            .await?;
        Ok(new)
    }
}

/// `0x00` for no issuer, `0x01` + the issuer otherwise: injective, and distinct from every
/// issuer (the empty one included).
fn issuer_key(issuer: Option<&str>) -> Vec<u8> {
    match issuer {
        None => vec![0],
        Some(i) => {
            let mut v = Vec::with_capacity(i.len() + 1);
            v.push(1);
            v.extend_from_slice(i.as_bytes());
            v
        }
    }
}

#[async_trait]
impl RevocationStore for PgRevocationStore {
    async fn revoke_token(
        &self,
        issuer: Option<&str>,
        jti: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        self.list("revocation.revoke_token", JTI, issuer, jti, until)
            .await
    }

    async fn revoke_subject(
        &self,
        issuer: Option<&str>,
        subject: &str,
        issued_before: UnixTime,
        until: UnixTime,
    ) -> Result<(), StoreError> {
        const OP: &str = "revocation.revoke_subject";
        let issuer = issuer_key(issuer);
        let now = nanos(self.clock.now());
        self.pg
            .run(OP, async {
                sqlx::query(&self.sql.upsert_subject)
                    .bind(&issuer)
                    .bind(subject.as_bytes())
                    .bind(nanos(issued_before))
                    .bind(nanos(until))
                    .bind(now)
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(())
    }

    async fn revoke_session(
        &self,
        issuer: Option<&str>,
        session: &str,
        until: UnixTime,
    ) -> Result<bool, StoreError> {
        self.list("revocation.revoke_session", SESSION, issuer, session, until)
            .await
    }

    async fn is_revoked(&self, token: TokenRef<'_>, now: UnixTime) -> Result<bool, StoreError> {
        const OP: &str = "revocation.is_revoked";
        let issuer = issuer_key(token.issuer());
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.check)
                    .bind(&issuer)
                    .bind(token.jti().map(str::as_bytes))
                    .bind(token.session().map(str::as_bytes))
                    .bind(token.subject().as_bytes())
                    .bind(nanos(now))
                    .bind(token.issued_at().map(nanos))
                    .fetch_one(self.pg.pool())
                    .await
            })
            .await?;
        row.try_get::<bool, _>(0)
            .map_err(|e| crate::error::Error::database(OP, e).into())
    }
}

#[cfg(test)]
mod tests {
    use super::issuer_key;

    #[test]
    fn issuer_keys_keep_no_issuer_apart_from_every_issuer() {
        assert_ne!(issuer_key(None), issuer_key(Some("")));
        assert_ne!(issuer_key(Some("")), issuer_key(Some("\0")));
        assert_eq!(issuer_key(Some("a")), b"\x01a");
    }
}
