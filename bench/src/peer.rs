//! The peer: pybreaker with its Redis storage (`bench/peers/pybreaker_bench.py`), run against
//! the same redis-server at concurrency 1.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Plan;
use crate::stats::{median, round};

/// The peer's script, in this crate's folder.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/pybreaker_bench.py");

/// `peers`: `{"pybreaker_redis": {..}}`, or `null` there and the reason in
/// `pybreaker_redis_error` (skipped, or it failed): a missing peer does not fail the run.
pub async fn section(python: &str, skip: Option<&str>, redis_url: &str, plan: &Plan) -> Value {
    let measured = match skip {
        Some(reason) => Err(anyhow::anyhow!("skipped: {reason}")),
        None => {
            eprintln!("bench: pybreaker with CircuitRedisStorage");
            measure(python, redis_url, plan).await
        }
    };
    match measured {
        Ok(v) => json!({ "pybreaker_redis": v }),
        Err(e) => {
            eprintln!("bench: pybreaker peer not measured: {e:#}");
            json!({ "pybreaker_redis": null, "pybreaker_redis_error": format!("{e:#}") })
        }
    }
}

/// The peer's figures and, measured in turns with it (so that machine noise hits both alike),
/// the strict breaker's calls per second at concurrency 1; or the reason the peer could not run.
async fn measure(python: &str, redis_url: &str, plan: &Plan) -> anyhow::Result<Value> {
    let (mut peer, mut strict) = (Vec::new(), Vec::new());
    let mut last = Value::Null;
    for _ in 0..plan.peer_rounds {
        last = run(python, redis_url, plan).await?;
        peer.push(last["calls_per_s_c1"].as_f64().unwrap_or(0.0));
        strict.push(crate::library::strict_c1(redis_url, plan.peer_duration).await?);
    }
    let (peer, strict) = (median(&peer), median(&strict));
    last["calls_per_s_c1"] = json!(round(peer, 0));
    last["strict_calls_per_s_c1"] = json!(round(strict, 0));
    last["rounds"] = json!(plan.peer_rounds);
    Ok(last)
}

/// One run of the peer's script.
async fn run(python: &str, redis_url: &str, plan: &Plan) -> anyhow::Result<Value> {
    let seconds = plan.peer_duration.as_secs_f64();
    let run = tokio::process::Command::new(python)
        .arg(SCRIPT)
        .args(["--url", redis_url, "--seconds", &seconds.to_string()])
        .kill_on_drop(true)
        .output();
    let bound = plan.peer_duration + Duration::from_secs(30);
    let output = tokio::time::timeout(bound, run)
        .await
        .context("the pybreaker bench overran its time bound")?
        .with_context(|| format!("running {python} {SCRIPT}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim();
        bail!("{python} {SCRIPT} failed ({}): {last}", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().context("the peer printed nothing")?;
    let raw: Value = serde_json::from_str(line).context("the peer's line is not JSON")?;
    let per_s = raw["calls_per_s"].as_f64().context("no calls_per_s")?;
    Ok(json!({
        "calls_per_s_c1": round(per_s, 0),
        "redis_cmds_per_call": raw["redis_cmds_per_call"].as_f64().map(|x| round(x, 3)),
        "pybreaker": raw["pybreaker"],
        "redis_py": raw["redis_py"],
    }))
}
