//! The physical limits every other figure is compared with: one PING round trip, how many
//! trivial scripts one multiplexed connection gets through with many tasks, and the floor of
//! any breaker that runs one script per call (what the least such script costs Redis here).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use redis::aio::MultiplexedConnection;

use crate::Plan;
use crate::stats::{Latency, round};

/// Tasks sharing the connection in the EVALSHA ceiling and the floor's 256-task figures.
pub const CEILING_TASKS: usize = 256;

/// The floor's function library: the least any script-per-call breaker runs. `read` is what
/// every call must do (the server's time, and the 11 fields a breaker reads, as `lib.lua`'s
/// load() reads them), `write` adds the least a call that counts an outcome writes, and `one`
/// is the cost of `FCALL` itself. Each returns a small table, as a breaker's reply is.
const FLOOR_LIBRARY: &str = r#"#!lua name=bench_floor
local function read(keys)
  local t = redis.call('TIME')
  local v = redis.call('HMGET', keys[1], 'updated_at', 'settings_at', 'state', 'forced',
    'generation', 'open_until', 'window_start', 'requests', 'failures',
    'consecutive_failures', 'half_open_successes')
  return t, v
end
redis.register_function('bench_floor_one', function() return 1 end)
redis.register_function('bench_floor_read', function(keys)
  local t, v = read(keys)
  return { t[1], v[3], v[8] }
end)
redis.register_function('bench_floor_write', function(keys)
  local t, v = read(keys)
  local n = (tonumber(v[8]) or 0) + 1
  redis.call('HSET', keys[1], 'updated_at', t[1] * 1000 + math.floor(t[2] / 1000),
    'requests', n)
  return { t[1], v[3], n }
end)
"#;

/// The hash the floor functions read and write, filled like a closed breaker's state.
const FLOOR_KEY: &str = "bench:{floor}";

/// The floor functions, by the name their summary keys carry (`floor_<name>_redis_us_c1`).
const FLOOR_FUNCTIONS: [(&str, &str); 3] = [
    ("one", "bench_floor_one"),
    ("read", "bench_floor_read"),
    ("write", "bench_floor_write"),
];

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
    /// `FCALL`s alone (the `fcall` line; `FCALL_RO` is another), whatever function they ran.
    pub fcalls: u64,
    /// Microseconds Redis spent in those `FCALL`s, their functions' commands included.
    pub fcall_usec: u64,
}

impl Commands {
    /// Microseconds of Redis CPU per `FCALL`; an error when none ran.
    pub fn fcall_us_per_call(&self) -> anyhow::Result<f64> {
        anyhow::ensure!(self.fcalls > 0, "INFO commandstats counted no FCALL");
        Ok(self.fcall_usec as f64 / self.fcalls as f64)
    }
}

impl std::ops::Sub for Commands {
    type Output = Commands;
    fn sub(self, before: Commands) -> Commands {
        Commands {
            sent: self.sent.saturating_sub(before.sent),
            executed: self.executed.saturating_sub(before.executed),
            usec: self.usec.saturating_sub(before.usec),
            fcalls: self.fcalls.saturating_sub(before.fcalls),
            fcall_usec: self.fcall_usec.saturating_sub(before.fcall_usec),
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
        if name == "fcall" {
            total.fcalls += calls;
            total.fcall_usec += usec;
        }
    }
    total
}

/// `ping_rtt_us_p50`, `ping_rtt_us_p99`, `evalsha_rtt_us_p50`, `evalsha_ceiling_per_s`,
/// `evalsha_redis_us_per_call`, and the floor's figures (see [`floor`]).
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
    let mut figures: serde_json::Map<_, _> = figures
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::json!(v)))
        .collect();
    // After the ceiling: its before and after count every sent command, FCALLs included.
    figures.extend(floor(conn, plan).await?);
    Ok(figures)
}

/// The floor of any circuit breaker that runs one script per call: Redis CPU per `FCALL`
/// (microseconds, from the `fcall` line of `INFO commandstats` before and after, so that the
/// totals other figures read stay whole) of each of [`FLOOR_FUNCTIONS`], each called with
/// [`FLOOR_KEY`] as its one key (`one` too, so the three differ only in what they run).
/// `floor_<name>_redis_us_c1`: `plan.floor_calls` calls one at a time from
/// one task, so Redis idles between calls as it does under a breaker at 1 task;
/// `floor_<name>_redis_us_c256`: [`CEILING_TASKS`] tasks on one connection, as in the EVALSHA
/// ceiling. A breaker's own figure at the same concurrency, less `read`'s (or `write`'s when
/// its call writes), is what its logic adds.
pub async fn floor(
    conn: &MultiplexedConnection,
    plan: &Plan,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let mut conn = conn.clone();
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("REPLACE")
        .arg(FLOOR_LIBRARY)
        .query_async(&mut conn)
        .await
        .context("loading the bench_floor function library")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("reading the clock")?
        .as_millis()
        .to_string();
    let state = [
        ("updated_at", now.as_str()),
        ("settings_at", &now),
        ("state", "closed"),
        ("forced", "none"),
        ("generation", &now),
        ("open_until", "0"),
        ("window_start", &now),
        ("requests", "0"),
        ("failures", "0"),
        ("consecutive_failures", "0"),
        ("half_open_successes", "0"),
    ];
    let _: () = redis::cmd("HSET")
        .arg(FLOOR_KEY)
        .arg(&state[..])
        .query_async(&mut conn)
        .await
        .with_context(|| format!("writing {FLOOR_KEY}"))?;
    let mut figures = serde_json::Map::new();
    for (name, function) in FLOOR_FUNCTIONS {
        let mut call = redis::cmd("FCALL");
        call.arg(function).arg(1).arg(FLOOR_KEY);
        // One at a time, after a tenth as many to warm the connection and the caches up.
        let warmup = plan.floor_calls / 10;
        let mut before = Commands::default();
        for i in 0..warmup + plan.floor_calls {
            if i == warmup {
                before = commands(&mut conn).await?;
            }
            let _: redis::Value = call
                .query_async(&mut conn)
                .await
                .with_context(|| format!("FCALL {function}"))?;
        }
        let c1 = (commands(&mut conn).await? - before).fcall_us_per_call()?;
        let before = commands(&mut conn).await?;
        ceiling(&conn, call, plan.warmup, plan.ceiling_duration)
            .await
            .with_context(|| format!("FCALL {function} from {CEILING_TASKS} tasks"))?;
        let c256 = (commands(&mut conn).await? - before).fcall_us_per_call()?;
        for (tasks, us) in [(1, c1), (CEILING_TASKS, c256)] {
            let key = format!("floor_{name}_redis_us_c{tasks}");
            figures.insert(key, serde_json::json!(round(us, 2)));
        }
    }
    Ok(figures)
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
    let script = redis::Script::new("return 1");
    script.load_async(&mut conn.clone()).await?;
    let mut call = redis::cmd("EVALSHA");
    call.arg(script.get_hash()).arg(0);
    ceiling(conn, call, warmup, duration).await
}

/// Calls per second of `call` (counted for `duration` after `warmup`), from [`CEILING_TASKS`]
/// tasks sending it one after the other on one connection.
async fn ceiling(
    conn: &MultiplexedConnection,
    call: redis::Cmd,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<f64> {
    let call = Arc::new(call);
    let counted = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let (measure_from, end) = (started + warmup, started + warmup + duration);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CEILING_TASKS {
        let (mut conn, call, counted) = (conn.clone(), call.clone(), counted.clone());
        tasks.spawn(async move {
            loop {
                let _: redis::Value = call.query_async(&mut conn).await?;
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
    use super::{Commands, parse_commandstats};

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
        assert_eq!((c.fcalls, c.fcall_usec), (0, 0));
    }

    #[test]
    fn fcalls_are_counted_apart_from_fcall_ro_and_per_call_times() {
        let before = parse_commandstats(
            "cmdstat_fcall:calls=4,usec=40,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n\
             cmdstat_fcall_ro:calls=100,usec=900\r\n\
             cmdstat_hmget:calls=4,usec=8\r\n",
        );
        let after = parse_commandstats(
            "cmdstat_fcall:calls=14,usec=160,usec_per_call=11.43,rejected_calls=0,failed_calls=0\r\n\
             cmdstat_fcall_ro:calls=500,usec=4500\r\n\
             cmdstat_hmget:calls=14,usec=28\r\n",
        );
        let used = after - before;
        assert_eq!((used.fcalls, used.fcall_usec), (10, 120));
        assert_eq!(used.sent, 410);
        assert_eq!(used.fcall_us_per_call().ok(), Some(12.0));
        assert!(Commands::default().fcall_us_per_call().is_err());
    }
}
