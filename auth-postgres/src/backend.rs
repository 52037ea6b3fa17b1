//! [`PgBackend`]: the bounded connection pool, the per-operation time limit and the table names
//! every store of this crate shares.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::error::{ConfigError, Error};

/// How long one store operation may take by default (pool wait, statements and commit): past it
/// the operation fails and the request gets 503 `AUTH_BACKEND_UNAVAILABLE`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// The most connections the pool opens by default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The table-name prefix when none is set.
pub const DEFAULT_PREFIX: &str = "auth_";

/// The most bytes of a prefix or schema name (PostgreSQL identifiers have at most 63, and the
/// longest table or index name appends 30).
pub const MAX_PREFIX_LEN: usize = 32;

/// A pool of connections to one PostgreSQL database, shared by the stores of this crate, with
/// the names of their tables.
///
/// Cheap to clone (the pool is reference-counted). Building it does not connect: connections
/// are opened on demand (at most [`max_connections`](PgBackendBuilder::max_connections)), so a
/// service starts while the database is down and its requests get 503 until it is back.
///
/// # Bounds
///
/// - Every store operation runs under [`timeout`](PgBackendBuilder::timeout) (default
///   [`DEFAULT_TIMEOUT`]) as a whole, waiting for a connection included; the server also
///   cancels a statement past it (`statement_timeout`), so a stuck query frees its connection.
/// - The pool holds at most `max_connections` (default [`DEFAULT_MAX_CONNECTIONS`]). Callers
///   beyond that wait for a connection, within the same time limit.
/// - A connection is not pinged before use (that would be a second round trip per request); a
///   connection broken meanwhile fails one operation (503) and is dropped, and the pool opens
///   a new one for the next.
#[derive(Clone)]
pub struct PgBackend {
    pool: PgPool,
    timeout: Duration,
    names: Arc<Names>,
}

impl fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("PgBackend")
            .field("schema", &self.names.schema)
            .field("prefix", &self.names.prefix)
            .field("timeout", &self.timeout)
            .field(
                "max_connections",
                &self.pool.options().get_max_connections(),
            )
            .finish_non_exhaustive()
    }
}

/// The qualified, quoted-free names of the tables and indexes (validated identifiers).
#[derive(Debug)]
pub(crate) struct Names {
    pub(crate) schema: Option<String>,
    pub(crate) prefix: String,
}

impl Names {
    /// `schema.prefix<table>` (or `prefix<table>` without a schema).
    pub(crate) fn table(&self, table: &str) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}{table}", self.prefix),
            None => format!("{}{table}", self.prefix),
        }
    }

    /// Replaces `{t}` (the schema-qualified prefix) and `{p}` (the bare prefix, for index
    /// names, which live in their table's schema) in `sql`.
    pub(crate) fn render(&self, sql: &str) -> String {
        sql.replace("{t}", &self.table(""))
            .replace("{p}", &self.prefix)
    }
}

impl PgBackend {
    /// A builder for a backend on `url` (`postgres://user[:password]@host[:port]/database`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use auth_postgres::PgBackend;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), auth_postgres::ConfigError> {
    /// // Does not connect yet (must run inside a Tokio runtime).
    /// let pg = PgBackend::builder("postgres://app@127.0.0.1:5432/app")
    ///     .prefix("auth_")
    ///     .max_connections(16)
    ///     .timeout(Duration::from_millis(250))
    ///     .build()?;
    /// assert_eq!(pg.prefix(), "auth_");
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> PgBackendBuilder {
        PgBackendBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            schema: None,
            timeout: DEFAULT_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// The table-name prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.names.prefix
    }

    /// The schema the tables live in, if one was set (otherwise the connection's
    /// `search_path`, usually `public`).
    #[must_use]
    pub fn schema(&self) -> Option<&str> {
        self.names.schema.as_deref()
    }

    /// The limit of one store operation.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection pool (for the application's own queries, or to close it).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs one trivial statement: whether the database answers within the time limit.
    ///
    /// # Errors
    ///
    /// [`Error`] when it does not.
    pub async fn ping(&self) -> Result<(), Error> {
        self.run("ping", async {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
        .await
    }

    pub(crate) fn names(&self) -> &Names {
        &self.names
    }

    /// Runs `op` under the time limit; a database error or the limit becomes [`Error`].
    pub(crate) async fn run<T>(
        &self,
        what: &'static str,
        op: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                tracing::error!(target: "auth::store", backend = "postgres", op = what, error = %e, "store operation failed");
                Err(Error::database(what, e))
            }
            Err(_) => {
                tracing::error!(target: "auth::store", backend = "postgres", op = what, timeout_ms = self.timeout.as_millis(), "store operation timed out");
                Err(Error::timeout(what, self.timeout))
            }
        }
    }
}

/// Configures a [`PgBackend`]; made by [`PgBackend::builder`].
#[derive(Clone)]
#[must_use]
pub struct PgBackendBuilder {
    url: String,
    prefix: String,
    schema: Option<String>,
    timeout: Duration,
    max_connections: u32,
}

impl fmt::Debug for PgBackendBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgBackendBuilder")
            .field("url", &"REDACTED")
            .field("prefix", &self.prefix)
            .field("schema", &self.schema)
            .field("timeout", &self.timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl PgBackendBuilder {
    /// Prefix of every table and index name (default [`DEFAULT_PREFIX`]): lowercase ASCII
    /// letters, digits and `_`, starting with a letter or `_`, at most [`MAX_PREFIX_LEN`] bytes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Puts the tables in this schema (same rules as the prefix); the migrations create it if
    /// it does not exist. Without it, tables go to the connection's `search_path`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The limit of one store operation (default [`DEFAULT_TIMEOUT`]); also the server-side
    /// `statement_timeout` of the pool's connections.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most connections the pool opens (default [`DEFAULT_MAX_CONNECTIONS`]).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// The backend. Does not connect (must be called inside a Tokio runtime).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the URL does not parse, a name is not a plain identifier, the
    /// timeout is zero or the pool size is zero.
    pub fn build(self) -> Result<PgBackend, ConfigError> {
        check_identifier("prefix", &self.prefix, true)?;
        if let Some(s) = &self.schema {
            check_identifier("schema", s, false)?;
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::new("the timeout must be more than zero"));
        }
        if self.max_connections == 0 {
            return Err(ConfigError::new("the pool needs at least one connection"));
        }
        let options: PgConnectOptions = self
            .url
            .parse()
            .map_err(|e: sqlx::Error| ConfigError::new(format!("DATABASE_URL: {e}")))?;
        let statement_ms = self.timeout.as_millis().max(1).to_string();
        let options = options
            .application_name("auth-postgres")
            .options([("statement_timeout", statement_ms.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(0)
            .acquire_timeout(self.timeout)
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(PgBackend {
            pool,
            timeout: self.timeout,
            names: Arc::new(Names {
                schema: self.schema,
                prefix: self.prefix,
            }),
        })
    }
}

fn check_identifier(what: &str, s: &str, may_be_empty: bool) -> Result<(), ConfigError> {
    let ok_start = s
        .bytes()
        .next()
        .is_none_or(|b| b.is_ascii_lowercase() || b == b'_');
    let ok_rest = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if (s.is_empty() && !may_be_empty) || s.len() > MAX_PREFIX_LEN || !ok_start || !ok_rest {
        return Err(ConfigError::new(format!(
            "the {what} must be lowercase ASCII letters, digits and '_', start with a letter or '_', \
             and have at most {MAX_PREFIX_LEN} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_are_plain_identifiers_only() {
        let b = |p: &str| {
            PgBackend::builder("postgres://u@127.0.0.1/db")
                .prefix(p)
                .build()
        };
        assert!(b("auth_").is_ok());
        assert!(b("").is_ok());
        for bad in ["Auth", "a-b", "a;drop", "1a", "a\"", &"a".repeat(33)] {
            assert!(b(bad).is_err(), "{bad}");
        }
        let s = PgBackend::builder("postgres://u@127.0.0.1/db").schema("");
        assert!(s.build().is_err());
        let z = PgBackend::builder("postgres://u@127.0.0.1/db").timeout(Duration::ZERO);
        assert!(z.build().is_err());
        assert!(PgBackend::builder("not a url").build().is_err());
    }

    #[tokio::test]
    async fn table_names_carry_the_schema_and_prefix() {
        let pg = PgBackend::builder("postgres://u:secret@127.0.0.1/db")
            .schema("tenant_a")
            .prefix("x_")
            .build()
            .unwrap();
        assert_eq!(pg.names().table("api_keys"), "tenant_a.x_api_keys");
        assert_eq!(
            pg.names().render("CREATE INDEX {p}i ON {t}api_keys"),
            "CREATE INDEX x_i ON tenant_a.x_api_keys"
        );
        assert!(!format!("{pg:?}").contains("secret"));
    }
}
