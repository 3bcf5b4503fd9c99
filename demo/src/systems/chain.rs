//! `chain`: inventory, order, then user, each calling the next through its own breaker in
//! Redis, all from the one `chain` binary (`chain <service>`).

use clap::Args;

use super::{SystemPlan, Text};
use crate::cli::{Common, port};
use crate::plan::{Addrs, Plan, Service};

/// The binary, which is also the package that builds it.
pub const BINARIES: &[&str] = &["chain"];

/// `chain`'s options.
#[derive(Debug, Clone, Args)]
pub struct ChainArgs {
    /// The options every system has.
    #[command(flatten)]
    pub common: Common,

    /// Port of the user service.
    #[arg(long, env = "DEMO_USER_PORT", default_value_t = 8080, value_parser = port())]
    pub user_port: u16,

    /// Port of the order service.
    #[arg(long, env = "DEMO_ORDER_PORT", default_value_t = 8081, value_parser = port())]
    pub order_port: u16,

    /// Port of the inventory service.
    #[arg(long, env = "DEMO_INVENTORY_PORT", default_value_t = 8082, value_parser = port())]
    pub inventory_port: u16,
}

/// `chain`'s validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPlan {
    /// user's port.
    pub user_port: u16,
    /// order's port.
    pub order_port: u16,
    /// inventory's port.
    pub inventory_port: u16,
}

impl ChainArgs {
    /// Checks what clap cannot (every port distinct, in [`Common::into_plan`]).
    pub fn into_plan(self) -> anyhow::Result<Plan> {
        self.common.into_plan(SystemPlan::Chain(ChainPlan {
            user_port: self.user_port,
            order_port: self.order_port,
            inventory_port: self.inventory_port,
        }))
    }
}

impl ChainPlan {
    /// inventory, order, user: each after the one it calls.
    pub fn services(&self, addrs: &Addrs) -> Vec<Service> {
        let service = |name: &str, port: u16, option: &'static str, next: Option<(&str, u16)>| {
            let mut env = addrs.server_env(name, port);
            if let Some((var, next_port)) = next {
                env.push(("REDIS_URL".to_owned(), addrs.redis_url()));
                env.push((var.to_owned(), addrs.base_url(next_port)));
            }
            Service {
                name: name.to_owned(),
                port,
                port_option: option,
                binary: "chain",
                args: vec![name.to_owned()],
                env,
            }
        };
        vec![
            service("inventory", self.inventory_port, "--inventory-port", None),
            service(
                "order",
                self.order_port,
                "--order-port",
                Some(("INVENTORY_SERVICE_URL", self.inventory_port)),
            ),
            service(
                "user",
                self.user_port,
                "--user-port",
                Some(("ORDER_SERVICE_URL", self.order_port)),
            ),
        ]
    }

    /// The commands to try.
    pub fn instructions(&self, addrs: &Addrs) -> String {
        let host = addrs.host();
        let user = format!("{host}:{}", self.user_port);
        let orders = format!("'{host}:{}/orders?user_id=1'", self.order_port);
        let redis_cli = addrs.redis_cli();
        let faults = format!(
            "curl -X PUT {host}:{}/faults -H 'content-type: application/json' -d",
            self.inventory_port
        );
        let mut text = Text::default();
        text.line("");
        text.line("Try it (user -> order -> inventory; inventory fails 10 % of its calls):");
        text.line(format!("  curl {user}/users/1"));
        text.line(format!("  curl {orders}"));
        text.line(format!("  curl {host}:{}/inventory", self.inventory_port));
        text.line("");
        text.line("  # take inventory down: three failed calls open the inventory-service");
        text.line("  # circuit; then order answers 503 with Retry-After without calling it,");
        text.line("  # and user names the failing hop:");
        text.line(format!("  {faults} '{{\"down\":true}}'"));
        text.line(format!(
            "  for i in 1 2 3 4; do curl -s {user}/users/1; echo; done"
        ));
        text.line(format!("  curl -i {orders}"));
        text.line(format!(
            "  {redis_cli} HGETALL 'breaker:{{inventory-service}}'"
        ));
        text.line("");
        text.line("  # bring it back: after 5 s open, two successful trial calls close it:");
        text.line(format!(
            "  {faults} '{{\"down\":false,\"failure_rate\":0}}'"
        ));
        text.line(format!(
            "  curl {orders}; {redis_cli} HGET 'breaker:{{inventory-service}}' state"
        ));
        text.line(format!(
            "  curl {orders}; {redis_cli} HGET 'breaker:{{inventory-service}}' state"
        ));
        text.line("");
        text.line("  # a slow inventory: each call gives up after 2 s (504), three open it too:");
        text.line(format!("  {faults} '{{\"delay_ms\":3000}}'"));
        text.line(format!(
            "  curl {host}:{}/metrics | grep breaker_",
            self.order_port
        ));
        text.line(format!(
            "  curl -X DELETE {host}:{}/faults",
            self.inventory_port
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
    fn defaults_are_the_seed_ports_each_service_after_the_one_it_calls() {
        let expected = [
            ("redis", 6379),
            ("inventory", 8082),
            ("order", 8081),
            ("user", 8080),
        ]
        .map(|(n, p)| (n.to_owned(), p));
        assert_eq!(names_and_ports(&["chain"]), expected);
    }

    #[test]
    fn every_port_moves_and_each_service_is_told_where_the_next_listens() {
        let args = [
            "chain",
            "--user-port",
            "9080",
            "--order-port",
            "9081",
            "--inventory-port",
            "9082",
            "--redis-port",
            "7000",
        ];
        let expected = [
            ("redis", 7000),
            ("inventory", 9082),
            ("order", 9081),
            ("user", 9080),
        ]
        .map(|(n, p)| (n.to_owned(), p));
        assert_eq!(names_and_ports(&args), expected);
        let services = plan(&args).services();
        let commands: Vec<(&str, &str)> = services
            .iter()
            .map(|s| (s.binary, s.args[0].as_str()))
            .collect();
        assert_eq!(
            commands,
            [
                ("chain", "inventory"),
                ("chain", "order"),
                ("chain", "user")
            ]
        );
        assert_eq!(
            env(&services[0], "REDIS_URL"),
            None,
            "inventory needs no Redis"
        );
        assert_eq!(
            env(&services[1], "INVENTORY_SERVICE_URL"),
            Some("http://127.0.0.1:9082")
        );
        assert_eq!(
            env(&services[2], "ORDER_SERVICE_URL"),
            Some("http://127.0.0.1:9081")
        );
        for service in &services[1..] {
            assert_eq!(env(service, "REDIS_URL"), Some("redis://127.0.0.1:7000"));
        }
        assert_eq!(env(&services[2], "INSTANCE_ID"), Some("user"));
        assert_eq!(env(&services[2], "PORT"), Some("9080"));
    }

    #[test]
    fn a_port_used_twice_or_zero_is_refused() {
        assert_eq!(
            refused(&["chain", "--order-port", "8082"]),
            "port 8082 is given to both inventory and order; every port must differ"
        );
        assert_eq!(
            refused(&["chain", "--redis-port", "8080"]),
            "port 8080 is given to both redis and user; every port must differ"
        );
        for option in ["--user-port", "--order-port", "--inventory-port"] {
            assert!(parse(&["chain", option, "0"]).is_err(), "{option} 0");
        }
        assert!(parse(&["chain", "--gateway-port", "3000"]).is_err());
    }

    #[test]
    fn the_commands_name_our_ports_and_the_breaker_key() {
        let plan = plan(&["chain", "--order-port", "9081", "--redis-port", "6390"]);
        let text = plan.system.instructions(&plan.addrs);
        for expected in [
            "  curl localhost:8080/users/1\n",
            "  curl -i 'localhost:9081/orders?user_id=1'\n",
            "  curl -X PUT localhost:8082/faults -H 'content-type: application/json' -d \
             '{\"down\":true}'\n",
            "  redis-cli -p 6390 HGETALL 'breaker:{inventory-service}'\n",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }
}
