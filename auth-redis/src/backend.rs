//! [`RedisBackend`]: the connection, the key prefix and the per-operation timeout every store
//! shares; [`ConfigError`] and [`Error`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::{FromRedisValue, Script, ToRedisArgs};

use crate::connection::{Probe, RedisConnection, Settings, Target, TlsSettings, connect_lazily};
pub use crate::error::{ConfigError, Error, ErrorKind};

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

/// A handle on the Redis shared by the stores (one server, plain or TLS, or a Redis Cluster):
/// its [`RedisConnection`] (multiplexed, reconnecting by itself), the key prefix, and the time
/// limit of each operation.
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
    conn: RedisConnection,
    probe: Probe,
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
    /// A builder for one server at `url`: `redis://[user:password@]host:port[/db]`, or
    /// `rediss://...` for TLS (feature `tls`; the server's certificate is checked against the
    /// system's roots, or only against [`RedisBackendBuilder::tls_ca_file`]'s CA, and must
    /// name `host`).
    pub fn builder(url: impl Into<String>) -> RedisBackendBuilder {
        RedisBackendBuilder::new(Target::Single(url.into()))
    }

    /// A builder for a Redis Cluster (feature `cluster`), found through `seeds`: the URLs of
    /// one or more of its nodes (`redis://` or, for TLS, `rediss://`; all the same scheme).
    /// The connection learns the slot map from them, follows `MOVED`/`ASK` redirections and
    /// picks up a promoted replica after a fail-over by itself.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_redis::RedisBackend;
    ///
    /// let redis = RedisBackend::cluster_builder(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])
    ///     .prefix("shop:auth:")
    ///     .build()?;
    /// # let _ = redis;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub fn cluster_builder<I, S>(seeds: I) -> RedisBackendBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisBackendBuilder::new(Target::Cluster(seeds.into_iter().map(Into::into).collect()))
    }

    /// The connection the stores use, for an application's own commands (the demo keeps its
    /// user accounts there). Every command is still the caller's to bound in time.
    #[must_use]
    pub fn connection(&self) -> RedisConnection {
        self.inner.conn.clone()
    }

    /// Whether this backend talks to a Redis Cluster.
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        self.inner.conn.is_cluster()
    }
}

impl RedisBackendBuilder {
    fn new(target: Target) -> Self {
        Self {
            target,
            tls: TlsSettings::default(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            reconnect_max_delay: DEFAULT_RECONNECT_MAX_DELAY,
        }
    }
}

impl RedisBackend {
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

    /// Sends `PING` (within the timeout): a readiness check. Alongside, one fresh connection
    /// is attempted (within the same timeout) to tell why the shared connection fails, if it
    /// does: its reconnection loop turns every failure, a refused TLS handshake included, into
    /// a time-out, while the fresh attempt reports the cause ([`ErrorKind::Tls`] for an
    /// untrusted or misnamed server certificate, or a refused client certificate). Call it at
    /// start-up (or from a health check) to report a misconfiguration clearly.
    ///
    /// # Errors
    ///
    /// [`Error`] when Redis does not answer in time or answers with an error.
    pub async fn ping(&self) -> Result<(), Error> {
        let mut conn = self.inner.conn.clone();
        let shared = self.bounded("ping", async move {
            redis::cmd("PING").query_async::<String>(&mut conn).await
        });
        let probe = self.inner.probe.diagnose(self.inner.timeout);
        let (reply, probe) = tokio::join!(shared, probe);
        let reply = match (reply, probe) {
            (Ok(r), _) => r,
            // The fresh attempt found a cause other than silence: report it.
            (Err(_), Err(e)) if !e.is_timeout() => {
                let kind = if is_tls_failure(&e) {
                    ErrorKind::Tls
                } else {
                    ErrorKind::Unavailable
                };
                tracing::warn!(target: "auth::redis", error = %e, "redis is not reachable");
                return Err(Error::new(kind, "ping", None, Some(e)));
            }
            (Err(shared), _) => return Err(shared),
        };
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
                } else if is_tls_failure(&e) {
                    tracing::warn!(target: "auth::redis", operation, error = %e, "redis tls handshake failed");
                    ErrorKind::Tls
                } else {
                    ErrorKind::Unavailable
                };
                Err(Error::new(kind, operation, None, Some(e)))
            }
            Err(_) => {
                tracing::debug!(
                    target: "auth::redis",
                    operation,
                    timeout_ms = u64::try_from(self.inner.timeout.as_millis()).unwrap_or(u64::MAX),
                    "redis operation timed out"
                );
                Err(Error::new(
                    ErrorKind::TimedOut,
                    operation,
                    Some(format!("no answer within {:?}", self.inner.timeout)),
                    None,
                ))
            }
        }
    }
}

/// Whether `e` is a failed TLS handshake (rustls' messages: an untrusted or misnamed
/// certificate, or an alert from a server that refused ours).
fn is_tls_failure(e: &redis::RedisError) -> bool {
    let text = e.to_string();
    [
        "invalid peer certificate",
        "received fatal alert",
        "certificate",
        "InvalidCertificate",
    ]
    .iter()
    .any(|m| text.contains(m))
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
    target: Target,
    tls: TlsSettings,
    prefix: String,
    timeout: Duration,
    connect_timeout: Duration,
    reconnect_max_delay: Duration,
}

impl fmt::Debug for RedisBackendBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackendBuilder")
            .field("target", &self.target.shown())
            .field("tls", &self.tls.is_set())
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

    /// Trusts only the CA certificate(s) in the PEM file at `path` for the server's
    /// certificate (instead of the system's roots): a private CA. Read when the backend is
    /// built. Needs a `rediss://` URL (feature `tls`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tls.ca = Some(crate::connection::Pem::File(path.into()));
        self
    }

    /// As [`tls_ca_file`](Self::tls_ca_file), with the PEM given inline.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.ca = Some(crate::connection::Pem::Inline(pem.into()));
        self
    }

    /// Presents the client certificate (chain) in the PEM file `cert` with the private key in
    /// the PEM file `key` (mutual TLS, for a server with `tls-auth-clients yes`). Read when the
    /// backend is built. Needs a `rediss://` URL (feature `tls`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_client_cert_files(
        mut self,
        cert: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.tls.client = Some((
            crate::connection::Pem::File(cert.into()),
            crate::connection::Pem::File(key.into()),
        ));
        self
    }

    /// As [`tls_client_cert_files`](Self::tls_client_cert_files), with the PEM given inline.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_client_cert_pem(
        mut self,
        cert: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> Self {
        self.tls.client = Some((
            crate::connection::Pem::Inline(cert.into()),
            crate::connection::Pem::Inline(key.into()),
        ));
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
        let (conn, probe) = connect_lazily(&Settings {
            target: &self.target,
            tls: &self.tls,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            reconnect_max_delay: self.reconnect_max_delay,
        })?;
        Ok(RedisBackend {
            inner: Arc::new(Inner {
                conn,
                probe,
                prefix: self.prefix.into_boxed_str(),
                timeout: self.timeout,
                shown_url: self.target.shown().into_boxed_str(),
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
    } else if prefix.contains(['{', '}']) {
        // The stores put a Redis Cluster hash tag (`{...}`) right after the prefix.
        "it holds `{` or `}` (the stores add their own hash tags after it)"
    } else {
        return Ok(());
    };
    Err(ConfigError::Prefix {
        prefix: prefix.chars().take(MAX_PREFIX_LEN).collect(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::redact_url;

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
        assert!(validate_prefix("a{b}:").is_err());
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
