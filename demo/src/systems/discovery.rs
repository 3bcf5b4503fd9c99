//! `discovery`: the discovery server first (ready when `GET /services` answers), then three user
//! and three order instances that register with it, then the API gateway; all from the one
//! `discovery` binary (`discovery <service>`).

use anyhow::bail;
use clap::Args;

use super::{SystemPlan, Text};
use crate::cli::{Common, port};
use crate::plan::{Addrs, Plan, Service};

/// The binary, which is also the package that builds it.
pub const BINARIES: &[&str] = &["discovery"];

/// The discovery server's name in the output.
pub const SERVER: &str = "discovery";

/// `discovery`'s options.
#[derive(Debug, Clone, Args)]
pub struct DiscoveryArgs {
    /// The options every system has.
    #[command(flatten)]
    pub common: Common,

    /// Port of the discovery server.
    #[arg(long, env = "DEMO_DISCOVERY_PORT", default_value_t = 3000, value_parser = port())]
    pub discovery_port: u16,

    /// Ports of the user service instances, comma-separated: one instance per port.
    #[arg(
        long,
        env = "DEMO_USER_PORTS",
        value_delimiter = ',',
        default_value = "4000,4001,4002",
        value_parser = port(),
    )]
    pub user_ports: Vec<u16>,

    /// Ports of the order service instances, comma-separated: one instance per port.
    #[arg(
        long,
        env = "DEMO_ORDER_PORTS",
        value_delimiter = ',',
        default_value = "5000,5001,5002",
        value_parser = port(),
    )]
    pub order_ports: Vec<u16>,

    /// Port of the API gateway.
    #[arg(long, env = "DEMO_GATEWAY_PORT", default_value_t = 8000, value_parser = port())]
    pub gateway_port: u16,

    /// Seconds between heartbeats of every instance [default: the services' own, 30]; an
    /// instance that stops leaves the registry 1.5 intervals after its last heartbeat.
    #[arg(long, env = "DEMO_HEARTBEAT_INTERVAL")]
    pub heartbeat_interval: Option<f64>,
}

/// `discovery`'s validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryPlan {
    /// The discovery server's port.
    pub discovery_port: u16,
    /// One user instance per port, named `user-1`, `user-2`, ...
    pub user_ports: Vec<u16>,
    /// One order instance per port, named `order-1`, `order-2`, ...
    pub order_ports: Vec<u16>,
    /// The gateway's port.
    pub gateway_port: u16,
    /// `HEARTBEAT_INTERVAL` for every instance, when given.
    pub heartbeat_interval: Option<f64>,
}

// Intervals are finite (checked), so equality is total.
impl Eq for DiscoveryPlan {}

impl DiscoveryArgs {
    /// Checks what clap cannot.
    pub fn into_plan(self) -> anyhow::Result<Plan> {
        for (option, ports) in [
            ("--user-ports", &self.user_ports),
            ("--order-ports", &self.order_ports),
        ] {
            if ports.is_empty() {
                bail!("{option} needs at least one port");
            }
        }
        if let Some(seconds) = self.heartbeat_interval
            && !(seconds.is_finite() && seconds > 0.0)
        {
            bail!("--heartbeat-interval must be a number of seconds above 0, not {seconds}");
        }
        self.common.into_plan(SystemPlan::Discovery(DiscoveryPlan {
            discovery_port: self.discovery_port,
            user_ports: self.user_ports,
            order_ports: self.order_ports,
            gateway_port: self.gateway_port,
            heartbeat_interval: self.heartbeat_interval,
        }))
    }
}

impl DiscoveryPlan {
    /// The server, the user instances, the order instances, then the gateway.
    pub fn services(&self, addrs: &Addrs) -> Vec<Service> {
        let redis = ("REDIS_URL".to_owned(), addrs.redis_url());
        let mut server_env = addrs.server_env(SERVER, self.discovery_port);
        server_env.push(redis.clone());
        let mut services = vec![Service {
            name: SERVER.to_owned(),
            port: self.discovery_port,
            port_option: "--discovery-port",
            binary: "discovery",
            args: vec!["server".to_owned()],
            env: server_env,
        }];
        let client = |name: &str, port: u16| {
            let mut env = addrs.server_env(name, port);
            env.push((
                "DISCOVERY_URL".to_owned(),
                addrs.base_url(self.discovery_port),
            ));
            if let Some(seconds) = self.heartbeat_interval {
                env.push(("HEARTBEAT_INTERVAL".to_owned(), seconds.to_string()));
            }
            env
        };
        for (kind, ports, option) in [
            ("user", &self.user_ports, "--user-ports"),
            ("order", &self.order_ports, "--order-ports"),
        ] {
            for (i, &port) in ports.iter().enumerate() {
                let name = format!("{kind}-{}", i + 1);
                services.push(Service {
                    env: client(&name, port),
                    name,
                    port,
                    port_option: option,
                    binary: "discovery",
                    args: vec![kind.to_owned()],
                });
            }
        }
        let mut gateway_env = client("gateway", self.gateway_port);
        gateway_env.push(redis);
        services.push(Service {
            name: "gateway".to_owned(),
            port: self.gateway_port,
            port_option: "--gateway-port",
            binary: "discovery",
            args: vec!["gateway".to_owned()],
            env: gateway_env,
        });
        services
    }

    /// The path that tells a started service is ready: the registry must answer before any
    /// instance registers with it, and its `/health` answers even while Redis does not.
    pub fn ready_path(&self, service: &Service) -> &'static str {
        if service.name == SERVER {
            "/services"
        } else {
            "/health"
        }
    }

    /// The commands to try.
    pub fn instructions(&self, addrs: &Addrs) -> String {
        let host = addrs.host();
        let server = format!("{host}:{}", self.discovery_port);
        let gateway = format!("{host}:{}", self.gateway_port);
        let redis_cli = addrs.redis_cli();
        let mut dashboard = format!("http://{gateway}/");
        if self.discovery_port != 3000 {
            dashboard.push_str(&format!("?discovery=http://{server}/"));
        }
        let mut text = Text::default();
        text.line("");
        text.line("Open the dashboards:");
        text.line(format!("  registry: http://{server}/"));
        text.line(format!("  gateway:  {dashboard}"));
        text.line("");
        text.line("Try it (the registry lives in Redis; the gateway's breakers too):");
        text.line(format!("  curl {server}/services"));
        text.line(format!("  curl {server}/services/user-service"));
        text.line(format!("  curl {gateway}/users"));
        text.line(format!("  curl {gateway}/orders/user/1"));
        text.line(format!("  curl {gateway}/users-with-orders"));
        text.line(format!("  curl {gateway}/health"));
        text.line("");
        text.line("  # the registry and the breakers as Redis holds them:");
        text.line(format!("  {redis_cli} SMEMBERS discovery:services"));
        text.line(format!(
            "  {redis_cli} ZRANGE discovery:index:user-service 0 -1 WITHSCORES"
        ));
        text.line(format!("  {redis_cli} HGETALL 'breaker:{{user-service}}'"));
        text.line(format!(
            "  {redis_cli} SUBSCRIBE 'breaker:{{user-service}}:events'"
        ));
        text.line("");
        text.line("  # kill one user instance: the gateway fails over to another; kill them all:");
        text.line("  # the fallback answers and user-service opens for 30 s; the launcher");
        text.line("  # restarts them (watch both dashboards) and real users come back:");
        text.line("  pkill -KILL -f 'discovery user' -n");
        text.line("  pkill -KILL -f 'discovery user'");
        text.line(format!(
            "  for i in $(seq 4); do curl -s {gateway}/users; echo; done"
        ));
        text.line("");
        text.line("Press Ctrl-C to stop everything.");
        text.into_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{env, names_and_ports, parse, plan, refused};

    #[test]
    fn defaults_are_the_seed_ports_with_the_server_first_and_the_gateway_last() {
        let expected = [
            ("redis", 6379),
            ("discovery", 3000),
            ("user-1", 4000),
            ("user-2", 4001),
            ("user-3", 4002),
            ("order-1", 5000),
            ("order-2", 5001),
            ("order-3", 5002),
            ("gateway", 8000),
        ]
        .map(|(n, p)| (n.to_owned(), p));
        assert_eq!(names_and_ports(&["discovery"]), expected);
    }

    #[test]
    fn every_port_moves_and_each_process_gets_its_subcommand_and_variables() {
        let plan = plan(&[
            "discovery",
            "--discovery-port",
            "3100",
            "--user-ports",
            "4100,4101",
            "--order-ports",
            "5100",
            "--gateway-port",
            "8100",
            "--redis-port",
            "6400",
            "--heartbeat-interval",
            "2.5",
        ]);
        let services = plan.services();
        let args: Vec<(&str, u16)> = services
            .iter()
            .map(|s| (s.args[0].as_str(), s.port))
            .collect();
        assert_eq!(
            args,
            [
                ("server", 3100),
                ("user", 4100),
                ("user", 4101),
                ("order", 5100),
                ("gateway", 8100)
            ]
        );
        assert!(services.iter().all(|s| s.binary == "discovery"));
        let server = &services[0];
        assert_eq!(env(server, "REDIS_URL"), Some("redis://127.0.0.1:6400"));
        assert_eq!(plan.system.ready_path(server), "/services");
        for instance in &services[1..] {
            assert_eq!(
                env(instance, "DISCOVERY_URL"),
                Some("http://127.0.0.1:3100")
            );
            assert_eq!(env(instance, "HEARTBEAT_INTERVAL"), Some("2.5"));
            assert_eq!(plan.system.ready_path(instance), "/health");
        }
        assert_eq!(env(&services[2], "INSTANCE_ID"), Some("user-2"));
        assert_eq!(
            env(&services[1], "REDIS_URL"),
            None,
            "instances need no Redis"
        );
        assert_eq!(
            env(&services[4], "REDIS_URL"),
            Some("redis://127.0.0.1:6400")
        );
        let text = plan.system.instructions(&plan.addrs);
        for expected in [
            "  registry: http://localhost:3100/\n",
            "  gateway:  http://localhost:8100/?discovery=http://localhost:3100/\n",
            "  curl localhost:3100/services\n",
            "  curl localhost:8100/users-with-orders\n",
            "  redis-cli -p 6400 HGETALL 'breaker:{user-service}'\n",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn without_an_interval_the_services_keep_their_own() {
        let plan = plan(&["discovery"]);
        assert!(
            plan.services()
                .iter()
                .all(|s| env(s, "HEARTBEAT_INTERVAL").is_none())
        );
        let text = plan.system.instructions(&plan.addrs);
        assert!(
            text.contains("  gateway:  http://localhost:8000/\n"),
            "{text}"
        );
    }

    #[test]
    fn bad_ports_and_intervals_are_refused() {
        assert_eq!(
            refused(&["discovery", "--gateway-port", "4001"]),
            "port 4001 is given to both user-2 and gateway; every port must differ"
        );
        assert_eq!(
            refused(&["discovery", "--user-ports", "5000"]),
            "port 5000 is given to both user-1 and order-1; every port must differ"
        );
        for bad in ["0", "NaN", "inf"] {
            assert!(
                refused(&["discovery", "--heartbeat-interval", bad])
                    .starts_with("--heartbeat-interval must be a number of seconds above 0"),
                "{bad}"
            );
        }
        for option in ["--discovery-port", "--gateway-port", "--user-ports"] {
            assert!(parse(&["discovery", option, "0"]).is_err(), "{option} 0");
        }
        assert!(parse(&["discovery", "--heartbeat-interval", "soon"]).is_err());
    }
}
