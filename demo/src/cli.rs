//! The command line: `demo [SYSTEM] [OPTIONS]`, and the validated [`Plan`] it becomes.
//!
//! Each system is a subcommand whose options are the [`Common`] ones plus its own (in its
//! module under `systems`). Without a subcommand the demo runs `ab` with the options given at
//! the top level, so `demo --service-a-ports 8080,8082` keeps working.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, Parser, Subcommand};

use crate::plan::{Addrs, BinDir, DEFAULT_REDIS_PORT, Plan, RedisPlan};
use crate::systems::{
    SystemPlan, ab::AbArgs, chain::ChainArgs, discovery::DiscoveryArgs, lab::LabArgs,
    shop::ShopArgs,
};

/// Runs one of the demo systems as local processes with a private Redis, prints what to try,
/// restarts a service that dies, and stops them all on Ctrl-C. Without a system: `ab`.
#[derive(Debug, Parser)]
#[command(
    name = "demo",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true,
    subcommand_value_name = "SYSTEM",
    subcommand_help_heading = "Systems"
)]
pub struct Cli {
    /// `ab`'s options, for `demo` without a system.
    #[command(flatten)]
    pub ab: AbArgs,

    /// The system to run.
    #[command(subcommand)]
    pub system: Option<SystemCmd>,
}

/// The systems.
#[derive(Debug, Subcommand)]
pub enum SystemCmd {
    /// Service A calls service B through the shared circuit (the default).
    Ab(AbArgs),
    /// The shop: API gateway replicas in front of payment, inventory and shipping.
    Shop(ShopArgs),
    /// Discovery: a registry in Redis, user and order instances, an API gateway, dashboards.
    Discovery(DiscoveryArgs),
    /// The lab: user and order services, a health dashboard and Prometheus.
    Lab(LabArgs),
    /// The chain: user calls order calls inventory, each hop behind its own breaker.
    Chain(ChainArgs),
}

/// The options every system has.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Port of the private redis-server started on 127.0.0.1 [default: 6379].
    #[arg(long, env = "DEMO_REDIS_PORT", value_parser = port())]
    pub redis_port: Option<u16>,

    /// Use this Redis instead of starting one, e.g. redis://127.0.0.1:6379.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Address the services bind (Redis always binds 127.0.0.1).
    #[arg(long, env = "DEMO_BIND_ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind_addr: IpAddr,

    /// Directory holding the service binaries [default: the demo's own directory, built
    /// first when the demo runs under `cargo run`].
    #[arg(long, env = "DEMO_BIN_DIR")]
    pub bin_dir: Option<PathBuf>,

    /// Under `cargo run`, do not build the services first.
    #[arg(long, env = "DEMO_NO_BUILD")]
    pub no_build: bool,

    /// How long each process may take to answer after it starts.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub startup_timeout: Duration,

    /// Restarts of one process allowed within a minute; a process that dies once more is
    /// left stopped while the others keep running. 0: no limit.
    #[arg(long, env = "DEMO_MAX_RESTARTS_PER_MINUTE", default_value_t = 5)]
    pub max_restarts_per_minute: u32,

    /// How long each process may take to exit after SIGTERM before it is killed.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub stop_timeout: Duration,

    /// Port of the fleet dashboard: every breaker in Redis, live.
    #[arg(long, env = "DEMO_FLEET_DASHBOARD_PORT", default_value_t = crate::fleet_dashboard::DEFAULT_PORT, value_parser = port())]
    pub fleet_dashboard_port: u16,

    /// Do not start the fleet dashboard.
    #[arg(long, env = "DEMO_NO_FLEET_DASHBOARD")]
    pub no_fleet_dashboard: bool,
}

/// A port option: 1 to 65535.
pub fn port() -> clap::builder::RangedI64ValueParser<u16> {
    clap::value_parser!(u16).range(1..)
}

impl Cli {
    /// The plan for the chosen system, validated.
    pub fn into_plan(self) -> anyhow::Result<Plan> {
        match self.system {
            None => self.ab.into_plan(),
            Some(SystemCmd::Ab(ab)) => ab.into_plan(),
            Some(SystemCmd::Shop(shop)) => shop.into_plan(),
            Some(SystemCmd::Discovery(discovery)) => discovery.into_plan(),
            Some(SystemCmd::Lab(lab)) => lab.into_plan(),
            Some(SystemCmd::Chain(chain)) => chain.into_plan(),
        }
    }
}

impl Common {
    /// Checks what clap cannot (a usable Redis URL, distinct ports) and makes the plan for
    /// `system`.
    pub fn into_plan(self, system: SystemPlan) -> anyhow::Result<Plan> {
        let redis = match (self.redis_url, self.redis_port) {
            (Some(_), Some(port)) => bail!(
                "both --redis-port {port} and --redis-url (or REDIS_URL) are set: give \
                 --redis-port to start a private Redis, --redis-url to use a running one"
            ),
            (Some(url), None) => {
                if let Err(e) = redis::Client::open(url.as_str()) {
                    bail!("invalid --redis-url (or REDIS_URL) {url:?}: {e}");
                }
                RedisPlan::External { url }
            }
            (None, port) => RedisPlan::Private {
                port: port.unwrap_or(DEFAULT_REDIS_PORT),
            },
        };
        let plan = Plan {
            system,
            addrs: Addrs {
                redis,
                bind_addr: self.bind_addr,
            },
            bin_dir: match self.bin_dir {
                Some(dir) => BinDir::Given(dir),
                None => BinDir::OwnDir {
                    build: !self.no_build,
                },
            },
            startup_timeout: self.startup_timeout,
            stop_timeout: self.stop_timeout,
            max_restarts_per_minute: (self.max_restarts_per_minute > 0)
                .then_some(self.max_restarts_per_minute),
            fleet_dashboard: (!self.no_fleet_dashboard).then_some(self.fleet_dashboard_port),
        };
        plan.check_distinct_ports()?;
        Ok(plan)
    }
}

/// Parsing helpers for the unit tests of every system.
#[cfg(test)]
pub mod testing {
    use clap::{CommandFactory, FromArgMatches};

    use super::Cli;
    use crate::plan::{Plan, Service};

    /// Parses `args` ignoring the environment, so that a REDIS_URL or ADMIN_TOKEN exported
    /// where the tests run changes nothing. The fleet dashboard, which every system has, is
    /// left out unless `args` name it, so that each system's plan shows its own processes.
    pub fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let dashboard = ["--fleet-dashboard-port", "--no-fleet-dashboard"];
        let off = (!args.iter().any(|a| dashboard.contains(a))).then_some("--no-fleet-dashboard");
        let matches = Cli::command()
            .mut_args(|arg| arg.env(None))
            .mut_subcommands(|sub| sub.mut_args(|arg| arg.env(None)))
            .try_get_matches_from(
                std::iter::once("demo")
                    .chain(args.iter().copied())
                    .chain(off),
            )?;
        Cli::from_arg_matches(&matches)
    }

    /// The plan for `args`, which must be valid.
    pub fn plan(args: &[&str]) -> Plan {
        parse(args)
            .unwrap_or_else(|e| panic!("{args:?} do not parse: {e}"))
            .into_plan()
            .unwrap_or_else(|e| panic!("{args:?} are refused: {e}"))
    }

    /// The error for `args`, which must parse but be refused.
    pub fn refused(args: &[&str]) -> String {
        parse(args)
            .unwrap_or_else(|e| panic!("{args:?} do not parse: {e}"))
            .into_plan()
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    }

    /// The name and port of every process the plan for `args` starts, in start order.
    pub fn names_and_ports(args: &[&str]) -> Vec<(String, u16)> {
        plan(args)
            .ports()
            .into_iter()
            .map(|p| (p.name, p.port))
            .collect()
    }

    /// The value `service` is given for the environment variable `key`, if any.
    pub fn env<'a>(service: &'a Service, key: &str) -> Option<&'a str> {
        service
            .env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{parse, plan, refused};
    use crate::systems::SystemPlan;

    #[test]
    fn without_a_system_the_demo_runs_ab() {
        assert!(matches!(plan(&[]).system, SystemPlan::Ab(_)));
        assert!(matches!(plan(&["ab"]).system, SystemPlan::Ab(_)));
        assert!(matches!(plan(&["shop"]).system, SystemPlan::Shop(_)));
        assert!(matches!(plan(&["chain"]).system, SystemPlan::Chain(_)));
    }

    #[test]
    fn the_common_options_work_after_every_system() {
        for system in ["ab", "shop"] {
            let plan = plan(&[system, "--redis-url", "redis://127.0.0.1:7000"]);
            assert_eq!(plan.addrs.redis_url(), "redis://127.0.0.1:7000", "{system}");
            let err = refused(&[system, "--redis-port", "7000", "--redis-url", "redis://x"]);
            assert!(err.starts_with("both --redis-port 7000"), "{system}: {err}");
        }
    }

    #[test]
    fn options_before_a_system_or_of_another_system_are_refused() {
        assert!(parse(&["--redis-port", "7000", "shop"]).is_err());
        assert!(parse(&["shop", "--service-b-port", "9000"]).is_err());
        assert!(parse(&["ab", "--gateway-replicas", "2"]).is_err());
        assert!(parse(&["--gateway-port", "4000"]).is_err());
        assert!(parse(&["lab", "--gateway-port", "4000"]).is_err());
    }

    #[test]
    fn port_zero_and_bad_urls_are_refused() {
        assert!(parse(&["shop", "--redis-port", "0"]).is_err());
        let err = refused(&["shop", "--redis-url", "http://nope"]);
        assert!(err.starts_with("invalid --redis-url"), "{err}");
    }

    #[test]
    fn a_wildcard_bind_is_reached_on_loopback() {
        let wildcard = plan(&["--bind-addr", "0.0.0.0", "--redis-port", "7000"]);
        assert_eq!(wildcard.addrs.base_url(1), "http://127.0.0.1:1");
        let v6 = plan(&["shop", "--bind-addr", "::1"]);
        assert_eq!(v6.addrs.base_url(2), "http://[::1]:2");
        assert_eq!(v6.addrs.host(), "localhost");
    }
}
