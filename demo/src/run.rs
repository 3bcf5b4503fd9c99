//! The sequence: check, start in dependency order, keep everything running until a signal,
//! stop.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use tokio::time::Instant;

use crate::binaries::{self, Binaries};
use crate::child::Spec;
use crate::cli::Cli;
use crate::fleet::Fleet;
use crate::out::{print_block, say};
use crate::plan::{Plan, RedisPlan, Service};
use crate::preflight;
use crate::readiness::Check;
use crate::signals::Signals;

/// Why the demo stops.
#[derive(Debug)]
enum Stop {
    /// The user asked: exit 0.
    Signal(&'static str),
    /// Start-up failed.
    Failed(anyhow::Error),
}

/// Runs the demo until a signal (exit 0) or a failed start (an error, after stopping
/// everything).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let plan = cli.into_plan()?;
    let (bins, redis_server) = prepare(&plan).await?;
    let redis_dir = tempfile::Builder::new()
        .prefix("demo-redis-")
        .tempdir()
        .context("creating a temporary directory for Redis")?;
    let redis = redis_server.map(|program| (program, redis_dir.path()));

    let mut signals = Signals::install()?;
    let mut fleet = Fleet::new().with_restart_limit(plan.max_restarts_per_minute);
    let scratch = redis_dir.path().to_path_buf();
    let stop = supervise(&mut fleet, &mut signals, &plan, &bins, redis, &scratch).await;
    let result = match stop {
        Stop::Signal(signal) => {
            say(format!("{signal} received: stopping everything"));
            Ok(ExitCode::SUCCESS)
        }
        Stop::Failed(e) => {
            say("start-up failed: stopping what was started");
            Err(e)
        }
    };
    fleet.stop_all(plan.stop_timeout).await;
    say("all stopped");
    drop(redis_dir);
    result
}

/// Everything that can fail before a process starts; returns the binaries and, for a private
/// Redis, the `redis-server` to run.
async fn prepare(plan: &Plan) -> anyhow::Result<(Binaries, Option<PathBuf>)> {
    preflight::ensure_ports_free(plan)?;
    let redis_server = match &plan.addrs.redis {
        RedisPlan::Private { .. } => Some(preflight::find_redis_server()?),
        RedisPlan::External { .. } => None,
    };
    preflight::ensure_external_redis(plan).await?;
    let bins = binaries::prepare(&plan.bin_dir, &plan.binaries()).await?;
    // A build can take minutes: check again rather than start half the demo.
    preflight::ensure_ports_free(plan)?;
    Ok((bins, redis_server))
}

/// Starts everything, prints what to try, then restarts whatever dies until a signal.
async fn supervise(
    fleet: &mut Fleet,
    signals: &mut Signals,
    plan: &Plan,
    bins: &Binaries,
    redis: Option<(PathBuf, &Path)>,
    scratch: &Path,
) -> Stop {
    let failed = tokio::select! {
        started = start_all(fleet, plan, bins, redis, scratch) => started.err().map(Stop::Failed),
        signal = signals.recv() => Some(Stop::Signal(signal)),
    };
    if let Some(stop) = failed {
        return stop;
    }
    say(format!("ready: {}", plan.summary()));
    print_block(&format!(
        "{}{}",
        crate::fleet_dashboard::instructions(plan),
        plan.system.instructions(&plan.addrs)
    ));
    loop {
        let due = fleet.next_restart();
        tokio::select! {
            signal = signals.recv() => return Stop::Signal(signal),
            exit = fleet.next_exit() => fleet.schedule_restart(&exit),
            () = sleep_until(due) => fleet.restart_due(),
        }
    }
}

/// Sleeps until `at`; forever without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn start_all(
    fleet: &mut Fleet,
    plan: &Plan,
    bins: &Binaries,
    redis: Option<(PathBuf, &Path)>,
    scratch: &Path,
) -> anyhow::Result<()> {
    if let (Some((program, dir)), RedisPlan::Private { port }) = (redis, &plan.addrs.redis) {
        let spec = redis_spec(program, *port, dir);
        let url = plan.addrs.redis_url();
        start(fleet, plan, spec, |pid| Check::Redis { url, pid }).await?;
    }
    for service in plan.services() {
        let path = plan.system.ready_path(&service);
        let health = format!("{}{path}", plan.addrs.base_url(service.port));
        let spec = service_spec(service, bins);
        start(fleet, plan, spec, |_| Check::Http { url: health }).await?;
    }
    if let Some(service) = crate::fleet_dashboard::service(plan) {
        let health = format!("{}/health", plan.addrs.base_url(service.port));
        let spec = service_spec(service, bins);
        start(fleet, plan, spec, |_| Check::Http { url: health }).await?;
    }
    if let Some((spec, ready)) = crate::prometheus::plan(plan, scratch)? {
        start(fleet, plan, spec, |_| Check::Http { url: ready }).await?;
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

fn service_spec(service: Service, bins: &Binaries) -> Spec {
    Spec {
        program: bins.path(service.binary),
        name: service.name,
        port: service.port,
        args: service.args,
        env: service.env,
    }
}
