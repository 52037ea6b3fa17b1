//! [`Sweeper`]: the bounded background deletion of expired rows.
//!
//! Stores never return an expired row (every query compares with the current time), so
//! sweeping is about space, not correctness. Each pass deletes at most `batch` rows per table
//! (`DELETE … WHERE ctid IN (SELECT ctid … LIMIT batch)`, through the expiry indexes), so one
//! pass holds locks briefly and its cost is bounded whatever the backlog; a backlog drains over
//! several passes.

use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{Clock, UnixTime};
use auth_core::refresh::DEFAULT_EXPIRED_RETENTION;
use tokio::task::JoinHandle;

use crate::backend::PgBackend;
use crate::codec::nanos;
use crate::error::Error;

/// The most rows one pass deletes per table by default.
pub const DEFAULT_SWEEP_BATCH: u32 = 1_000;

/// How often [`Sweeper::spawn`] runs a pass by default.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Deletes expired rows of every store table, at most `batch` rows per table per pass.
///
/// What counts as expired, per table: API keys past `purge_after` (their retention after they
/// stopped working; live keys without expiry never); refresh tokens and families past their
/// expiry plus the refresh retention (default
/// [`DEFAULT_EXPIRED_RETENTION`], as [`PgRefreshStore`](crate::PgRefreshStore)); revocations
/// past `until`; pending TOTP enrolments past their lapse; MFA tokens, authentication
/// contexts and used login states past their expiry.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::clock::SystemClock;
/// use auth_postgres::{PgBackend, Sweeper};
///
/// let pg = PgBackend::builder("postgres://app@127.0.0.1/app").build()?;
/// pg.migrate().await?;
/// // One pass a minute, in the background, until the handle is dropped.
/// let _sweeper = Sweeper::new(pg).spawn(SystemClock);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Sweeper {
    pg: PgBackend,
    batch: u32,
    interval: Duration,
    refresh_retention: Duration,
    statements: Arc<[(&'static str, String, bool)]>,
}

/// How many rows one [`Sweeper::sweep_once`] pass deleted, per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// `(table, rows deleted)`, for the tables with deletions.
    pub deleted: Vec<(&'static str, u64)>,
}

impl SweepReport {
    /// Rows deleted in all tables.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

impl Sweeper {
    /// A sweeper of `pg`'s tables with the defaults ([`DEFAULT_SWEEP_BATCH`],
    /// [`DEFAULT_SWEEP_INTERVAL`], [`DEFAULT_EXPIRED_RETENTION`]).
    #[must_use]
    pub fn new(pg: PgBackend) -> Self {
        let n = pg.names();
        // $1: the cutoff (ns), $2: the batch. Refresh rows are cut off at now minus the
        // refresh retention, the others at now.
        let del = |table: &'static str, column: &str, retained: bool| {
            let t = n.table(table);
            let sql = format!(
                "DELETE FROM {t} WHERE ctid IN \
                 (SELECT ctid FROM {t} WHERE {column} <= $1 LIMIT $2)"
            );
            (table, sql, retained)
        };
        let statements = vec![
            del("api_keys", "purge_after", false),
            del("refresh_tokens", "expires_at", true),
            del("refresh_families", "expires_at", true),
            del("revocations", "until", false),
            del("totp_credentials", "pending_until", false),
            del("mfa_tokens", "expires_at", false),
            del("auth_contexts", "expires_at", false),
            del("used_states", "expires_at", false),
        ];
        Self {
            pg,
            batch: DEFAULT_SWEEP_BATCH,
            interval: DEFAULT_SWEEP_INTERVAL,
            refresh_retention: DEFAULT_EXPIRED_RETENTION,
            statements: statements.into(),
        }
    }

    /// The most rows a pass deletes per table (at least 1).
    #[must_use]
    pub fn batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// The time between two passes of [`spawn`](Self::spawn) (at least one second).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_secs(1));
        self
    }

    /// How long refresh tokens are kept after their expiry; use the same value as the
    /// [`PgRefreshStore`](crate::PgRefreshStore)'s retention.
    #[must_use]
    pub fn refresh_retention(mut self, retention: Duration) -> Self {
        self.refresh_retention = retention;
        self
    }

    /// One pass at `now`: at most `batch` rows per table, each table's deletion bounded by the
    /// backend's time limit.
    ///
    /// # Errors
    ///
    /// [`Error`] from the first table whose deletion failed (the tables before it were swept).
    pub async fn sweep_once(&self, now: UnixTime) -> Result<SweepReport, Error> {
        let retention = i64::try_from(self.refresh_retention.as_nanos()).unwrap_or(i64::MAX);
        let now_ns = nanos(now);
        let mut report = SweepReport::default();
        for (table, sql, retained) in self.statements.iter() {
            let cutoff = if *retained {
                now_ns.saturating_sub(retention)
            } else {
                now_ns
            };
            let r = self
                .pg
                .run("sweep", async {
                    sqlx::query(sql)
                        .bind(cutoff)
                        .bind(i64::from(self.batch))
                        .execute(self.pg.pool())
                        .await
                })
                .await?;
            if r.rows_affected() > 0 {
                report.deleted.push((table, r.rows_affected()));
            }
        }
        Ok(report)
    }

    /// Runs a pass every interval on the current Tokio runtime, with the time of `clock`,
    /// until the returned handle is dropped. A failed pass is logged (target `auth::store`)
    /// and the next one runs at the next interval.
    #[must_use = "the sweeper stops when the handle is dropped"]
    pub fn spawn(self, clock: impl Clock) -> SweeperHandle {
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match self.sweep_once(clock.now()).await {
                    Ok(r) if r.total() > 0 => {
                        tracing::debug!(target: "auth::store", backend = "postgres", deleted = r.total(), "expired rows swept");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(target: "auth::store", backend = "postgres", error = %e, "sweep failed");
                    }
                }
            }
        });
        SweeperHandle { task }
    }
}

/// Stops the background sweep of [`Sweeper::spawn`] when dropped.
#[derive(Debug)]
pub struct SweeperHandle {
    task: JoinHandle<()>,
}

impl Drop for SweeperHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
