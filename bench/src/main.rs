//! `bench`: measures, side by side in one run on this machine, what the shared circuit breaker
//! costs, and writes `target/bench/summary.json` plus the same figures as Markdown tables.
//! Run it through `scripts/bench` (which builds in release mode and installs the peer);
//! `docs/benchmarks.md` explains every figure.
//!
//! # Layout
//!
//! - `limits`: Redis PING round trip, the EVALSHA ceiling and the floor of a script-per-call
//!   breaker; `INFO commandstats` totals.
//! - `library`: the breaker alone, memory / strict / cached, at 1, 16 and 256 tasks.
//! - `service`: the real service binaries under `loadgen`, the HTTP load generator.
//! - `peer`: pybreaker with its Redis storage, through `peers/pybreaker_bench.py`.
//! - `convergence`: one replica trips, how long until another rejects.
//! - `targets`: the goals, checked; `report`: the Markdown tables.
//! - `machine`: what it ran on; `stats`: histograms and medians.

mod convergence;
mod library;
mod limits;
mod loadgen;
mod machine;
mod peer;
mod report;
mod service;
mod stats;
mod targets;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use test_support::RedisServer;

/// Command-line arguments.
#[derive(Parser)]
#[command(about = "Side-by-side benchmarks of the Redis-backed circuit breaker")]
struct Args {
    /// Shorter runs (about a minute in all).
    #[arg(long)]
    quick: bool,
    /// Where to write the summary (the Markdown goes next to it as `.md`).
    #[arg(long, default_value = "target/bench/summary.json")]
    out: PathBuf,
    /// Concurrent keep-alive connections of the HTTP load generator.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// The Python that has pybreaker and redis-py.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Records the peer as null with this reason instead of running it (e.g. pip failed).
    #[arg(long)]
    skip_peer: Option<String>,
    /// Runs only these sections (comma-separated); default: all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Section>,
    /// The library section measures only these modes (comma-separated); default: all.
    #[arg(long, value_delimiter = ',')]
    modes: Vec<library::Mode>,
}

/// The parts of a run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Limits,
    Lib,
    Service,
    Peer,
    Convergence,
}

/// Durations and sample counts of a run.
pub struct Plan {
    warmup: Duration,
    lib_duration: Duration,
    latency_samples: usize,
    ping_samples: usize,
    ceiling_duration: Duration,
    /// One-at-a-time `FCALL`s per floor function (see `limits::floor`).
    floor_calls: usize,
    connections: usize,
    service_warmup: Duration,
    service_duration: Duration,
    service_rounds: usize,
    peer_duration: Duration,
    peer_rounds: usize,
    convergence_trials: usize,
}

impl Plan {
    fn new(quick: bool, connections: usize) -> Self {
        let f = !quick;
        let pick = |q: f64, full: f64| Duration::from_secs_f64(if quick { q } else { full });
        Plan {
            warmup: pick(0.2, 0.5),
            lib_duration: pick(1.0, 3.0),
            latency_samples: if f { 20_000 } else { 4_000 },
            ping_samples: if f { 10_000 } else { 2_000 },
            ceiling_duration: pick(1.0, 3.0),
            floor_calls: if f { 5_000 } else { 2_000 },
            connections,
            service_warmup: pick(0.5, 1.0),
            service_duration: pick(2.0, 3.0),
            service_rounds: if f { 5 } else { 2 },
            peer_duration: pick(2.0, 3.0),
            peer_rounds: if f { 3 } else { 1 },
            convergence_trials: if f { 200 } else { 40 },
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logs();
    let plan = Plan::new(args.quick, args.connections);
    let wanted = |s: Section| args.only.is_empty() || args.only.contains(&s);
    let started = Instant::now();
    let server = RedisServer::start().context("starting redis-server")?;
    let url = server.url();
    let mut conn = limits::connect(&server.client()).await?;
    let mut s = json!({
        "quick": args.quick,
        "machine": machine::describe(),
        "peers": {},
    });
    let mut errors = Vec::new();
    let mut section = |name: &str, result: anyhow::Result<()>| {
        if let Err(e) = result {
            eprintln!("bench: {name} failed: {e:#}");
            errors.push(json!({"section": name, "error": format!("{e:#}")}));
        }
    };

    if wanted(Section::Limits) {
        eprintln!("bench: Redis PING round trip, EVALSHA ceiling and script-per-call floor");
        let r = limits::measure(&mut conn, &plan).await;
        let merge = |figures: serde_json::Map<String, Value>| {
            figures.into_iter().for_each(|(k, v)| s[k.as_str()] = v)
        };
        section("limits", r.map(merge));
    }
    if wanted(Section::Lib) {
        let all = library::Mode::ALL.iter().copied();
        for mode in all.filter(|m| args.modes.is_empty() || args.modes.contains(m)) {
            eprintln!("bench: library, {}", mode.key());
            let r = library::measure(mode, &url, &mut conn, &plan).await;
            section(mode.key(), r.map(|v| s["lib"][mode.key()] = v));
        }
    }
    if wanted(Section::Service) {
        eprintln!(
            "bench: service-a end to end ({} connections)",
            plan.connections
        );
        let r = service::measure(&url, &plan).await;
        section("service_a", r.map(|v| s["service_a"] = v));
    }
    if wanted(Section::Peer) {
        s["peers"] = peer::section(&args.python, args.skip_peer.as_deref(), &url, &plan).await;
    }
    if wanted(Section::Convergence) {
        eprintln!(
            "bench: convergence ({} trials per observer)",
            plan.convergence_trials
        );
        let r = convergence::measure(&url, plan.convergence_trials).await;
        section(
            "convergence",
            r.map(|(cached, strict, background)| {
                s["convergence_ms"] = cached;
                s["convergence_strict_ms"] = strict;
                s["convergence_background_ms"] = background;
            }),
        );
    }
    s["targets"] = targets::evaluate(&s);
    s["errors"] = json!(errors);
    s["elapsed_s"] = json!(stats::round(started.elapsed().as_secs_f64(), 1));
    write(&args.out, &s)?;
    if !errors.is_empty() {
        anyhow::bail!(
            "{} section(s) failed; see {}",
            errors.len(),
            args.out.display()
        );
    }
    Ok(())
}

/// The library's warnings (a degraded breaker, a repaired key) belong in the bench's output;
/// `RUST_LOG` can ask for more.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Writes the JSON and the Markdown next to it, and prints the Markdown.
fn write(out: &PathBuf, s: &Value) -> anyhow::Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(s)?;
    std::fs::write(out, text + "\n").with_context(|| format!("writing {}", out.display()))?;
    let markdown = report::markdown(s);
    std::fs::write(out.with_extension("md"), &markdown)?;
    println!("{markdown}");
    eprintln!("bench: wrote {} in {} s", out.display(), s["elapsed_s"]);
    Ok(())
}
