//! `demo`: a demo system as local processes.
//!
//! `demo [SYSTEM]` starts a private `redis-server` (or uses `--redis-url`) and every service
//! of the system (`ab`, the default: service-b and two service-a replicas sharing the circuit
//! in Redis; `shop`: payment, inventory, shipping and the API gateway replicas; `discovery`: the
//! registry, user and order instances and the gateway; `chain`: inventory, order and user, each
//! hop behind its own breaker; `lab`: user, order, the dashboard and, when installed,
//! Prometheus), plus the fleet dashboard on 8088 (every breaker in Redis, live), waits until
//! each answers, prints what to try, restarts a service that dies (with a back-off, like
//! compose's `restart: always`, and at most `--max-restarts-per-minute` times a minute: one
//! that dies more often is left stopped while the rest keep running), and stops everything it
//! started on Ctrl-C or SIGTERM.
//! `cargo run --release -p demo -- [SYSTEM]` also builds the system's binaries first.
//! `demo --help` and `demo <SYSTEM> --help` list the options.
//!
//! # Layout
//!
//! - `cli`: the command line ([`cli::Cli`]): a subcommand per system, the common options.
//! - `plan`: the validated [`plan::Plan`]: Redis, bind address, the [`plan::Service`]s.
//! - `systems`: one module per system: its options, processes, start order, what to try.
//! - `preflight`: checks before anything starts: free ports, `redis-server` on `PATH`.
//! - `binaries`: finds (and, under cargo, builds) the system's binaries.
//! - `child`: one started process: prefixed output, its last lines, SIGTERM then SIGKILL.
//! - `fleet`: every process started, their exits as one stream, restarts, stopping them in
//!   reverse order.
//! - `backoff`: the delay before a restart.
//! - `readiness`: waiting for `GET /health` or for our `redis-server` to answer.
//! - `signals`: SIGINT, SIGTERM and SIGHUP as one future.
//! - `run`: the sequence: preflight, start, supervise, stop.
//! - `out`: the demo's own `[demo] ...` lines.
//! - `prometheus`: the lab's Prometheus, when installed: its configuration and process.
//! - `fleet_dashboard`: the fleet dashboard every system gets (port 8088,
//!   `--fleet-dashboard-port`, `--no-fleet-dashboard`).

mod backoff;
mod binaries;
mod child;
mod cli;
mod fleet;
mod fleet_dashboard;
mod out;
mod plan;
mod preflight;
mod prometheus;
mod readiness;
mod run;
mod signals;
mod systems;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("demo: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
