//! The sequence: check, start in dependency order, wait for a signal or a crash, stop.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};

use crate::binaries::{self, Binaries};
use crate::child::{Exit, Spec};
use crate::cli::{Cli, Plan, RedisPlan, replica_name};
use crate::fleet::Fleet;
use crate::out::{print_block, say};
use crate::readiness::Check;
use crate::signals::Signals;
use crate::{instructions, preflight};

/// Why the demo stops.
#[derive(Debug)]
enum Stop {
    /// The user asked: exit 0.
    Signal(&'static str),
    /// A process died after start-up.
    Exited(Exit),
    /// Start-up failed.
    Failed(anyhow::Error),
}

/// Runs the demo until a signal (exit 0) or a failure (an error, after stopping everything).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let plan = cli.into_plan()?;
    let (bins, redis_server) = prepare(&plan).await?;
    let redis_dir = tempfile::Builder::new()
        .prefix("demo-redis-")
        .tempdir()
        .context("creating a temporary directory for Redis")?;
    let redis = redis_server.map(|program| (program, redis_dir.path()));

    let mut signals = Signals::install()?;
    let mut fleet = Fleet::new();
    let stop = supervise(&mut fleet, &mut signals, &plan, &bins, redis).await;
    let result = outcome(stop, &mut fleet).await;
    fleet.stop_all(plan.stop_timeout).await;
    say("all stopped");
    drop(redis_dir);
    result
}

/// Everything that can fail before a process starts; returns the binaries and, for a private
/// Redis, the `redis-server` to run.
async fn prepare(plan: &Plan) -> anyhow::Result<(Binaries, Option<PathBuf>)> {
    preflight::ensure_ports_free(plan)?;
    let redis_server = match &plan.redis {
        RedisPlan::Private { .. } => Some(preflight::find_redis_server()?),
        RedisPlan::External { .. } => None,
    };
    preflight::ensure_external_redis(plan).await?;
    let bins = binaries::prepare(&plan.bin_dir).await?;
    // A build can take minutes: check again rather than start half the demo.
    preflight::ensure_ports_free(plan)?;
    Ok((bins, redis_server))
}

/// Starts everything, prints what to try, and returns at the first reason to stop.
async fn supervise(
    fleet: &mut Fleet,
    signals: &mut Signals,
    plan: &Plan,
    bins: &Binaries,
    redis: Option<(PathBuf, &Path)>,
) -> Stop {
    let failed = tokio::select! {
        started = start_all(fleet, plan, bins, redis) => started.err().map(Stop::Failed),
        signal = signals.recv() => Some(Stop::Signal(signal)),
    };
    if let Some(stop) = failed {
        return stop;
    }
    say(format!("ready: {}", summary(plan)));
    print_block(&instructions::render(plan));
    tokio::select! {
        signal = signals.recv() => Stop::Signal(signal),
        exit = fleet.next_exit() => Stop::Exited(exit),
    }
}

/// Says why the demo stops; the exit code, or the error `main` prints last.
async fn outcome(stop: Stop, fleet: &mut Fleet) -> anyhow::Result<ExitCode> {
    match stop {
        Stop::Signal(signal) => {
            say(format!("{signal} received: stopping everything"));
            Ok(ExitCode::SUCCESS)
        }
        Stop::Exited(exit) => {
            say(format!(
                "{} exited unexpectedly: stopping the others",
                exit.name
            ));
            Err(anyhow!(fleet.describe_exit(&exit).await))
        }
        Stop::Failed(e) => {
            say("start-up failed: stopping what was started");
            Err(e)
        }
    }
}

async fn start_all(
    fleet: &mut Fleet,
    plan: &Plan,
    bins: &Binaries,
    redis: Option<(PathBuf, &Path)>,
) -> anyhow::Result<()> {
    if let (Some((program, dir)), RedisPlan::Private { port }) = (redis, &plan.redis) {
        let spec = redis_spec(program, *port, dir);
        let url = plan.redis_url();
        start(fleet, plan, spec, |pid| Check::Redis { url, pid }).await?;
    }
    let b = service_b_spec(plan, bins);
    let health = format!("{}/health", plan.base_url(b.port));
    start(fleet, plan, b, |_| Check::Http { url: health }).await?;
    for (index, &port) in plan.service_a_ports.iter().enumerate() {
        let a = service_a_spec(plan, bins, index, port);
        let health = format!("{}/health", plan.base_url(port));
        start(fleet, plan, a, |_| Check::Http { url: health }).await?;
    }
    Ok(())
}

/// Starts one process and waits until it is ready, failing if it (or any process started
/// before it) exits meanwhile.
async fn start(
    fleet: &mut Fleet,
    plan: &Plan,
    spec: Spec,
    check: impl FnOnce(u32) -> Check,
) -> anyhow::Result<()> {
    let name = spec.name.clone();
    let check = check(fleet.spawn(spec)?);
    let ready = tokio::select! {
        ready = check.wait(plan.startup_timeout) => ready,
        exit = fleet.next_exit() => return Err(anyhow!(fleet.describe_exit(&exit).await)),
    };
    match ready {
        Ok(took) => {
            say(format!("{name} is ready (after {} ms)", took.as_millis()));
            Ok(())
        }
        Err(e) => Err(anyhow!(
            "{name} is not ready: {e:#}; its last output lines:\n{}",
            fleet.last_lines(&name)
        )),
    }
}

fn redis_spec(program: PathBuf, port: u16, dir: &Path) -> Spec {
    let args = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        // A demo circuit is throwaway state: nothing is written to disk.
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &dir.to_string_lossy(),
        "--daemonize",
        "no",
        "--logfile",
        "",
    ];
    Spec {
        name: "redis".to_owned(),
        port,
        program,
        args: args.into_iter().map(str::to_owned).collect(),
        env: Vec::new(),
    }
}

fn service_b_spec(plan: &Plan, bins: &Binaries) -> Spec {
    Spec {
        name: "service-b".to_owned(),
        port: plan.service_b_port,
        program: bins.service_b.clone(),
        args: Vec::new(),
        env: server_env(plan, "service-b", plan.service_b_port),
    }
}

fn service_a_spec(plan: &Plan, bins: &Binaries, index: usize, port: u16) -> Spec {
    let name = replica_name(index);
    let mut env = server_env(plan, &name, port);
    env.push(("REDIS_URL".to_owned(), plan.redis_url()));
    env.push((
        "SERVICE_B_URL".to_owned(),
        plan.base_url(plan.service_b_port),
    ));
    if let Some(token) = &plan.admin_token {
        env.push(("ADMIN_TOKEN".to_owned(), token.clone()));
    }
    Spec {
        name,
        port,
        program: bins.service_a.clone(),
        args: Vec::new(),
        env,
    }
}

/// The variables every service reads; `RUST_LOG`, `LOG_FORMAT` and the rest of the demo's
/// environment pass through unchanged.
fn server_env(plan: &Plan, instance: &str, port: u16) -> Vec<(String, String)> {
    vec![
        ("PORT".to_owned(), port.to_string()),
        ("BIND_ADDR".to_owned(), plan.bind_addr.to_string()),
        ("INSTANCE_ID".to_owned(), instance.to_owned()),
    ]
}

fn summary(plan: &Plan) -> String {
    let mut parts: Vec<String> = plan
        .ports()
        .into_iter()
        .map(|(name, port)| format!("{name} on port {port}"))
        .collect();
    if let RedisPlan::External { .. } = plan.redis {
        parts.insert(0, "Redis from --redis-url".to_owned());
    }
    parts.join(", ")
}
