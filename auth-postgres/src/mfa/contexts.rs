//! [`PgAuthContextStore`]: the authentication context of each login session.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::clock::{Clock, SystemClock, UnixTime};
use auth_core::mfa::{AuthContext, AuthContextStore};
use auth_core::store::StoreError;
use sqlx::Row as _;

use crate::backend::PgBackend;
use crate::codec::nanos;
use crate::error::Error;

/// An [`AuthContextStore`] on PostgreSQL: a refreshed token keeps the `amr`/`acr`/`auth_time`
/// of its login across restarts and instances.
///
/// `<prefix>auth_contexts` holds one row per session (`claims` as JSON, `expires_at`); each
/// operation is one statement by primary key. Expired rows are never returned and are deleted
/// by the [`Sweeper`](crate::Sweeper).
#[derive(Clone, Debug)]
pub struct PgAuthContextStore {
    pg: PgBackend,
    pub(crate) sql: Arc<Sql>,
    clock: Arc<dyn Clock>,
}

#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) save: String,
    pub(crate) load: String,
    pub(crate) remove: String,
}

impl PgAuthContextStore {
    /// A store on `pg`'s `<prefix>auth_contexts` table (run [`PgBackend::migrate`] first).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let t = pg.names().table("auth_contexts");
        let sql = Sql {
            save: format!(
                "INSERT INTO {t} (session, claims, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (session) DO UPDATE SET claims = EXCLUDED.claims, \
                   expires_at = EXCLUDED.expires_at"
            ),
            load: format!("SELECT claims FROM {t} WHERE session = $1 AND expires_at > $2"),
            remove: format!("DELETE FROM {t} WHERE session = $1 RETURNING expires_at > $2"),
        };
        Self {
            pg,
            sql: Arc::new(sql),
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock that decides whether [`remove`](AuthContextStore::remove) removed a live
    /// context (default: the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

#[async_trait]
impl AuthContextStore for PgAuthContextStore {
    async fn save(
        &self,
        session: &str,
        context: &AuthContext,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        const OP: &str = "mfa.context.save";
        let _ = now;
        let claims = serde_json::Value::Object(context.claims()).to_string();
        self.pg
            .run(OP, async {
                sqlx::query(&self.sql.save)
                    .bind(session)
                    .bind(&claims)
                    .bind(nanos(expires_at))
                    .execute(self.pg.pool())
                    .await
            })
            .await?;
        Ok(())
    }

    async fn load(&self, session: &str, now: UnixTime) -> Result<Option<AuthContext>, StoreError> {
        const OP: &str = "mfa.context.load";
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.load)
                    .bind(session)
                    .bind(nanos(now))
                    .fetch_optional(self.pg.pool())
                    .await
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let claims: String = row.try_get(0).map_err(|e| Error::database(OP, e))?;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&claims)
            .map_err(|e| Error::unexpected(OP, format!("claims: {e}")))?;
        AuthContext::from_claims(&map)
            .map(Some)
            .ok_or_else(|| Error::unexpected(OP, "claims without auth_time").into())
    }

    async fn remove(&self, session: &str) -> Result<bool, StoreError> {
        const OP: &str = "mfa.context.remove";
        let now = nanos(self.clock.now());
        let row = self
            .pg
            .run(OP, async {
                sqlx::query(&self.sql.remove)
                    .bind(session)
                    .bind(now)
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
