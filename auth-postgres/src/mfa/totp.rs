//! [`PgTotpStore`]: TOTP credentials with an atomic replay guard across instances.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::mfa::{
    CredentialId, CredentialState, SealedSecret, TotpAlgorithm, TotpCredential, TotpParams,
    TotpStore,
};
use auth_core::store::StoreError;
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::codec::{nanos, step, step_of, time};
use crate::error::Error;

/// A [`TotpStore`] on PostgreSQL: a code is accepted once, whichever instance the requests
/// reach, and enrolments survive restarts.
///
/// # Atomicity
///
/// Every check-and-change is one statement on the account's row (primary key):
/// [`consume_step`](TotpStore::consume_step) is `UPDATE … SET last_step = $step WHERE
/// last_step < $step`, so of concurrent submissions of one code exactly one updates the row;
/// [`activate`](TotpStore::activate) updates only the pending credential with the checked id
/// that has not lapsed; [`put_pending`](TotpStore::put_pending) is an upsert whose update
/// applies only to a pending row, so it never replaces an active credential.
///
/// # Table
///
/// `<prefix>totp_credentials`: `account` (primary key), `id`, `sealed` (the **sealed**
/// secret, never the secret), `algorithm`, `digits`, `period`, `created_at`, and either
/// `pending_until` (pending) or `last_step` (active). A lapsed pending row is never returned
/// and is deleted by the [`Sweeper`](crate::Sweeper).
#[derive(Clone, Debug)]
pub struct PgTotpStore {
    pg: PgBackend,
    pub(crate) sql: Arc<Sql>,
}

#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) put_pending: String,
    pub(crate) get: String,
    pub(crate) activate: String,
    pub(crate) consume: String,
    pub(crate) remove: String,
}

impl PgTotpStore {
    /// A store on `pg`'s `<prefix>totp_credentials` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("totp_credentials");
        let sql = Sql {
            put_pending: format!(
                "INSERT INTO {t} AS c (account, id, sealed, algorithm, digits, period, created_at, pending_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (account) DO UPDATE SET id = EXCLUDED.id, sealed = EXCLUDED.sealed, \
                   algorithm = EXCLUDED.algorithm, digits = EXCLUDED.digits, period = EXCLUDED.period, \
                   created_at = EXCLUDED.created_at, pending_until = EXCLUDED.pending_until, last_step = NULL \
                 WHERE c.last_step IS NULL"
            ),
            get: format!(
                "SELECT id, sealed, algorithm, digits, period, created_at, pending_until, last_step \
                 FROM {t} WHERE account = $1 AND (pending_until IS NULL OR pending_until > $2)"
            ),
            activate: format!(
                "UPDATE {t} SET pending_until = NULL, last_step = $3 \
                 WHERE account = $1 AND id = $2 AND pending_until > $4"
            ),
            consume: format!(
                "UPDATE {t} SET last_step = $3 \
                 WHERE account = $1 AND id = $2 AND last_step < $3"
            ),
            remove: format!("DELETE FROM {t} WHERE account = $1 RETURNING last_step IS NOT NULL"),
        };
        Self {
            pg,
            sql: Arc::new(sql),
        }
    }
}

fn parse(op: &'static str, row: &sqlx::postgres::PgRow) -> Result<TotpCredential, Error> {
    let db = |e| Error::database(op, e);
    let id: String = row.try_get(0).map_err(db)?;
    let sealed: Vec<u8> = row.try_get(1).map_err(db)?;
    let alg: String = row.try_get(2).map_err(db)?;
    let digits: i16 = row.try_get(3).map_err(db)?;
    let period: i64 = row.try_get(4).map_err(db)?;
    let created: i64 = row.try_get(5).map_err(db)?;
    let pending: Option<i64> = row.try_get(6).map_err(db)?;
    let last: Option<i64> = row.try_get(7).map_err(db)?;
    let bad = |what: &str| Error::unexpected(op, format!("credential field {what}"));
    let alg = TotpAlgorithm::from_name(&alg).ok_or_else(|| bad("algorithm"))?;
    let digits = u8::try_from(digits).map_err(|_| bad("digits"))?;
    let period = u64::try_from(period).map_err(|_| bad("period"))?;
    let params =
        TotpParams::new(alg, digits, Duration::from_secs(period)).map_err(|_| bad("params"))?;
    let state = match (pending, last) {
        (Some(p), None) => CredentialState::Pending {
            expires_at: time(op, p)?,
        },
        (None, Some(s)) => CredentialState::Active {
            last_step: step_of(s),
        },
        _ => return Err(bad("state")),
    };
    Ok(TotpCredential::new(
        CredentialId::new(id),
        SealedSecret::from_bytes(sealed),
        params,
        state,
        time(op, created)?,
    ))
}

#[async_trait]
impl TotpStore for PgTotpStore {
    async fn put_pending(
        &self,
        account: &str,
        credential: &TotpCredential,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        const OP: &str = "mfa.totp.put_pending";
        let CredentialState::Pending { expires_at } = credential.state() else {
            return Err(StoreError::new("put_pending needs a pending credential"));
        };
        let _ = now;
        let params = credential.params();
        let period = i64::try_from(params.period().as_secs())
            .map_err(|_| StoreError::new("totp period out of range"))?;
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.put_pending)
                    .bind(account)
                    .bind(credential.id().as_str())
                    .bind(credential.sealed_secret().as_bytes())
                    .bind(params.algorithm().as_str())
                    .bind(i16::from(params.digits()))
                    .bind(period)
                    .bind(nanos(credential.created_at()))
                    .bind(nanos(expires_at))
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn get(
        &self,
        account: &str,
        now: UnixTime,
    ) -> Result<Option<TotpCredential>, StoreError> {
        const OP: &str = "mfa.totp.get";
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.get)
                    .bind(account)
                    .bind(nanos(now))
                    .fetch_optional(self.pg.pool())
                    .await
            })
            .await?;
        Ok(row.map(|r| parse(OP, &r)).transpose()?)
    }

    async fn activate(
        &self,
        account: &str,
        id: &CredentialId,
        at_step: u64,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        const OP: &str = "mfa.totp.activate";
        let s = step(at_step);
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.activate)
                    .bind(account)
                    .bind(id.as_str())
                    .bind(s)
                    .bind(nanos(now))
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn consume_step(
        &self,
        account: &str,
        id: &CredentialId,
        at_step: u64,
    ) -> Result<bool, StoreError> {
        const OP: &str = "mfa.totp.consume_step";
        let s = step(at_step);
        let r = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.consume)
                    .bind(account)
                    .bind(id.as_str())
                    .bind(s)
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn remove(&self, account: &str) -> Result<bool, StoreError> {
        const OP: &str = "mfa.totp.remove";
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.remove)
                    .bind(account)
                    .fetch_optional(self.pg.pool())
                    .await
            })
            .await?;
        match row {
            None => Ok(false),
            Some(r) => r
                .try_get::<bool, _>(0)
                .map_err(|e| Error::database(OP, e).into()),
        }
    }
}
