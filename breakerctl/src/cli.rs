//! The command line.

use std::time::Duration;

use clap::{Parser, Subcommand};

/// Operate breaker-redis circuit breakers straight on Redis.
#[derive(Debug, Parser)]
#[command(
    name = "breakerctl",
    version,
    after_help = "Exit codes: 0 done, 1 other failure, 2 bad command line, 3 unknown breaker, \
                  4 Redis unreachable, 5 bad Redis URL, 6 no settings in Redis for an override."
)]
pub struct Args {
    /// The Redis the breakers keep their state in (its value, which may hold a password, is
    /// not shown in the help).
    #[arg(
        long,
        global = true,
        env = "REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// The breakers' key prefix.
    #[arg(long, global = true, default_value = "breaker")]
    pub prefix: String,
    /// JSON output (watch: one object per line).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every breaker: state, override, generation, counts, TTL and settings.
    List,
    /// One breaker in detail: state, counts of its window, trial calls in flight, settings.
    Show {
        /// The breaker's name.
        name: String,
    },
    /// A breaker's last transitions, newest first.
    History {
        /// The breaker's name.
        name: String,
        /// How many (at most 1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Live transitions of one breaker, or of all, until Ctrl-C or SIGTERM.
    Watch {
        /// Only this breaker.
        name: Option<String>,
        /// Stop after this many transitions.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this long (e.g. `30s`, `5m`).
        #[arg(long, value_parser = humantime::parse_duration)]
        timeout: Option<Duration>,
    },
    /// Force a breaker open on every replica: every call rejected until reset.
    Open {
        /// The breaker's name.
        name: String,
    },
    /// Force a breaker closed on every replica: every call admitted, never trips, until reset.
    Close {
        /// The breaker's name.
        name: String,
    },
    /// Disable a breaker on every replica: every call admitted, nothing counted, until reset.
    Disable {
        /// The breaker's name.
        name: String,
    },
    /// Clear any override and every count: a fresh closed circuit on every replica.
    Reset {
        /// The breaker's name.
        name: String,
    },
}
