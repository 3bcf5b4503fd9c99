//! What the breaker-redis tests share: a store of each kind behind one `Env`, and helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod metrics;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use breaker_redis::{
    Breaker, Clock, Config, ManualClock, MemoryStore, RedisStore, RedisStoreOptions, Store,
};
use redis::aio::MultiplexedConnection;
use test_support::{RedisCluster, RedisServer};

/// A fixed start for manual clocks (2023-11-14), far from zero so windows behave as in life.
pub const T0: u64 = 1_700_000_000_000;

static NEXT: AtomicU64 = AtomicU64::new(0);

/// One store and one manual clock; breakers made here share both, as replicas share Redis.
#[derive(Clone)]
pub struct Env {
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
}

impl Env {
    pub fn memory() -> Env {
        Env {
            store: Arc::new(MemoryStore::new()),
            clock: ManualClock::new(T0),
        }
    }

    pub async fn redis(server: &RedisServer) -> Env {
        Env {
            store: Arc::new(redis_store(&server.url()).await),
            clock: ManualClock::new(T0),
        }
    }

    pub async fn cluster(cluster: &RedisCluster) -> Env {
        let store = RedisStore::connect_cluster(&cluster.urls(), options())
            .await
            .expect("cluster store");
        Env {
            store: Arc::new(store),
            clock: ManualClock::new(T0),
        }
    }

    /// The same store with a new clock reading [`T0`].
    pub fn with_fresh_clock(&self) -> Env {
        Env {
            store: self.store.clone(),
            clock: ManualClock::new(T0),
        }
    }

    /// A name no other test in this process uses (the cluster test runs every case on one cluster).
    pub fn name(&self, base: &str) -> String {
        format!("{base}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
    }

    pub fn breaker(&self, name: &str, config: Config) -> Breaker {
        Breaker::builder(name)
            .config(config)
            .shared_store(self.store.clone())
            .clock(Clock::Manual(self.clock.clone()))
            .build()
            .expect("valid breaker")
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// Generous timeouts: these tests check behaviour, not speed, on a loaded 2-core machine.
pub fn options() -> RedisStoreOptions {
    RedisStoreOptions {
        response_timeout: Duration::from_secs(2),
        connection_timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

pub async fn redis_store(url: &str) -> RedisStore {
    RedisStore::connect_with(url, options())
        .await
        .expect("redis store")
}

/// A Redis store to drive with raw operations (`store.acquire(&spec, ..)`, needing the `testing`
/// feature for `Spec`): the trait declaring them is private to the crate, so they are called
/// through `dyn Store`, which carries them.
pub async fn raw_redis_store(url: &str) -> Arc<dyn Store> {
    Arc::new(redis_store(url).await)
}

/// A config with a generous store timeout, for tests that do not exercise Redis failures.
pub fn config() -> breaker_redis::ConfigBuilder {
    Config::builder().store_timeout(Duration::from_secs(2))
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Records `n` outcomes through full acquire/record cycles; panics if one is rejected.
pub async fn run(b: &Breaker, outcomes: &str) {
    for c in outcomes.chars() {
        let permit = b
            .acquire()
            .await
            .unwrap_or_else(|e| panic!("rejected before {c}: {e}"));
        match c {
            'S' => permit.success().await,
            'F' => permit.failure().await,
            other => panic!("unknown outcome {other}"),
        }
    }
}

/// Sends one raw command (`["HSET", key, field, value]`) on `con`.
pub async fn cli<T: redis::FromRedisValue>(con: &mut MultiplexedConnection, words: &[&str]) -> T {
    let mut cmd = redis::cmd(words[0]);
    for w in &words[1..] {
        cmd.arg(*w);
    }
    cmd.query_async(con).await.unwrap()
}

/// Sends one raw command to `server` on a connection of its own.
pub async fn command<T: redis::FromRedisValue>(server: &RedisServer, words: &[&str]) -> T {
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    cli(&mut con, words).await
}

/// How many times Redis ran `command` (`INFO commandstats`; `command` in lower case, e.g.
/// `"fcall"`), 0 if never.
pub async fn command_calls(con: &mut MultiplexedConnection, command: &str) -> u64 {
    let info: String = cli(con, &["INFO", "commandstats"]).await;
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix)?.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

/// `n` breakers named `name` on the Redis at `url`, each with a connection of its own as a
/// replica in another process has, and replica ids `replica-0`, `replica-1`...
pub async fn replicas(
    url: &str,
    name: &str,
    cfg: &Config,
    clock: &Clock,
    n: usize,
) -> Vec<Breaker> {
    let mut out = Vec::new();
    for i in 0..n {
        let b = Breaker::builder(name)
            .config(cfg.clone())
            .store(redis_store(url).await)
            .clock(clock.clone())
            .replica_id(format!("replica-{i}"))
            .build()
            .unwrap();
        out.push(b);
    }
    out
}
