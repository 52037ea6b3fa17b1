//! A private Redis Cluster on loopback: six `redis-server` processes (three primaries, one
//! replica each) joined by `redis-cli --cluster create`, for tests of the cluster mode and of
//! fail-overs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{RedisServer, TestRedisError, free_port, missing, server_bin};

/// How long the cluster may take to reach `cluster_state:ok`.
const OK_WITHIN: Duration = Duration::from_secs(30);

/// `cluster-node-timeout` of the private cluster: a stopped primary is replaced by its replica
/// about this long (plus an election) after it stops answering.
pub const NODE_TIMEOUT: Duration = Duration::from_millis(1000);

/// A private six-node Redis Cluster (three primaries, three replicas) on 127.0.0.1. Every
/// process is killed and the working directory removed when it is dropped.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    cli: String,
    dir: PathBuf,
}

impl fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCluster")
            .field("ports", &self.ports())
            .finish_non_exhaustive()
    }
}

/// Starts a private cluster (`REDIS_SERVER_BIN`, `REDIS_CLI_BIN`, default `redis-server` and
/// `redis-cli` on the `PATH`) and waits until every node reports `cluster_state:ok`;
/// `Ok(None)` (skip, with the reason printed) when the binaries are missing, an error instead
/// under `CI=true`.
///
/// # Errors
///
/// [`TestRedisError::Missing`] under `CI=true` when a binary cannot be run;
/// [`TestRedisError::NotReady`] when a node does not start or the cluster does not form.
pub fn private_redis_cluster() -> Result<Option<RedisCluster>, TestRedisError> {
    let Some(bin) = server_bin()? else {
        return Ok(None);
    };
    let cli = std::env::var("REDIS_CLI_BIN").unwrap_or_else(|_| "redis-cli".to_owned());
    if let Err(e) = Command::new(&cli)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
    {
        return missing(format!("cannot run `{cli}`: {e}"));
    }
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "auth-redis-cluster-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| TestRedisError::NotReady(format!("creating {}: {e}", dir.display())))?;
    let mut cluster = RedisCluster {
        nodes: Vec::with_capacity(6),
        cli,
        dir,
    };
    for _ in 0..6 {
        let port = free_port().map_err(|e| TestRedisError::NotReady(e.to_string()))?;
        let mut node = RedisServer {
            bin: bin.clone(),
            port,
            dir: cluster.dir.clone(),
            args: vec![
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                "nodes-{port}.conf".into(),
                "--cluster-node-timeout".into(),
                NODE_TIMEOUT.as_millis().to_string(),
            ],
            child: None,
        };
        node.start()?;
        cluster.nodes.push(node);
    }
    let mut create = Command::new(&cluster.cli);
    create.arg("--cluster").arg("create");
    for port in cluster.ports() {
        create.arg(format!("127.0.0.1:{port}"));
    }
    let out = create
        .args(["--cluster-replicas", "1", "--cluster-yes"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TestRedisError::NotReady(format!("redis-cli --cluster create: {e}")))?;
    if !out.status.success() {
        return Err(TestRedisError::NotReady(format!(
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        )));
    }
    cluster.wait_until_ok(OK_WITHIN)?;
    Ok(Some(cluster))
}

impl RedisCluster {
    /// The ports of the nodes that run.
    #[must_use]
    pub fn ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(RedisServer::port)
            .collect()
    }

    /// `redis://127.0.0.1:<port>` of every running node: seeds for
    /// `RedisBackend::cluster_builder`.
    #[must_use]
    pub fn seeds(&self) -> Vec<String> {
        self.ports()
            .into_iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// Runs `redis-cli -p <port> <args>` and returns its output.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::NotReady`] when it cannot run or fails.
    pub fn cli(&self, port: u16, args: &[&str]) -> Result<String, TestRedisError> {
        let out = Command::new(&self.cli)
            .args(["-h", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| TestRedisError::NotReady(format!("redis-cli: {e}")))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(TestRedisError::NotReady(format!(
                "redis-cli -p {port} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// The ports of the primaries that are up, as a running node sees them.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::NotReady`] when no node answers.
    pub fn primaries(&self) -> Result<Vec<u16>, TestRedisError> {
        Ok(self
            .nodes_view()?
            .into_iter()
            .filter(|n| n.primary)
            .map(|n| n.port)
            .collect())
    }

    /// The port of the primary serving `key`'s hash slot.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::NotReady`] when no node answers or no primary serves the slot.
    pub fn primary_of(&self, key: &str) -> Result<u16, TestRedisError> {
        let port = self.any_port()?;
        let slot: u16 = self
            .cli(port, &["CLUSTER", "KEYSLOT", key])?
            .trim()
            .parse()
            .map_err(|e| TestRedisError::NotReady(format!("CLUSTER KEYSLOT: {e}")))?;
        self.nodes_view()?
            .into_iter()
            .find(|n| n.primary && n.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot)))
            .map(|n| n.port)
            .ok_or_else(|| TestRedisError::NotReady(format!("no primary serves slot {slot}")))
    }

    /// Kills the node on `port` (a crash: no fail-over is requested).
    pub fn stop_node(&mut self, port: u16) {
        for n in &mut self.nodes {
            if n.port() == port {
                n.stop();
            }
        }
    }

    /// Blocks until the writes acknowledged by the primary on `port` reached its replica
    /// (`WAIT 1`), at most 5 s; returns whether they did.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::NotReady`] when the primary does not answer.
    pub fn wait_for_replica(&self, port: u16) -> Result<bool, TestRedisError> {
        let acked = self.cli(port, &["WAIT", "1", "5000"])?;
        Ok(acked.trim() == "1")
    }

    /// Blocks (polling, bounded by `within`) until every running node reports
    /// `cluster_state:ok`.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::NotReady`] when that does not happen in time.
    pub fn wait_until_ok(&self, within: Duration) -> Result<(), TestRedisError> {
        let deadline = Instant::now() + within;
        loop {
            let ok = self.ports().into_iter().all(|p| {
                self.cli(p, &["CLUSTER", "INFO"])
                    .is_ok_and(|info| info.contains("cluster_state:ok"))
            });
            if ok {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestRedisError::NotReady(format!(
                    "cluster_state not ok within {within:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Calls per command summed over the primaries (from `INFO commandstats`), so the
    /// difference of two snapshots counts the round trips of what ran between them.
    ///
    /// # Errors
    ///
    /// [`TestRedisError::NotReady`] when a node does not answer.
    pub fn command_calls(&self) -> Result<BTreeMap<String, u64>, TestRedisError> {
        let mut out = BTreeMap::new();
        for port in self.primaries()? {
            let info = self.cli(port, &["INFO", "commandstats"])?;
            for (name, calls) in super::parse_commandstats(&info) {
                *out.entry(name).or_insert(0) += calls;
            }
        }
        Ok(out)
    }

    fn any_port(&self) -> Result<u16, TestRedisError> {
        self.ports()
            .first()
            .copied()
            .ok_or_else(|| TestRedisError::NotReady("no node runs".to_owned()))
    }

    /// `CLUSTER NODES` from the first running node that answers.
    fn nodes_view(&self) -> Result<Vec<NodeView>, TestRedisError> {
        let mut last = TestRedisError::NotReady("no node runs".to_owned());
        for port in self.ports() {
            match self.cli(port, &["CLUSTER", "NODES"]) {
                Ok(text) => return Ok(text.lines().filter_map(NodeView::parse).collect()),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One line of `CLUSTER NODES`:
/// `<id> <ip:port@cport> <flags> <primary> <ping> <pong> <epoch> <link> <slot>...`.
struct NodeView {
    port: u16,
    primary: bool,
    slots: Vec<(u16, u16)>,
}

impl NodeView {
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split_whitespace();
        let addr = fields.nth(1)?;
        let flags = fields.next()?;
        let port = addr.split('@').next()?.rsplit(':').next()?.parse().ok()?;
        // `fail?` (suspected by this node only) still serves; `fail` is agreed and replaced.
        let primary =
            flags.split(',').any(|f| f == "master") && !flags.split(',').any(|f| f == "fail");
        let slots = fields
            .skip(5)
            .filter(|s| !s.starts_with('['))
            .filter_map(|s| match s.split_once('-') {
                Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                None => s.parse().ok().map(|a| (a, a)),
            })
            .collect();
        Some(Self {
            port,
            primary,
            slots,
        })
    }
}
