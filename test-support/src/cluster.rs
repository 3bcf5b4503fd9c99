//! [`RedisCluster`]: three real cluster-mode `redis-server` processes with all slots assigned.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::child::ChildProcess;
use crate::process::require_redis_program;
use crate::server::RedisServer;

const CREATE_DEADLINE: Duration = Duration::from_secs(30);
const READY_DEADLINE: Duration = Duration::from_secs(20);
const MASTERS: usize = 3;

/// A three-master Redis Cluster (no replicas) on free ports, killed on drop.
///
/// Each node is a [`RedisServer`] in cluster mode, so the fault methods work per node through
/// [`nodes_mut`](Self::nodes_mut).
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three nodes, joins them with `redis-cli --cluster create`, and waits until every
    /// node reports `cluster_state:ok` with all 16384 slots assigned and all nodes known.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), passing extra `redis-server` arguments to every node, e.g.
    /// `&["--cluster-node-timeout", "2000"]`.
    pub fn start_with(args: &[&str]) -> anyhow::Result<Self> {
        let redis_cli = require_redis_program("redis-cli")?;
        let nodes = (0..MASTERS)
            .map(|_| {
                RedisServer::builder()
                    .cluster_enabled()
                    .args(args.iter().copied())
                    .start()
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let cluster = Self { nodes };
        let mut create = Command::new(redis_cli);
        create
            .args(["--cluster", "create"])
            .args(
                cluster
                    .nodes
                    .iter()
                    .map(|n| format!("127.0.0.1:{}", n.port())),
            )
            .args(["--cluster-replicas", "0", "--cluster-yes"]);
        // redis-cli polls once a second until the nodes agree, so this takes 1-5 s; bounded
        // because it would otherwise wait forever for nodes that never agree.
        let cli = ChildProcess::spawn(create, "redis-cli")?;
        let status = cli
            .wait_exit(CREATE_DEADLINE)
            .with_context(|| cluster.log_tails())?;
        if !status.success() {
            bail!(
                "redis-cli --cluster create failed ({status}):\n{}\n{}",
                cli.output(),
                cluster.log_tails()
            );
        }
        cluster.wait_ready()?;
        Ok(cluster)
    }

    fn wait_ready(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let not_ready: Vec<String> = self
                .nodes
                .iter()
                .filter_map(|node| match node_ready(node) {
                    Ok(true) => None,
                    Ok(false) => Some(format!("port {} not ready", node.port())),
                    Err(e) => Some(format!("port {}: {e:#}", node.port())),
                })
                .collect();
            if not_ready.is_empty() {
                return Ok(());
            }
            if started.elapsed() > READY_DEADLINE {
                bail!(
                    "cluster not ready within {READY_DEADLINE:?}: {}\n{}",
                    not_ready.join("; "),
                    self.log_tails()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The nodes' URLs, to pass to `redis::cluster::ClusterClient::new`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// The nodes, for faults such as [`RedisServer::kill`].
    pub fn nodes_mut(&mut self) -> &mut [RedisServer] {
        &mut self.nodes
    }

    /// A cluster client over all nodes.
    pub fn client(&self) -> redis::cluster::ClusterClient {
        redis::cluster::ClusterClient::new(self.urls())
            .expect("redis://127.0.0.1:PORT/ URLs are valid")
    }

    /// The log tails of all nodes, for failure messages.
    pub fn log_tails(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- node on port {}:\n{}", n.port(), n.log_tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether this node sees a healthy cluster with every slot assigned and every node known.
fn node_ready(node: &RedisServer) -> anyhow::Result<bool> {
    let mut con = node
        .client()
        .get_connection_with_timeout(Duration::from_millis(500))?;
    con.set_read_timeout(Some(Duration::from_millis(500)))?;
    let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut con)?;
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    Ok(field("cluster_state") == Some("ok")
        && field("cluster_slots_assigned") == Some("16384")
        && field("cluster_known_nodes") == Some(&MASTERS.to_string()))
}
