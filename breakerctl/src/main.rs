//! `breakerctl`: the operators' command line for breaker-redis breakers. It talks to Redis
//! directly (through [`breaker_redis::admin`]), so it needs no service running: every breaker
//! keeps its state, settings and a capped history of its transitions in Redis.
//!
//! ```text
//! breakerctl [--redis-url URL] [--prefix P] [--json] <command>
//!   list                      every breaker: state, override, generation, counts, TTL, settings
//!   show NAME                 one breaker in detail
//!   history NAME [--limit N]  its last transitions, newest first (default 20)
//!   watch [NAME] [--count N] [--timeout D]   live transitions until Ctrl-C/SIGTERM, N events or D
//!   open|close|disable|reset NAME            overrides every replica follows at once
//! ```
//!
//! `--redis-url` defaults to `$REDIS_URL`, then `redis://127.0.0.1:6379`; `--prefix` to the
//! breakers' default key prefix, `breaker`. Human output is aligned tables (`watch`: one line
//! per transition); `--json` prints one JSON document (`watch`: one JSON object per line), with
//! the field names of `breaker_redis::admin`'s types.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done (`watch`: stopped by Ctrl-C, SIGTERM, `--count` or `--timeout`) |
//! | 1 | any other failure (Redis refused a command, unreadable settings) |
//! | 2 | bad command line (clap) |
//! | 3 | unknown breaker: no key of that name under the prefix |
//! | 4 | Redis unreachable (or the `watch` connection was lost) |
//! | 5 | bad Redis URL |
//! | 6 | the breaker has no settings in Redis, so no override can be built for it |
//!
//! # Layout
//!
//! - `cli`: the command line (clap derive).
//! - `commands`: runs each command against [`breaker_redis::admin::Admin`].
//! - `render`: tables, lines and JSON.
//! - `exit`: errors and their exit codes.

mod cli;
mod commands;
mod exit;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("breakerctl: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("breakerctl: {e}");
            e.code()
        }
    }
}
