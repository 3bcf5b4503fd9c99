//! `RedisCluster` against three real cluster-mode redis-server processes.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use redis::{AsyncCommands, Commands};
use test_support::{RedisCluster, process_exists};

const KEYS: [&str; 12] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];

fn dbsize(con: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).expect("DBSIZE")
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_in_different_slots_spread_over_the_nodes() {
    let started = Instant::now();
    let cluster = RedisCluster::start().expect("start cluster");
    eprintln!("cluster up in {:?}", started.elapsed());
    assert_eq!(cluster.urls().len(), 3);

    let mut node = cluster.nodes()[0].client().get_connection().expect("node");
    let slots: HashSet<i64> = KEYS
        .iter()
        .map(|key| {
            redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(key)
                .query(&mut node)
        })
        .collect::<Result<_, _>>()
        .expect("CLUSTER KEYSLOT");
    let mut con = cluster
        .client()
        .get_connection()
        .expect("cluster connection");
    for key in KEYS {
        let () = con.set(key, format!("value-{key}")).expect("SET");
    }
    assert!(slots.len() > 1, "test keys all hash to one slot");
    for key in KEYS {
        let value: String = con.get(key).expect("GET");
        assert_eq!(value, format!("value-{key}"));
    }

    // The keys really live on different nodes.
    let sizes: Vec<i64> = cluster
        .nodes()
        .iter()
        .map(|node| dbsize(&mut node.client().get_connection().expect("node connection")))
        .collect();
    assert_eq!(sizes.iter().sum::<i64>(), KEYS.len() as i64, "{sizes:?}");
    assert!(sizes.iter().filter(|&&n| n > 0).count() >= 2, "{sizes:?}");

    // The async cluster client, which the workspace uses, sees the same data.
    let mut con = cluster
        .client()
        .get_async_connection()
        .await
        .expect("async cluster connection");
    for key in KEYS {
        let value: String = con.get(key).await.expect("async GET");
        assert_eq!(value, format!("value-{key}"));
    }

    let pids: Vec<u32> = cluster.nodes().iter().map(|n| n.pid()).collect();
    drop(cluster);
    for pid in pids {
        assert!(!process_exists(pid), "node {pid} survived the drop");
    }
}

#[test]
fn nodes_use_explicit_cluster_bus_ports() {
    let cluster = RedisCluster::start_with(&["--cluster-node-timeout", "2000"]).expect("start");
    for node in cluster.nodes() {
        let bus = node.cluster_port().expect("cluster mode has a bus port");
        assert_ne!(u32::from(bus), u32::from(node.port()) + 10000);
        let mut con = node.client().get_connection().expect("connect");
        con.set_read_timeout(Some(Duration::from_secs(1)))
            .expect("timeout");
        let config: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("cluster-node-timeout")
            .query(&mut con)
            .expect("CONFIG GET");
        assert_eq!(config[1], "2000");
    }
}
