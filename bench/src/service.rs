//! Service A end to end: the real binaries on loopback, B answering instantly, A with no
//! breaker, an in-process breaker, the shared breaker (strict) and the shared breaker with
//! cached admission, loaded in turns by the load generator.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use test_support::{ChildProcess, cargo_bin};

use crate::Plan;
use crate::loadgen::{self, Load};
use crate::stats::{Latency, median, round};

/// The variants, by their key in `summary.json`, and what sets each up.
const VARIANTS: [(&str, &[(&str, &str)]); 4] = [
    ("none", &[("BREAKER_BACKEND", "none")]),
    ("local", &[("BREAKER_BACKEND", "memory")]),
    (
        "shared",
        &[
            ("BREAKER_BACKEND", "redis"),
            ("BREAKER__KEY_PREFIX", "bench-shared"),
        ],
    ),
    (
        "shared_cached",
        &[
            ("BREAKER_BACKEND", "redis"),
            ("BREAKER__ADMISSION", "cached"),
            ("BREAKER__KEY_PREFIX", "bench-cached"),
        ],
    ),
];

/// How long a binary may take to start.
const START: Duration = Duration::from_secs(30);

/// A service binary and the address it listens on.
struct Running {
    process: ChildProcess,
    addr: SocketAddr,
}

fn start(program: &str, name: &str, env: &[(&str, &str)]) -> anyhow::Result<Running> {
    let mut cmd = Command::new(cargo_bin(program));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs([
            ("PORT", "0"),
            ("BIND_ADDR", "127.0.0.1"),
            ("RUST_LOG", "warn,service_kit=info"),
            ("INSTANCE_ID", name),
        ])
        .envs(env.iter().copied());
    let process = ChildProcess::spawn(cmd, name)?;
    let line = process.wait_for_line("listening on ", START)?;
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .with_context(|| format!("no address in {line:?}"))?;
    Ok(Running { process, addr })
}

/// Sum of `breaker_store_errors_total` in a Prometheus page.
fn store_errors(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("breaker_store_errors_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |a, b| a + b)
}

/// Every variant's requests/s (median of the rounds) and latency percentiles (all rounds).
pub async fn measure(redis_url: &str, plan: &Plan) -> anyhow::Result<Value> {
    let b = start("service-b", "service-b", &[("FAIL_EVERY", "0")])?;
    let b_url = format!("http://{}", b.addr);
    let mut services = Vec::new();
    for (key, env) in VARIANTS {
        let mut env = env.to_vec();
        env.extend([("SERVICE_B_URL", b_url.as_str()), ("REDIS_URL", redis_url)]);
        services.push((key, start("service-a", &format!("service-a-{key}"), &env)?));
    }
    let mut rps: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut totals: BTreeMap<&str, Load> = BTreeMap::new();
    for round in 0..plan.service_rounds {
        // Each round starts with another variant, so none is always first on a warming machine.
        let order = (0..services.len()).map(|i| &services[(i + round) % services.len()]);
        for (key, a) in order {
            if !a.process.is_running() || !b.process.is_running() {
                let output = format!("{}\n{}", a.process.output(), b.process.output());
                anyhow::bail!("a service exited during the bench:\n{output}");
            }
            let load = loadgen::run(
                a.addr,
                "/call-service-b",
                plan.connections,
                plan.service_warmup,
                plan.service_duration,
            )
            .await
            .with_context(|| format!("loading service-a ({key}), round {round}"))?;
            eprintln!(
                "bench:   service-a {key:<13} round {}: {:>8.0} req/s",
                round + 1,
                load.rps
            );
            rps.entry(key).or_default().push(load.rps);
            let total = totals.entry(key).or_default();
            total.requests += load.requests;
            total.non_2xx += load.non_2xx;
            total.errors += load.errors;
            total.latency.merge(&load.latency);
        }
    }
    let mut result = serde_json::Map::new();
    result.insert("connections".into(), json!(plan.connections));
    result.insert("rounds".into(), json!(plan.service_rounds));
    let secs = plan.service_duration.as_secs_f64();
    result.insert("seconds_per_round".into(), json!(secs));
    for (key, a) in &services {
        let metrics = loadgen::fetch(a.addr, "/metrics").await.unwrap_or_default();
        let total = totals.remove(key).unwrap_or_default();
        let latency: &Latency = &total.latency;
        let figures = json!({
            "rps": round(median(&rps.remove(key).unwrap_or_default()), 0),
            "p50_ms": round(latency.ms(0.5), 3),
            "p99_ms": round(latency.ms(0.99), 3),
            "requests": total.requests,
            "non_2xx": total.non_2xx,
            "errors": total.errors,
            "store_errors": store_errors(&metrics),
        });
        result.insert((*key).to_owned(), figures);
    }
    drop(services);
    drop(b);
    Ok(Value::Object(result))
}
