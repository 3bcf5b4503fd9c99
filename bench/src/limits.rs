//! The physical limits every other figure is compared with: one PING round trip, and how many
//! trivial scripts one multiplexed connection gets through with many tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use redis::aio::MultiplexedConnection;

use crate::Plan;
use crate::stats::{Latency, round};

/// Tasks sharing the connection in the EVALSHA ceiling.
pub const CEILING_TASKS: usize = 256;

/// A multiplexed connection with timeouts long enough for a busy 2-core machine.
pub async fn connect(client: &redis::Client) -> anyhow::Result<MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new()
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_connection_timeout(Some(Duration::from_secs(5)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .context("connecting to the bench's redis-server")
}

/// Commands Redis has run, from `INFO commandstats` (`INFO` itself left out).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Commands {
    /// Commands clients sent: scripts (`EVALSHA`, ...) and connection commands. The breaker
    /// sends nothing but scripts, so this counts its round trips.
    pub sent: u64,
    /// Every command run, including those the scripts ran (`HGETALL`, `TIME`, ...).
    pub executed: u64,
    /// Microseconds Redis spent in the sent commands (a script's time includes its commands').
    pub usec: u64,
}

impl std::ops::Sub for Commands {
    type Output = Commands;
    fn sub(self, before: Commands) -> Commands {
        Commands {
            sent: self.sent.saturating_sub(before.sent),
            executed: self.executed.saturating_sub(before.executed),
            usec: self.usec.saturating_sub(before.usec),
        }
    }
}

/// Commands a script cannot run, so a client sent them.
fn sent_by_a_client(name: &str) -> bool {
    const TOP_LEVEL: &[&str] = &[
        "eval",
        "evalsha",
        "eval_ro",
        "evalsha_ro",
        "fcall",
        "fcall_ro",
        "subscribe",
        "psubscribe",
        "unsubscribe",
        "punsubscribe",
        "hello",
        "select",
        "auth",
        "multi",
        "exec",
        "ping",
    ];
    name.contains('|') || TOP_LEVEL.contains(&name)
}

/// The totals of `INFO commandstats` so far.
pub async fn commands(conn: &mut MultiplexedConnection) -> anyhow::Result<Commands> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await?;
    Ok(parse_commandstats(&info))
}

fn parse_commandstats(info: &str) -> Commands {
    let mut total = Commands::default();
    for line in info.lines() {
        let Some((name, fields)) = line
            .trim()
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        if name == "info" {
            continue;
        }
        let field = |key: &str| {
            fields
                .split(',')
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let (calls, usec) = (field("calls"), field("usec"));
        total.executed += calls;
        if sent_by_a_client(name) {
            total.sent += calls;
            total.usec += usec;
        }
    }
    total
}

/// `ping_rtt_us_p50`, `ping_rtt_us_p99`, `evalsha_rtt_us_p50`, `evalsha_ceiling_per_s` and
/// `evalsha_redis_us_per_call`.
pub async fn measure(
    conn: &mut MultiplexedConnection,
    plan: &Plan,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let ping = ping_rtt(conn, plan.ping_samples, false).await?;
    let evalsha = ping_rtt(conn, plan.ping_samples, true).await?;
    let before = commands(conn).await?;
    let ceiling = evalsha_ceiling(conn, plan.warmup, plan.ceiling_duration).await?;
    let used = commands(conn).await? - before;
    let redis_us = used.usec as f64 / used.sent.max(1) as f64;
    let figures = [
        ("ping_rtt_us_p50", round(ping.us(0.5), 1)),
        ("ping_rtt_us_p99", round(ping.us(0.99), 1)),
        ("evalsha_rtt_us_p50", round(evalsha.us(0.5), 1)),
        ("evalsha_ceiling_per_s", round(ceiling, 0)),
        ("evalsha_redis_us_per_call", round(redis_us, 2)),
    ];
    Ok(figures
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::json!(v)))
        .collect())
}

/// `samples` PINGs one after the other, or with `script` as many EVALSHAs of `return 1`.
pub async fn ping_rtt(
    conn: &MultiplexedConnection,
    samples: usize,
    script: bool,
) -> anyhow::Result<Latency> {
    let mut conn = conn.clone();
    let trivial = redis::Script::new("return 1");
    let mut latency = Latency::new();
    for i in 0..samples + samples / 10 {
        let started = Instant::now();
        if script {
            let _: i64 = trivial.invoke_async(&mut conn).await?;
        } else {
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        }
        // The first tenth warms the connection and the caches up.
        if i >= samples / 10 {
            latency.record(started.elapsed());
        }
    }
    Ok(latency)
}

/// EVALSHA calls per second of `return 1`, from [`CEILING_TASKS`] tasks on one connection.
pub async fn evalsha_ceiling(
    conn: &MultiplexedConnection,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<f64> {
    let script = Arc::new(redis::Script::new("return 1"));
    script.load_async(&mut conn.clone()).await?;
    let counted = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let (measure_from, end) = (started + warmup, started + warmup + duration);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CEILING_TASKS {
        let (mut conn, script, counted) = (conn.clone(), script.clone(), counted.clone());
        tasks.spawn(async move {
            loop {
                let _: i64 = script.invoke_async(&mut conn).await?;
                let now = Instant::now();
                if now >= end {
                    return anyhow::Ok(());
                }
                if now >= measure_from {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(counted.load(Ordering::Relaxed) as f64 / duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::parse_commandstats;

    #[test]
    fn commandstats_are_summed_without_info() {
        let info = "# Commandstats\r\n\
            cmdstat_evalsha:calls=10,usec=50,usec_per_call=5.0,rejected_calls=0,failed_calls=0\r\n\
            cmdstat_info:calls=3,usec=1\r\n\
            cmdstat_script|load:calls=1,usec=7\r\n\
            cmdstat_hgetall:calls=10,usec=9\r\n\
            cmdstat_publish:calls=2,usec=1\r\n";
        let c = parse_commandstats(info);
        assert_eq!((c.sent, c.executed, c.usec), (11, 23, 57));
    }
}
