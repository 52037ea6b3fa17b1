//! [`RedisConnection`]: the one connection every store shares, to a single server (plain or
//! TLS) or to a Redis Cluster, and how it is set up from a [`RedisBackendBuilder`]'s settings.
//!
//! [`RedisBackendBuilder`]: crate::RedisBackendBuilder

use std::fmt;
#[cfg(feature = "tls")]
use std::path::PathBuf;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::error::ConfigError;

/// The connection the stores share: a [`ConnectionManager`] (one multiplexed connection to one
/// server, reconnecting by itself) or, with the `cluster` feature, a cluster connection (one
/// multiplexed connection per node, following `MOVED`/`ASK` redirections and fail-overs).
///
/// Cheap to clone; clones share the connection. It implements
/// [`redis::aio::ConnectionLike`], so an application can run its own commands on the
/// connection the stores use ([`RedisBackend::connection`](crate::RedisBackend::connection));
/// in cluster mode every multi-key command and script must keep its keys in one hash slot.
#[derive(Clone)]
pub struct RedisConnection(Kind);

#[derive(Clone)]
enum Kind {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.0 {
            Kind::Single(_) => "single",
            #[cfg(feature = "cluster")]
            Kind::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisConnection")
            .field("mode", &mode)
            .finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// Whether this is a Redis Cluster connection.
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        !matches!(self.0, Kind::Single(_))
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Kind::Single(c) => c.req_packed_command(cmd),
            #[cfg(feature = "cluster")]
            Kind::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Kind::Single(c) => c.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "cluster")]
            Kind::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Kind::Single(c) => c.get_db(),
            #[cfg(feature = "cluster")]
            Kind::Cluster(c) => c.get_db(),
        }
    }
}

/// Where Redis is.
#[derive(Clone)]
pub(crate) enum Target {
    /// One server: `redis://` or `rediss://`.
    Single(String),
    /// Seed nodes of a cluster.
    #[cfg(feature = "cluster")]
    Cluster(Vec<String>),
}

impl Target {
    /// The URL(s), passwords redacted, for `Debug` and errors.
    pub(crate) fn shown(&self) -> String {
        match self {
            Self::Single(url) => redact_url(url),
            #[cfg(feature = "cluster")]
            Self::Cluster(seeds) => {
                let shown: Vec<String> = seeds.iter().map(|s| redact_url(s)).collect();
                format!("cluster [{}]", shown.join(", "))
            }
        }
    }
}

/// PEM material: given inline or read from a file when the backend is built.
#[cfg(feature = "tls")]
#[derive(Clone)]
pub(crate) enum Pem {
    Inline(Vec<u8>),
    File(PathBuf),
}

#[cfg(feature = "tls")]
impl Pem {
    fn load(&self) -> Result<Vec<u8>, ConfigError> {
        match self {
            Self::Inline(b) => Ok(b.clone()),
            Self::File(path) => std::fs::read(path).map_err(|e| ConfigError::TlsFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

/// The TLS settings beyond the `rediss://` scheme: a private CA and a client certificate.
#[derive(Clone, Default)]
pub(crate) struct TlsSettings {
    #[cfg(feature = "tls")]
    pub(crate) ca: Option<Pem>,
    #[cfg(feature = "tls")]
    pub(crate) client: Option<(Pem, Pem)>,
}

impl TlsSettings {
    /// Whether a CA or client certificate is configured.
    pub(crate) fn is_set(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.ca.is_some() || self.client.is_some()
        }
        #[cfg(not(feature = "tls"))]
        {
            false
        }
    }

    #[cfg(feature = "tls")]
    fn certificates(&self) -> Result<redis::TlsCertificates, ConfigError> {
        let root_cert = self.ca.as_ref().map(Pem::load).transpose()?;
        let client_tls = match &self.client {
            Some((cert, key)) => Some(redis::ClientTlsConfig {
                client_cert: cert.load()?,
                client_key: key.load()?,
            }),
            None => None,
        };
        Ok(redis::TlsCertificates {
            client_tls,
            root_cert,
        })
    }
}

/// The connection settings of a [`RedisBackendBuilder`](crate::RedisBackendBuilder).
pub(crate) struct Settings<'a> {
    pub(crate) target: &'a Target,
    pub(crate) tls: &'a TlsSettings,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) reconnect_max_delay: Duration,
}

/// A client that opens one fresh connection on demand, to tell why the shared connection
/// fails: its reconnection loop retries a refused TLS handshake like any other failure, so an
/// operation only sees a time-out, while a single attempt reports the handshake's error.
#[derive(Clone)]
pub(crate) enum Probe {
    // Boxed: a cluster client is twice the size of a client, and neither is moved often.
    Single(Box<redis::Client>),
    #[cfg(feature = "cluster")]
    Cluster(Box<redis::cluster::ClusterClient>),
}

impl Probe {
    /// Connects once (within `limit`) and sends `PING`.
    pub(crate) async fn diagnose(&self, limit: Duration) -> redis::RedisResult<()> {
        let attempt = async {
            match self {
                Self::Single(client) => {
                    let config = redis::AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(limit))
                        .set_response_timeout(Some(limit));
                    let mut conn = client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?;
                    redis::cmd("PING").query_async::<()>(&mut conn).await
                }
                #[cfg(feature = "cluster")]
                Self::Cluster(client) => {
                    let mut conn = client.get_async_connection().await?;
                    redis::cmd("PING").query_async::<()>(&mut conn).await
                }
            }
        };
        match tokio::time::timeout(limit, attempt).await {
            Ok(r) => r,
            Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer within the timeout",
            ))),
        }
    }
}

/// Sets up the connection **without connecting**: the first operation connects.
pub(crate) fn connect_lazily(s: &Settings<'_>) -> Result<(RedisConnection, Probe), ConfigError> {
    #[cfg(feature = "tls")]
    install_crypto_provider();
    match s.target {
        Target::Single(url) => single(url, s),
        #[cfg(feature = "cluster")]
        Target::Cluster(seeds) => cluster(seeds, s),
    }
}

fn url_error(url: &str, e: &redis::RedisError) -> ConfigError {
    ConfigError::Url {
        url: redact_url(url),
        reason: e.to_string(),
    }
}

fn single(url: &str, s: &Settings<'_>) -> Result<(RedisConnection, Probe), ConfigError> {
    let client = if s.tls.is_set() {
        #[cfg(feature = "tls")]
        {
            if !url.starts_with("rediss://") {
                return Err(ConfigError::Tls {
                    reason: "a CA or client certificate needs a `rediss://` url".to_owned(),
                });
            }
            redis::Client::build_with_tls(url, s.tls.certificates()?).map_err(|e| {
                ConfigError::Tls {
                    reason: e.to_string(),
                }
            })?
        }
        #[cfg(not(feature = "tls"))]
        {
            unreachable_without_tls(url)?
        }
    } else {
        check_scheme(url)?;
        redis::Client::open(url).map_err(|e| url_error(url, &e))?
    };
    // Back-off: 10 ms doubling up to `reconnect_max_delay`, a few attempts per reconnection;
    // when they all fail, the next operation starts another reconnection.
    let config = ConnectionManagerConfig::new()
        .set_min_delay(Duration::from_millis(10))
        .set_max_delay(s.reconnect_max_delay)
        .set_exponent_base(2.0)
        .set_number_of_retries(8)
        .set_connection_timeout(Some(s.connect_timeout))
        .set_response_timeout(Some(s.timeout));
    let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
        .map_err(|e| url_error(url, &e))?;
    Ok((
        RedisConnection(Kind::Single(conn)),
        Probe::Single(Box::new(client)),
    ))
}

#[cfg(not(feature = "tls"))]
fn unreachable_without_tls(_url: &str) -> Result<redis::Client, ConfigError> {
    // `TlsSettings::is_set` is always false without the feature.
    Err(ConfigError::Tls {
        reason: "this build has no tls support (feature `tls`)".to_owned(),
    })
}

/// A `rediss://` URL in a build without TLS is refused with a message that names the feature.
fn check_scheme(url: &str) -> Result<(), ConfigError> {
    if url.starts_with("rediss://") && !cfg!(feature = "tls") {
        return Err(ConfigError::Tls {
            reason: "a `rediss://` url needs the `tls` feature of auth-redis".to_owned(),
        });
    }
    Ok(())
}

#[cfg(feature = "cluster")]
fn cluster(seeds: &[String], s: &Settings<'_>) -> Result<(RedisConnection, Probe), ConfigError> {
    use redis::cluster::{ClusterClientBuilder, ClusterConfig};
    if seeds.is_empty() {
        return Err(ConfigError::NoSeedNodes);
    }
    for seed in seeds {
        check_scheme(seed)?;
        if s.tls.is_set() && !seed.starts_with("rediss://") {
            return Err(ConfigError::Tls {
                reason: "a CA or client certificate needs `rediss://` seed urls".to_owned(),
            });
        }
    }
    let retry_ms = u64::try_from(s.reconnect_max_delay.as_millis()).unwrap_or(u64::MAX);
    #[allow(unused_mut)]
    let mut builder = ClusterClientBuilder::new(seeds.iter().map(String::as_str))
        .connection_timeout(s.connect_timeout)
        .response_timeout(s.timeout)
        // Redirections (`MOVED`/`ASK`) and reconnections to a failed-over node are retried
        // within the operation's time limit, which bounds every operation anyway.
        .retries(4)
        .min_retry_wait(10)
        .max_retry_wait(retry_ms);
    #[cfg(feature = "tls")]
    if s.tls.is_set() {
        builder = builder.certs(s.tls.certificates()?);
    }
    let shown = seeds.first().map_or("", String::as_str);
    let client = builder.build().map_err(|e| url_error(shown, &e))?;
    let config = ClusterConfig::new()
        .set_connection_timeout(s.connect_timeout)
        .set_response_timeout(s.timeout);
    let conn = client.get_pending_async_connection_with_config(config);
    Ok((
        RedisConnection(Kind::Cluster(conn)),
        Probe::Cluster(Box::new(client)),
    ))
}

/// rustls needs a process-wide crypto provider; install ring's unless the application
/// installed one (rustls refuses to choose when several are compiled in).
#[cfg(feature = "tls")]
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: one provider is then installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// `redis://user:secret@host` -> `redis://user:REDACTED@host`.
pub(crate) fn redact_url(url: &str) -> String {
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
