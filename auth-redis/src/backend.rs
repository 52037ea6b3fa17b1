//! [`RedisBackend`]: the connection, the key prefix and the per-operation timeout every store
//! shares; [`ConfigError`] and [`Error`].

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, Script, ToRedisArgs};

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "auth:";

/// The default time limit of one store operation (one round trip): 100 ms.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);

/// The default limit on one attempt to (re)connect: 1 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The default longest pause between two reconnection attempts: 1 s. While Redis is away the
/// connection retries with exponential back-off up to this pause, so it is also about how long
/// after Redis returns the stores recover.
pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

/// The longest prefix accepted, in bytes.
pub const MAX_PREFIX_LEN: usize = 64;

/// A handle on one Redis server shared by the stores: a [`ConnectionManager`] (one multiplexed
/// connection that reconnects by itself), the key prefix, and the time limit of each operation.
///
/// Cheap to clone; clones share the connection. Build it once per process and hand clones to
/// each store.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_redis::RedisBackend;
/// use std::time::Duration;
///
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379")
///     .prefix("shop:auth:")
///     .timeout(Duration::from_millis(50))
///     .build()?; // does not connect yet: an instance starts even while Redis is down
/// redis.ping().await?; // optional readiness check
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    prefix: Box<str>,
    timeout: Duration,
    /// The URL without its password, for `Debug`.
    shown_url: Box<str>,
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("url", &self.inner.shown_url)
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisBackend {
    /// A builder for a server at `url` (`redis://[user:password@]host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisBackendBuilder {
        RedisBackendBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            reconnect_max_delay: DEFAULT_RECONNECT_MAX_DELAY,
        }
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The time limit of one operation.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Sends `PING` (within the timeout): a readiness check.
    ///
    /// # Errors
    ///
    /// [`Error`] when Redis does not answer in time or answers with an error.
    pub async fn ping(&self) -> Result<(), Error> {
        let mut conn = self.inner.conn.clone();
        let reply: String = self
            .bounded("ping", async move {
                redis::cmd("PING").query_async(&mut conn).await
            })
            .await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(Error::unexpected("ping", format!("reply {reply:?}")))
        }
    }

    /// `prefix` + `parts`: a key in this backend's namespace.
    pub(crate) fn key(&self, parts: &[&str]) -> String {
        let len = self.inner.prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>();
        let mut key = String::with_capacity(len);
        key.push_str(&self.inner.prefix);
        for p in parts {
            key.push_str(p);
        }
        key
    }

    /// Runs `script` (`EVALSHA`, loading it on `NOSCRIPT`): one round trip in the steady state.
    pub(crate) async fn script<T: FromRedisValue>(
        &self,
        operation: &'static str,
        script: &Script,
        keys: &[&str],
        args: &[&dyn ToArg],
    ) -> Result<T, Error> {
        let mut invocation = script.prepare_invoke();
        for k in keys {
            invocation.key(*k);
        }
        for a in args {
            a.add_to(&mut invocation);
        }
        let mut conn = self.inner.conn.clone();
        self.bounded(operation, async move {
            invocation.invoke_async(&mut conn).await
        })
        .await
    }

    /// Runs one command: one round trip.
    pub(crate) async fn command<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: redis::Cmd,
    ) -> Result<T, Error> {
        let mut conn = self.inner.conn.clone();
        self.bounded(operation, async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// `SET key 1 NX PX ttl`: records `key` for `ttl` unless it exists, in one atomic command;
    /// `true` when this call recorded it. The one-time values of the DPoP and OIDC-login
    /// stores.
    #[cfg_attr(not(any(feature = "dpop", feature = "identities")), allow(dead_code))]
    pub(crate) async fn set_once(
        &self,
        operation: &'static str,
        key: String,
        ttl: Duration,
    ) -> Result<bool, Error> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(crate::codec::ttl_ms(ttl));
        let set: Option<String> = self.command(operation, cmd).await?;
        Ok(set.is_some())
    }

    /// Runs `fut` within the timeout; a late answer is dropped, never awaited.
    async fn bounded<T>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.inner.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                tracing::debug!(target: "auth::redis", operation, error = %e, "redis operation failed");
                // The connection's own response timeout (the same limit) may fire first.
                let kind = if e.is_timeout() {
                    ErrorKind::TimedOut
                } else {
                    ErrorKind::Unavailable
                };
                Err(Error {
                    kind,
                    operation,
                    detail: None,
                    source: Some(e),
                })
            }
            Err(_) => {
                tracing::debug!(
                    target: "auth::redis",
                    operation,
                    timeout_ms = u64::try_from(self.inner.timeout.as_millis()).unwrap_or(u64::MAX),
                    "redis operation timed out"
                );
                Err(Error {
                    kind: ErrorKind::TimedOut,
                    operation,
                    detail: Some(format!("no answer within {:?}", self.inner.timeout)),
                    source: None,
                })
            }
        }
    }
}

/// An argument of a script, without boxing every value into a `Vec` first.
pub(crate) trait ToArg: Sync {
    fn add_to(&self, invocation: &mut redis::ScriptInvocation<'_>);
}

impl<T: ToRedisArgs + Sync> ToArg for T {
    fn add_to(&self, invocation: &mut redis::ScriptInvocation<'_>) {
        invocation.arg(self);
    }
}

/// Builds a [`RedisBackend`]; created by [`RedisBackend::builder`].
#[derive(Clone)]
#[must_use]
pub struct RedisBackendBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    connect_timeout: Duration,
    reconnect_max_delay: Duration,
}

impl fmt::Debug for RedisBackendBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackendBuilder")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .finish()
    }
}

impl RedisBackendBuilder {
    /// The prefix of every key (default [`DEFAULT_PREFIX`], `auth:`): 1 to
    /// [`MAX_PREFIX_LEN`] printable ASCII characters without spaces. Give each application (or
    /// environment) sharing a Redis its own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The time limit of one store operation (default [`DEFAULT_TIMEOUT`], 100 ms). An
    /// operation that takes longer fails (the request gets 503, or passes with a fail-open
    /// brute-force layer); it never hangs a request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The limit on one attempt to (re)connect (default [`DEFAULT_CONNECT_TIMEOUT`], 1 s).
    /// Reconnection runs in the background; requests meanwhile fail within
    /// [`timeout`](Self::timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest pause between reconnection attempts (default
    /// [`DEFAULT_RECONNECT_MAX_DELAY`], 1 s).
    pub fn reconnect_max_delay(mut self, delay: Duration) -> Self {
        self.reconnect_max_delay = delay;
        self
    }

    /// Validates the settings and sets up the connection, **without connecting**: the first
    /// operation connects, and an instance started while Redis is down serves 503s (fail
    /// closed) until it is back. Use [`RedisBackend::ping`] to wait for readiness.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid URL, prefix or duration, or when called outside a Tokio
    /// runtime (the connection's background tasks need one).
    pub fn build(self) -> Result<RedisBackend, ConfigError> {
        validate_prefix(&self.prefix)?;
        for (what, d) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
            ("reconnect_max_delay", self.reconnect_max_delay),
        ] {
            if d.is_zero() {
                return Err(ConfigError::ZeroDuration { setting: what });
            }
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ConfigError::NoRuntime);
        }
        let shown_url = redact_url(&self.url);
        let client = redis::Client::open(self.url.as_str()).map_err(|e| ConfigError::Url {
            url: shown_url.clone(),
            reason: e.to_string(),
        })?;
        // Back-off: 10 ms doubling up to `reconnect_max_delay`, a few attempts per reconnection;
        // when they all fail, the next operation starts another reconnection.
        let config = ConnectionManagerConfig::new()
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(self.reconnect_max_delay)
            .set_exponent_base(2.0)
            .set_number_of_retries(8)
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.timeout));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| {
            ConfigError::Url {
                url: shown_url.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(RedisBackend {
            inner: Arc::new(Inner {
                conn,
                prefix: self.prefix.into_boxed_str(),
                timeout: self.timeout,
                shown_url: shown_url.into_boxed_str(),
            }),
        })
    }
}

fn validate_prefix(prefix: &str) -> Result<(), ConfigError> {
    let reason = if prefix.is_empty() {
        "it is empty"
    } else if prefix.len() > MAX_PREFIX_LEN {
        "it is longer than 64 bytes"
    } else if !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        "it holds a space, a control or a non-ASCII character"
    } else {
        return Ok(());
    };
    Err(ConfigError::Prefix {
        prefix: prefix.chars().take(MAX_PREFIX_LEN).collect(),
        reason,
    })
}

/// `redis://user:secret@host` -> `redis://user:REDACTED@host`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(u, _)| u);
            format!("{scheme}://{user}:REDACTED@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// A [`RedisBackend`] setting is invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL does not parse (its password, if any, is redacted here).
    Url {
        /// The URL, password redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The key prefix is unusable.
    Prefix {
        /// The prefix (at most 64 characters of it).
        prefix: String,
        /// Why.
        reason: &'static str,
    },
    /// A duration setting is zero.
    ZeroDuration {
        /// The setting.
        setting: &'static str,
    },
    /// [`RedisBackendBuilder::build`] ran outside a Tokio runtime.
    NoRuntime,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url { url, reason } => write!(f, "invalid redis url `{url}`: {reason}"),
            Self::Prefix { prefix, reason } => {
                write!(f, "invalid redis key prefix `{prefix}`: {reason}")
            }
            Self::ZeroDuration { setting } => write!(f, "redis {setting} must not be zero"),
            Self::NoRuntime => f.write_str(
                "the redis backend must be built inside a tokio runtime (its connection runs \
                 background tasks)",
            ),
        }
    }
}

impl StdError for ConfigError {}

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No answer within the timeout (Redis slow, unreachable, or reconnecting).
    TimedOut,
    /// The connection failed or Redis answered with an error.
    Unavailable,
    /// Redis answered something the store cannot read (another program's data under this
    /// prefix, or a version mismatch).
    UnexpectedReply,
}

/// A store operation failed. The stores turn it into their trait's error type, so callers see
/// `AUTH_BACKEND_UNAVAILABLE` (503) or a fail-open pass, never a hang or a panic.
///
/// A timed-out operation is **indeterminate**: its script may still have run on the server.
pub struct Error {
    kind: ErrorKind,
    operation: &'static str,
    detail: Option<String>,
    source: Option<redis::RedisError>,
}

impl Error {
    pub(crate) fn unexpected(operation: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::UnexpectedReply,
            operation,
            detail: Some(detail.into()),
            source: None,
        }
    }

    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The store operation that failed, e.g. `"attempts.admit"`.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("operation", &self.operation)
            .field("detail", &self.detail)
            .field("source", &self.source.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::TimedOut => "timed out",
            ErrorKind::Unavailable => "failed",
            ErrorKind::UnexpectedReply => "got an unexpected reply",
        };
        write!(f, "redis {} {what}", self.operation)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_debug_output() {
        assert_eq!(
            redact_url("redis://app:hunter2@10.0.0.1:6379/2"),
            "redis://app:REDACTED@10.0.0.1:6379/2"
        );
        assert_eq!(
            redact_url("redis://:hunter2@host"),
            "redis://:REDACTED@host"
        );
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        let b = RedisBackend::builder("redis://u:hunter2@h");
        assert!(!format!("{b:?}").contains("hunter2"));
    }

    #[test]
    fn prefixes_are_printable_ascii_without_spaces() {
        assert!(validate_prefix("auth:").is_ok());
        assert!(validate_prefix("").is_err());
        assert!(validate_prefix("a b:").is_err());
        assert!(validate_prefix("é:").is_err());
        assert!(validate_prefix(&"x".repeat(65)).is_err());
    }

    #[test]
    fn building_outside_a_runtime_is_a_config_error() {
        let err = RedisBackend::builder("redis://127.0.0.1:1")
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::NoRuntime);
    }

    #[tokio::test]
    async fn invalid_settings_are_refused_at_build_time() {
        let b = || RedisBackend::builder("redis://127.0.0.1:1");
        assert!(matches!(
            b().timeout(Duration::ZERO).build(),
            Err(ConfigError::ZeroDuration { setting: "timeout" })
        ));
        assert!(matches!(
            b().prefix("").build(),
            Err(ConfigError::Prefix { .. })
        ));
        assert!(matches!(
            RedisBackend::builder("http://x:hunter2@h").build(),
            Err(ConfigError::Url { url, .. }) if !url.contains("hunter2")
        ));
        let ok = b().prefix("t:").build().unwrap();
        assert_eq!(ok.prefix(), "t:");
        assert_eq!(ok.timeout(), DEFAULT_TIMEOUT);
        assert_eq!(ok.key(&["a:", "b"]), "t:a:b");
    }
}
