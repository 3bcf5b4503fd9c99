//! `ab`: service-b and the service-a replicas that call it through one circuit in Redis.

use anyhow::bail;
use clap::Args;

use super::{SystemPlan, Text};
use crate::cli::{Common, port};
use crate::plan::{Addrs, Plan, Service};

/// The binaries, which are also the packages that build them.
pub const BINARIES: &[&str] = &["service-a", "service-b"];

/// `ab`'s options.
#[derive(Debug, Clone, Args)]
pub struct AbArgs {
    /// The options every system has.
    #[command(flatten)]
    pub common: Common,

    /// Port of service-b.
    #[arg(long, env = "DEMO_SERVICE_B_PORT", default_value_t = 8081, value_parser = port())]
    pub service_b_port: u16,

    /// Ports of the service-a replicas, comma-separated: one replica per port.
    #[arg(
        long,
        env = "DEMO_SERVICE_A_PORTS",
        value_delimiter = ',',
        default_value = "8080,8082",
        value_parser = port(),
    )]
    pub service_a_ports: Vec<u16>,

    /// Token for service-a's admin endpoints (POST /breaker/open|close|reset).
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

/// `ab`'s validated settings: at least one replica, a non-empty token if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbPlan {
    /// service-b's port.
    pub service_b_port: u16,
    /// One service-a replica per port, named `service-a-1`, `service-a-2`, ...
    pub service_a_ports: Vec<u16>,
    /// Passed to every service-a replica as `ADMIN_TOKEN`.
    pub admin_token: Option<String>,
}

impl AbArgs {
    /// Checks what clap cannot.
    pub fn into_plan(self) -> anyhow::Result<Plan> {
        if self.service_a_ports.is_empty() {
            bail!("--service-a-ports needs at least one port");
        }
        if self.admin_token.as_deref().is_some_and(str::is_empty) {
            bail!("--admin-token (or ADMIN_TOKEN) is empty; give a token or leave it unset");
        }
        self.common.into_plan(SystemPlan::Ab(AbPlan {
            service_b_port: self.service_b_port,
            service_a_ports: self.service_a_ports,
            admin_token: self.admin_token,
        }))
    }
}

/// `service-a-1` for index 0.
pub fn replica_name(index: usize) -> String {
    format!("service-a-{}", index + 1)
}

impl AbPlan {
    /// service-b, then the replicas.
    pub fn services(&self, addrs: &Addrs) -> Vec<Service> {
        let b = Service {
            name: "service-b".to_owned(),
            port: self.service_b_port,
            port_option: "--service-b-port",
            binary: "service-b",
            args: Vec::new(),
            env: addrs.server_env("service-b", self.service_b_port),
        };
        let replicas = self.service_a_ports.iter().enumerate().map(|(i, &port)| {
            let name = replica_name(i);
            let mut env = addrs.server_env(&name, port);
            env.push(("REDIS_URL".to_owned(), addrs.redis_url()));
            env.push((
                "SERVICE_B_URL".to_owned(),
                addrs.base_url(self.service_b_port),
            ));
            if let Some(token) = &self.admin_token {
                env.push(("ADMIN_TOKEN".to_owned(), token.clone()));
            }
            Service {
                name,
                port,
                port_option: "--service-a-ports",
                binary: "service-a",
                args: Vec::new(),
                env,
            }
        });
        std::iter::once(b).chain(replicas).collect()
    }

    /// The commands to try.
    pub fn instructions(&self, addrs: &Addrs) -> String {
        let host = addrs.host();
        let b = format!("{host}:{}", self.service_b_port);
        let first_a = format!("{host}:{}", self.service_a_ports[0]);
        let redis_cli = addrs.redis_cli();
        let mut text = Text::default();
        text.line("");
        text.line(
            "Try it (service-b fails every third call; the circuit is shared through Redis):",
        );
        for port in &self.service_a_ports {
            text.line(format!("  curl {host}:{port}/call-service-b"));
        }
        text.line("");
        text.line(
            "  # the circuit, as service-a and as Redis see it; and its transitions as they happen:",
        );
        text.line(format!("  curl {first_a}/breaker"));
        text.line(format!("  {redis_cli} HGETALL 'breaker:{{service-b}}'"));
        text.line(format!(
            "  {redis_cli} SUBSCRIBE 'breaker:{{service-b}}:events'"
        ));
        text.line("");
        text.line(
            "  # take service-b down, call a few times: the circuit opens for every replica;",
        );
        text.line("  # then bring it back:");
        let faults = format!("curl -X PUT {b}/faults -H 'content-type: application/json' -d");
        text.line(format!("  {faults} '{{\"down\":true}}'"));
        text.line(format!("  {faults} '{{\"down\":false}}'"));
        text.line("");
        if self.admin_token.is_some() {
            text.line(
                "  # force the circuit (export ADMIN_TOKEN=<the token you gave> in this shell first):",
            );
            for action in ["open", "close", "reset"] {
                text.line(format!(
                    "  curl -X POST {first_a}/breaker/{action} -H \"Authorization: Bearer $ADMIN_TOKEN\""
                ));
            }
        } else {
            text.line(
                "  # the admin calls (POST /breaker/open|close|reset) are off: start the demo with",
            );
            text.line("  # --admin-token <TOKEN> (or ADMIN_TOKEN) to turn them on.");
        }
        text.line("");
        text.line("Press Ctrl-C to stop everything.");
        text.into_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{names_and_ports, parse, plan, refused};

    #[test]
    fn defaults_are_the_documented_ports() {
        let plan = plan(&[]);
        let ports: Vec<u16> = plan.ports().into_iter().map(|p| p.port).collect();
        assert_eq!(ports, [6379, 8081, 8080, 8082]);
        assert_eq!(plan.addrs.redis_url(), "redis://127.0.0.1:6379");
        assert_eq!(plan.addrs.base_url(8081), "http://127.0.0.1:8081");
    }

    #[test]
    fn replicas_follow_the_port_list_with_or_without_the_subcommand() {
        let args = [
            "--service-a-ports",
            "9000,9001,9002",
            "--redis-port",
            "7000",
        ];
        let expected = [
            ("redis", 7000),
            ("service-b", 8081),
            ("service-a-1", 9000),
            ("service-a-2", 9001),
            ("service-a-3", 9002),
        ]
        .map(|(n, p)| (n.to_owned(), p));
        assert_eq!(names_and_ports(&args), expected);
        let with_ab: Vec<&str> = std::iter::once("ab").chain(args).collect();
        assert_eq!(names_and_ports(&with_ab), expected);
    }

    #[test]
    fn a_port_used_twice_is_refused_with_both_names() {
        let err = refused(&["--redis-port", "8080", "--redis-url", "redis://x"]);
        assert!(err.starts_with("both --redis-port 8080"), "{err}");
        assert_eq!(
            refused(&["--service-b-port", "8082", "--redis-port", "7000"]),
            "port 8082 is given to both service-b and service-a-2; every port must differ"
        );
        assert_eq!(
            refused(&["ab", "--redis-port", "8081"]),
            "port 8081 is given to both redis and service-b; every port must differ"
        );
    }

    #[test]
    fn port_zero_and_an_empty_token_are_refused() {
        assert!(parse(&["--service-b-port", "0"]).is_err());
        assert!(parse(&["--service-a-ports", "8080,0"]).is_err());
        assert!(
            refused(&["--admin-token", ""]).starts_with("--admin-token (or ADMIN_TOKEN) is empty")
        );
    }

    #[test]
    fn the_commands_name_our_ports_and_the_circuit_key() {
        let plan = plan(&["--redis-port", "6390"]);
        let text = plan.system.instructions(&plan.addrs);
        for expected in [
            "  curl localhost:8080/call-service-b\n",
            "  curl localhost:8082/call-service-b\n",
            "  curl localhost:8080/breaker\n",
            "  redis-cli -p 6390 HGETALL 'breaker:{service-b}'\n",
            "  redis-cli -p 6390 SUBSCRIBE 'breaker:{service-b}:events'\n",
            "  curl -X PUT localhost:8081/faults -H 'content-type: application/json' -d \
             '{\"down\":true}'\n",
            "--admin-token <TOKEN>",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        assert!(!text.contains("Bearer"), "{text}");
    }

    #[test]
    fn admin_calls_appear_with_a_token_and_never_show_it() {
        let plan = plan(&[
            "--redis-url",
            "redis://127.0.0.1:7000",
            "--admin-token",
            "s3cret",
        ]);
        let text = plan.system.instructions(&plan.addrs);
        assert!(text.contains(
            "  curl -X POST localhost:8080/breaker/reset -H \"Authorization: Bearer $ADMIN_TOKEN\"\n"
        ));
        assert!(text.contains("redis-cli -u redis://127.0.0.1:7000 HGETALL"));
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn each_replica_gets_redis_service_b_and_the_token() {
        let plan = plan(&["--admin-token", "t", "--redis-port", "7000"]);
        let services = plan.services();
        let a2 = &services[2];
        assert_eq!((a2.name.as_str(), a2.binary), ("service-a-2", "service-a"));
        for (key, value) in [
            ("PORT", "8082"),
            ("INSTANCE_ID", "service-a-2"),
            ("REDIS_URL", "redis://127.0.0.1:7000"),
            ("SERVICE_B_URL", "http://127.0.0.1:8081"),
            ("ADMIN_TOKEN", "t"),
        ] {
            assert!(
                a2.env.contains(&(key.to_owned(), value.to_owned())),
                "{key}={value} missing: {:?}",
                a2.env
            );
        }
    }
}
