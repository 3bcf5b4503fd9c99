//! The library alone: protected calls of a no-op, for the in-memory store, the Redis store with
//! strict admission, and cached admission.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use breaker_redis::{Admission, Breaker, Config, MemoryStore, RedisStore, RedisStoreOptions};
use redis::aio::MultiplexedConnection;
use serde_json::{Value, json};

use crate::Plan;
use crate::limits::commands;
use crate::stats::{Latency, round};

/// The concurrencies measured, in tasks.
pub const CONCURRENCY: [usize; 3] = [1, 16, 256];

/// Where the breaker's state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Memory,
    Strict,
    Cached,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Memory, Mode::Strict, Mode::Cached];

    pub fn key(self) -> &'static str {
        match self {
            Mode::Memory => "memory",
            Mode::Strict => "strict",
            Mode::Cached => "cached",
        }
    }
}

/// A breaker for `mode`; its own name per mode so the modes never share a circuit.
pub async fn breaker(mode: Mode, redis_url: &str) -> anyhow::Result<Breaker> {
    let admission = match mode {
        Mode::Cached => Admission::cached(),
        Mode::Memory | Mode::Strict => Admission::Strict,
    };
    // A store timeout that a busy 2-core machine never reaches: the bench must measure the
    // shared path, never the degraded mode.
    let config = Config::builder()
        .store_timeout(Duration::from_secs(2))
        .admission(admission)
        .build()?;
    let builder = Breaker::builder(format!("bench-{}", mode.key())).config(config);
    let breaker = match mode {
        Mode::Memory => builder.store(MemoryStore::new()).build()?,
        Mode::Strict | Mode::Cached => {
            let options = RedisStoreOptions {
                response_timeout: Duration::from_secs(2),
                ..RedisStoreOptions::default()
            };
            let store = RedisStore::connect_with(redis_url, options).await?;
            let breaker = builder.store(store).build()?;
            breaker
                .reset()
                .await
                .context("resetting the bench breaker")?;
            breaker.listening().await;
            breaker
        }
    };
    Ok(breaker)
}

async fn noop() -> Result<(), Infallible> {
    Ok(())
}

/// One protected call: [`Breaker::call`] of the no-op (acquire, call, and the success
/// recorded in the background, where a strict breaker sends it with the next admission).
async fn protected_call(breaker: &Breaker) -> anyhow::Result<()> {
    if breaker.call(noop).await.is_err() {
        bail!("the closed circuit rejected a call");
    }
    Ok(())
}

/// Waits until every outcome recorded so far has reached the store: a breaker sends its
/// queued outcomes in order, before the admissions queued with them, so once an awaited
/// record of a later call is answered, every earlier one has been.
async fn drain(breaker: &Breaker) -> anyhow::Result<()> {
    tokio::task::yield_now().await;
    let Ok(permit) = breaker.acquire().await else {
        bail!("the closed circuit rejected a call");
    };
    permit.success().await;
    Ok(())
}

/// Calls per second with `tasks` tasks calling in a loop for `duration`; the clock stops when
/// the last background record has reached the store (see [`drain`]), so deferred work is
/// paid for.
async fn throughput(
    breaker: &Breaker,
    tasks: usize,
    duration: Duration,
) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let end = started + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let breaker = breaker.clone();
        set.spawn(async move {
            let mut calls = 0u64;
            while Instant::now() < end {
                protected_call(&breaker).await?;
                calls += 1;
                // A cached admission never waits, so without a yield these loops would starve
                // the batch sender and the Redis connection of their worker (then replies time
                // out and the breaker goes degraded), as a real caller's own I/O would not.
                // `yield_now` lets the I/O driver run before the task resumes.
                tokio::task::yield_now().await;
            }
            anyhow::Ok(calls)
        });
    }
    let mut calls = 0;
    while let Some(done) = set.join_next().await {
        calls += done??;
    }
    tokio::time::timeout(Duration::from_secs(30), drain(breaker))
        .await
        .context("background records did not drain within 30 s")??;
    Ok((calls, calls as f64 / started.elapsed().as_secs_f64()))
}

/// Sequential latencies of `breaker.call(noop)` (or of `noop` alone when `breaker` is `None`).
async fn latency(breaker: Option<&Breaker>, samples: usize) -> anyhow::Result<Latency> {
    let mut h = Latency::new();
    for _ in 0..samples {
        let started = Instant::now();
        match breaker {
            Some(b) => b.call(noop).await.context("the closed circuit rejected")?,
            None => noop().await?,
        }
        h.record(started.elapsed());
        tokio::task::yield_now().await;
    }
    Ok(h)
}

/// Sequential latencies of `acquire` followed by an awaited `record` (both round trips on the
/// caller) or, without `record`, by dropping the permit (which counts nothing when closed).
async fn acquire_record(
    breaker: &Breaker,
    samples: usize,
    record: bool,
) -> anyhow::Result<Latency> {
    let mut h = Latency::new();
    for _ in 0..samples {
        let started = Instant::now();
        let Ok(permit) = breaker.acquire().await else {
            bail!("the closed circuit rejected a call");
        };
        let _ = noop().await;
        if record {
            permit.success().await;
        }
        h.record(started.elapsed());
        tokio::task::yield_now().await;
    }
    Ok(h)
}

/// Strict calls per second at concurrency 1, for a comparison made side by side with a peer.
pub async fn strict_c1(redis_url: &str, duration: Duration) -> anyhow::Result<f64> {
    let breaker = breaker(Mode::Strict, redis_url).await?;
    throughput(&breaker, 1, duration / 4).await?;
    Ok(throughput(&breaker, 1, duration).await?.1)
}

/// Every figure of one mode.
pub async fn measure(
    mode: Mode,
    redis_url: &str,
    conn: &mut MultiplexedConnection,
    plan: &Plan,
) -> anyhow::Result<Value> {
    let breaker = breaker(mode, redis_url).await?;
    // Warm-up: connections, script cache, the cached view, the allocator.
    throughput(&breaker, 16, plan.warmup).await?;
    let unprotected = latency(None, plan.latency_samples).await?;
    // The round trip of this very moment, for a ratio that machine noise does not skew.
    let ping = crate::limits::ping_rtt(conn, plan.latency_samples / 2, false).await?;
    let protected = latency(Some(&breaker), plan.latency_samples).await?;
    let awaited = acquire_record(&breaker, plan.latency_samples / 2, true).await?;
    let acquire_only = acquire_record(&breaker, plan.latency_samples / 2, false).await?;

    // Let the last background records and batches land before counting commands.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = commands(conn).await?;
    let mut result = serde_json::Map::new();
    let mut calls = 0;
    // The memory store never talks to Redis; anything counted then is someone else's.
    let per = |n: u64, calls: u64| match mode {
        Mode::Memory => 0.0,
        Mode::Strict | Mode::Cached => n as f64 / calls.max(1) as f64,
    };
    for tasks in CONCURRENCY {
        let start = commands(conn).await?;
        let (made, per_s) = throughput(&breaker, tasks, plan.lib_duration).await?;
        let level = commands(conn).await? - start;
        calls += made;
        result.insert(format!("calls_per_s_c{tasks}"), json!(round(per_s, 0)));
        // Per concurrency: what one call costs Redis, and how many scripts it takes (below 1
        // when a round trip carries several calls' admissions and outcomes).
        result.insert(
            format!("redis_us_per_call_c{tasks}"),
            json!(round(per(level.usec, made), 3)),
        );
        result.insert(
            format!("scripts_per_call_c{tasks}"),
            json!(round(per(level.sent, made), 4)),
        );
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let used = commands(conn).await? - before;
    let per_call = |n: u64| per(n, calls);
    let added = |q: f64| (protected.us(q) - unprotected.us(q)).max(0.0);
    let figures = [
        ("added_us_p50", round(added(0.5), 2)),
        ("added_us_p99", round(added(0.99), 2)),
        ("acquire_us_p50", round(acquire_only.us(0.5), 2)),
        ("record_awaited_us_p50", round(awaited.us(0.5), 2)),
        ("redis_cmds_per_call", round(per_call(used.sent), 4)),
        (
            "redis_cmds_executed_per_call",
            round(per_call(used.executed), 3),
        ),
        ("redis_us_per_call", round(per_call(used.usec), 3)),
    ];
    for (key, value) in figures {
        result.insert(key.into(), json!(value));
    }
    if !matches!(mode, Mode::Memory) {
        result.insert("ping_us_p50".into(), json!(round(ping.us(0.5), 2)));
    }
    result.insert("degraded".into(), json!(breaker.is_degraded()));
    if breaker.is_degraded() {
        eprintln!(
            "bench: the {} breaker went degraded: its figures are not the shared path's",
            mode.key()
        );
    }
    Ok(Value::Object(result))
}
