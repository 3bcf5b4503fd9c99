//! `demo`: the whole circuit-breaker demo as local processes.
//!
//! Starts a private `redis-server` (or uses `--redis-url`), `service-b` and two `service-a`
//! replicas sharing the circuit in Redis, waits until each answers, prints what to try, and
//! stops everything it started on Ctrl-C or SIGTERM. `cargo run --release -p demo` also builds
//! the two services first. `demo --help` lists the options.
//!
//! # Layout
//!
//! - `cli`: the command line ([`cli::Cli`]) and the validated [`cli::Plan`] made from it.
//! - `preflight`: checks before anything starts: free ports, `redis-server` on `PATH`.
//! - `binaries`: finds (and, under cargo, builds) the `service-a` and `service-b` binaries.
//! - `child`: one started process: prefixed output, its last lines, SIGTERM then SIGKILL.
//! - `fleet`: every process started, their exits as one stream, stopping them in reverse order.
//! - `readiness`: waiting for `GET /health` or for our `redis-server` to answer.
//! - `instructions`: the "try this" text printed once everything is up.
//! - `signals`: SIGINT, SIGTERM and SIGHUP as one future.
//! - `run`: the sequence: preflight, start, wait, stop.
//! - `out`: the demo's own `[demo] ...` lines.

mod binaries;
mod child;
mod cli;
mod fleet;
mod instructions;
mod out;
mod preflight;
mod readiness;
mod run;
mod signals;

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
