//! Redis for tests: a private `redis-server` that a test can stop, pause and start again, and
//! helpers to look at (and clean up) what the stores wrote. For tests and benchmarks only.
//!
//! Which Redis a test gets:
//!
//! - [`redis_for_tests`]: the server at `REDIS_URL` if that is set, otherwise a private
//!   server on a free loopback port;
//! - [`private_redis_server`]: always a private server (for tests that stop or pause it; never
//!   stop a shared one).
//!
//! When no Redis can be had (no `REDIS_URL`, no `redis-server` binary, or it does not start),
//! both return `Ok(None)` so a developer's run without Redis skips those tests with a message,
//! **except under `CI=true`**, where they return an error: a test that needs Redis and finds
//! none must fail in CI, not pass silently.
//!
//! ```no_run
//! use auth_redis::test_util::private_redis_server;
//!
//! let Some(mut server) = private_redis_server()? else { return Ok(()) }; // skipped locally
//! let url = server.url();
//! server.pause()?;  // Redis stops answering (SIGSTOP): operations time out
//! server.resume()?;
//! server.stop();    // connections are refused
//! server.start()?;  // same port, empty data
//! # let _ = url;
//! # Ok::<(), auth_redis::test_util::TestRedisError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::backend::{Error, RedisBackend};

#[cfg(feature = "cluster")]
mod cluster;
#[cfg(feature = "cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
pub use cluster::{NODE_TIMEOUT, RedisCluster, private_redis_cluster};

/// How long a private server may take to answer its first `PING`.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// The pause between readiness probes.
const PROBE_EVERY: Duration = Duration::from_millis(10);

/// Why no Redis could be had for a test.
#[derive(Debug)]
#[non_exhaustive]
pub enum TestRedisError {
    /// No `REDIS_URL`, and `redis-server` could not be run (under `CI=true`).
    Missing(String),
    /// A private server did not come up.
    NotReady(String),
    /// Signalling the server failed.
    Signal(String),
}

impl fmt::Display for TestRedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(d) => write!(
                f,
                "this test needs Redis and CI=true is set, but none is available ({d}); set \
                 REDIS_URL or install redis-server"
            ),
            Self::NotReady(d) => write!(f, "redis-server did not become ready: {d}"),
            Self::Signal(d) => write!(f, "signalling redis-server failed: {d}"),
        }
    }
}

impl std::error::Error for TestRedisError {}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Turns "no Redis here" into a skip locally and into an error under `CI=true`.
fn missing<T>(detail: String) -> Result<Option<T>, TestRedisError> {
    if in_ci() {
        Err(TestRedisError::Missing(detail))
    } else {
        eprintln!("skipping: no Redis available ({detail}); set REDIS_URL or install redis-server");
        Ok(None)
    }
}

/// The Redis a test runs against: `REDIS_URL`'s, or a private one that lives as long as this
/// value.
#[derive(Debug)]
pub enum TestRedis {
    /// The server at `REDIS_URL` (shared: never stop it).
    External(String),
    /// A private server.
    Private(RedisServer),
}

impl TestRedis {
    /// Its URL.
    #[must_use]
    pub fn url(&self) -> String {
        match self {
            Self::External(url) => url.clone(),
            Self::Private(s) => s.url(),
        }
    }
}

/// `REDIS_URL`'s server, else a private one; `Ok(None)` (skip) when neither can be had, an
/// error instead under `CI=true`.
///
/// # Errors
///
/// [`TestRedisError::Missing`] under `CI=true` when there is no Redis;
/// [`TestRedisError::NotReady`] when a private server does not start.
pub fn redis_for_tests() -> Result<Option<TestRedis>, TestRedisError> {
    if let Some(url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) {
        return Ok(Some(TestRedis::External(url)));
    }
    Ok(private_redis_server()?.map(TestRedis::Private))
}

/// A private `redis-server` (`REDIS_SERVER_BIN`, default `redis-server` on the `PATH`) on a
/// free port of 127.0.0.1, without persistence; `Ok(None)` (skip) when the binary is missing,
/// an error instead under `CI=true`.
///
/// # Errors
///
/// [`TestRedisError::Missing`] under `CI=true` when the binary cannot be run;
/// [`TestRedisError::NotReady`] when the server does not answer `PING` within 10 s.
pub fn private_redis_server() -> Result<Option<RedisServer>, TestRedisError> {
    private_redis_server_with(&[])
}

/// As [`private_redis_server`], with extra `redis-server` arguments (e.g. `--tls-port` and
/// certificates; the plain port stays open for the readiness probe). `{port}` in an argument
/// is replaced by the server's plain port.
///
/// # Errors
///
/// As [`private_redis_server`].
pub fn private_redis_server_with(args: &[String]) -> Result<Option<RedisServer>, TestRedisError> {
    let Some(bin) = server_bin()? else {
        return Ok(None);
    };
    // A port can be taken between finding it free and the server binding it: try a few.
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port().map_err(|e| TestRedisError::NotReady(e.to_string()))?;
        let mut server = RedisServer {
            bin: bin.clone(),
            port,
            dir: std::env::temp_dir(),
            args: args.to_vec(),
            child: None,
        };
        match server.start() {
            Ok(()) => return Ok(Some(server)),
            Err(e) => last = e.to_string(),
        }
    }
    Err(TestRedisError::NotReady(last))
}

/// `REDIS_SERVER_BIN` (default `redis-server`) if it runs; `Ok(None)` (skip) otherwise, an
/// error under `CI=true`.
fn server_bin() -> Result<Option<String>, TestRedisError> {
    let bin = std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".to_owned());
    match Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(Some(bin)),
        Err(e) => missing(format!("cannot run `{bin}`: {e}")),
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A private `redis-server` process on 127.0.0.1 that tests can stop, pause and restart. It is
/// killed when dropped.
pub struct RedisServer {
    bin: String,
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("running", &self.child.is_some())
            .finish()
    }
}

impl RedisServer {
    /// `redis://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server (again) on its port, with no data, and waits until it answers `PING`
    /// (bounded polling, at most 10 s). Does nothing if it runs.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::NotReady`] when it cannot be started or does not answer in time.
    pub fn start(&mut self) -> Result<(), TestRedisError> {
        if self.child.is_some() {
            return Ok(());
        }
        let child = Command::new(&self.bin)
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(
                self.args
                    .iter()
                    .map(|a| a.replace("{port}", &self.port.to_string())),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| TestRedisError::NotReady(format!("spawning {}: {e}", self.bin)))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if ping(self.port) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(TestRedisError::NotReady(format!(
                    "redis-server on port {} exited: {status}",
                    self.port
                )));
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(TestRedisError::NotReady(format!(
                    "no PONG on port {} within {READY_WITHIN:?}",
                    self.port
                )));
            }
            std::thread::sleep(PROBE_EVERY);
        }
    }

    /// Kills the server (connections drop, new ones are refused) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (`SIGSTOP`): connections stay open and nothing is answered, as with a
    /// Redis stuck on a slow command or a network partition.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::Signal`] when the server is not running or `kill` fails.
    pub fn pause(&self) -> Result<(), TestRedisError> {
        self.signal("-STOP")
    }

    /// Thaws a paused server (`SIGCONT`).
    ///
    /// # Errors
    ///
    /// [`TestRedisError::Signal`] when the server is not running or `kill` fails.
    pub fn resume(&self) -> Result<(), TestRedisError> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> Result<(), TestRedisError> {
        let pid = self
            .child
            .as_ref()
            .map(Child::id)
            .ok_or_else(|| TestRedisError::Signal("the server is not running".to_owned()))?;
        let status = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()
            .map_err(|e| TestRedisError::Signal(e.to_string()))?;
        if status.success() {
            Ok(())
        } else {
            Err(TestRedisError::Signal(format!(
                "kill {signal} {pid}: {status}"
            )))
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server cannot die of SIGKILL any slower, but resume it anyway for tidiness.
        let _ = self.resume();
        self.stop();
    }
}

/// Whether a server answers `PING` on `port` within 200 ms.
fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let limit = Some(Duration::from_millis(200));
    if s.set_read_timeout(limit).is_err() || s.set_write_timeout(limit).is_err() {
        return false;
    }
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && buf == *b"+PONG\r\n"
}

/// A prefix no other test (or process) uses: `test:<tag>:<pid>:<n>:<nanos>:`.
#[must_use]
pub fn unique_prefix(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("test:{tag}:{}:{n}:{nanos}:", std::process::id())
}

/// Every key under `redis`'s prefix with its TTL in milliseconds (`-1`: none), sorted.
///
/// # Errors
///
/// [`Error`] when Redis fails.
pub async fn keys_with_ttl(redis: &RedisBackend) -> Result<Vec<(String, i64)>, Error> {
    let keys = scan(redis).await?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let mut cmd = redis::cmd("PTTL");
        cmd.arg(&key);
        let ttl: i64 = redis.command("test.pttl", cmd).await?;
        if ttl != -2 {
            out.push((key, ttl));
        }
    }
    out.sort();
    Ok(out)
}

/// Deletes every key under `redis`'s prefix; returns how many.
///
/// # Errors
///
/// [`Error`] when Redis fails.
pub async fn delete_prefix(redis: &RedisBackend) -> Result<usize, Error> {
    let keys = scan(redis).await?;
    for chunk in keys.chunks(100) {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(chunk);
        let _: i64 = redis.command("test.del", cmd).await?;
    }
    Ok(keys.len())
}

async fn scan(redis: &RedisBackend) -> Result<Vec<String>, Error> {
    let pattern = format!("{}*", glob_escape(redis.prefix()));
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000);
        let (next, batch): (u64, Vec<String>) = redis.command("test.scan", cmd).await?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Calls per command since the server started or `CONFIG RESETSTAT`, from
/// `INFO commandstats` (e.g. `"evalsha" -> 12`). Each store operation is one command, so the
/// difference of two snapshots around some requests counts their round trips.
///
/// # Errors
///
/// [`Error`] when Redis fails.
pub async fn command_calls(redis: &RedisBackend) -> Result<BTreeMap<String, u64>, Error> {
    let mut cmd = redis::cmd("INFO");
    cmd.arg("commandstats");
    let info: String = redis.command("test.info", cmd).await?;
    Ok(parse_commandstats(&info).collect())
}

/// `(command, calls)` of each `cmdstat_` line of `INFO commandstats`.
fn parse_commandstats(info: &str) -> impl Iterator<Item = (String, u64)> + '_ {
    info.lines().filter_map(|line| {
        // cmdstat_evalsha:calls=3,usec=40,usec_per_call=13.33,...
        let rest = line.strip_prefix("cmdstat_")?;
        let (name, stats) = rest.split_once(':')?;
        let calls = stats
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Some((name.to_owned(), calls))
    })
}
