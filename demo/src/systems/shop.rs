//! `shop`: payment, inventory and shipping, then the API gateway replicas in front of them,
//! all from the one `shop` binary (`shop <service>`).

use anyhow::bail;
use clap::Args;

use super::{SystemPlan, Text};
use crate::cli::{Common, port};
use crate::plan::{Addrs, Plan, Service};

/// The binary, which is also the package that builds it.
pub const BINARIES: &[&str] = &["shop"];

/// Replica `n` of the gateway listens this many ports after replica `n - 1`: 3000, 3010, ...
pub const REPLICA_PORT_STEP: u16 = 10;

/// `shop`'s options.
#[derive(Debug, Clone, Args)]
pub struct ShopArgs {
    /// The options every system has.
    #[command(flatten)]
    pub common: Common,

    /// Port of the first API gateway; replica n listens 10 × (n - 1) ports above it.
    #[arg(long, env = "DEMO_GATEWAY_PORT", default_value_t = 3000, value_parser = port())]
    pub gateway_port: u16,

    /// How many API gateways share the breakers and the rate limit (gateway-1, gateway-2, ...).
    #[arg(long, env = "DEMO_GATEWAY_REPLICAS", default_value_t = 1)]
    pub gateway_replicas: u16,

    /// Port of the payment service.
    #[arg(long, env = "DEMO_PAYMENT_PORT", default_value_t = 3001, value_parser = port())]
    pub payment_port: u16,

    /// Port of the inventory service.
    #[arg(long, env = "DEMO_INVENTORY_PORT", default_value_t = 3002, value_parser = port())]
    pub inventory_port: u16,

    /// Port of the shipping service.
    #[arg(long, env = "DEMO_SHIPPING_PORT", default_value_t = 3003, value_parser = port())]
    pub shipping_port: u16,
}

/// `shop`'s validated settings: at least one gateway, every gateway port within range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopPlan {
    /// One gateway per port, named `gateway-1`, `gateway-2`, ...
    pub gateway_ports: Vec<u16>,
    /// payment's port.
    pub payment_port: u16,
    /// inventory's port.
    pub inventory_port: u16,
    /// shipping's port.
    pub shipping_port: u16,
}

impl ShopArgs {
    /// Checks what clap cannot.
    pub fn into_plan(self) -> anyhow::Result<Plan> {
        let replicas = self.gateway_replicas;
        if replicas == 0 {
            bail!("--gateway-replicas must be at least 1");
        }
        let gateway_ports = (0..replicas)
            .map(|i| {
                i.checked_mul(REPLICA_PORT_STEP)
                    .and_then(|offset| self.gateway_port.checked_add(offset))
            })
            .collect::<Option<Vec<u16>>>();
        let Some(gateway_ports) = gateway_ports else {
            bail!(
                "--gateway-replicas {replicas} from --gateway-port {} needs ports above 65535; \
                 give a lower --gateway-port or fewer replicas",
                self.gateway_port
            );
        };
        self.common.into_plan(SystemPlan::Shop(ShopPlan {
            gateway_ports,
            payment_port: self.payment_port,
            inventory_port: self.inventory_port,
            shipping_port: self.shipping_port,
        }))
    }
}

impl ShopPlan {
    /// payment, inventory, shipping, then the gateways, which need the other three.
    pub fn services(&self, addrs: &Addrs) -> Vec<Service> {
        let backend = |name: &str, port: u16, option: &'static str| Service {
            name: name.to_owned(),
            port,
            port_option: option,
            binary: "shop",
            args: vec![name.to_owned()],
            env: addrs.server_env(name, port),
        };
        let redis = ("REDIS_URL".to_owned(), addrs.redis_url());
        let mut payment = backend("payment", self.payment_port, "--payment-port");
        payment.env.push(redis.clone());
        let inventory = backend("inventory", self.inventory_port, "--inventory-port");
        let mut shipping = backend("shipping", self.shipping_port, "--shipping-port");
        shipping.env.push(redis.clone());
        shipping
            .env
            .push(("TRUSTED_PROXIES".to_owned(), trusted_proxies(addrs)));
        let mut services = vec![payment, inventory, shipping];
        for (i, &port) in self.gateway_ports.iter().enumerate() {
            let name = format!("gateway-{}", i + 1);
            let mut env = addrs.server_env(&name, port);
            env.push(redis.clone());
            for (var, port) in [
                ("PAYMENT_SERVICE_URL", self.payment_port),
                ("INVENTORY_SERVICE_URL", self.inventory_port),
                ("SHIPPING_SERVICE_URL", self.shipping_port),
            ] {
                env.push((var.to_owned(), addrs.base_url(port)));
            }
            services.push(Service {
                name,
                port,
                port_option: "--gateway-port",
                binary: "shop",
                args: vec!["gateway".to_owned()],
                env,
            });
        }
        services
    }

    /// The commands to try.
    pub fn instructions(&self, addrs: &Addrs) -> String {
        let host = addrs.host();
        let gateway = format!("{host}:{}", self.gateway_ports[0]);
        let redis_cli = addrs.redis_cli();
        let json = "-H 'content-type: application/json'";
        let mut text = Text::default();
        text.line("");
        text.line("Try it (the gateways share their breakers and rate limit through Redis):");
        text.line(format!("  curl {gateway}/health"));
        text.line(format!("  curl {gateway}/api/inventory"));
        text.line("");
        text.line(
            "  # an order: prod-001 x 1 + prod-002 x 2 = 2800; the same key again charges nothing:",
        );
        text.line(format!(
            "  curl -X POST {gateway}/api/orders {json} -H 'Idempotency-Key: order-1' -d \
             '{{\"items\":[{{\"productId\":\"prod-001\",\"quantity\":1}},{{\"productId\":\"prod-002\",\"quantity\":2}}],\
             \"payment\":{{\"currency\":\"USD\",\"method\":\"credit_card\"}},\"shippingAddress\":\"1 Main St\"}}'"
        ));
        text.line("");
        text.line(
            "  # take payment down, order a few times: the payment-service circuit opens for",
        );
        text.line("  # every gateway; watch it in Redis; then bring payment back:");
        let faults = format!("curl -X PUT {host}:{}/faults {json} -d", self.payment_port);
        text.line(format!("  {faults} '{{\"down\":true}}'"));
        text.line(format!(
            "  {redis_cli} HGETALL 'breaker:{{payment-service}}'"
        ));
        text.line(format!(
            "  {redis_cli} SUBSCRIBE 'breaker:{{payment-service}}:events'"
        ));
        text.line(format!("  {faults} '{{\"down\":false}}'"));
        text.line("");
        text.line("  # shipping takes 10 requests a minute per client: the 11th answers 429:");
        text.line(format!(
            "  for i in $(seq 11); do curl -s -o /dev/null -w '%{{http_code}}\\n' -X POST \
             {gateway}/api/shipping {json} -d '{{\"orderId\":\"o-'$i'\",\"address\":\"1 Main St\",\
             \"items\":[{{\"productId\":\"prod-001\",\"quantity\":1}}]}}'; done"
        ));
        if self.gateway_ports.len() > 1 {
            text.line("");
            text.line("  # the other gateways answer the same, from the same breakers:");
            for port in &self.gateway_ports[1..] {
                text.line(format!("  curl {host}:{port}/health"));
            }
        }
        text.line("");
        text.line("Press Ctrl-C to stop everything.");
        text.into_string()
    }
}

/// Shipping believes `X-Forwarded-For` only from the gateways, which reach it from the address
/// the services are connected on.
fn trusted_proxies(addrs: &Addrs) -> String {
    let ip = addrs.connect_addr();
    if ip.is_loopback() {
        "loopback".to_owned()
    } else {
        format!("loopback,{ip}")
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{env, names_and_ports, parse, plan, refused};

    #[test]
    fn defaults_are_the_seed_ports_in_start_order() {
        let expected = [
            ("redis", 6379),
            ("payment", 3001),
            ("inventory", 3002),
            ("shipping", 3003),
            ("gateway-1", 3000),
        ]
        .map(|(n, p)| (n.to_owned(), p));
        assert_eq!(names_and_ports(&["shop"]), expected);
    }

    #[test]
    fn replicas_listen_ten_ports_apart_and_every_port_moves() {
        let ports = names_and_ports(&[
            "shop",
            "--gateway-replicas",
            "3",
            "--gateway-port",
            "4000",
            "--payment-port",
            "4001",
            "--inventory-port",
            "4002",
            "--shipping-port",
            "4003",
            "--redis-port",
            "4004",
        ]);
        let expected = [
            ("redis", 4004),
            ("payment", 4001),
            ("inventory", 4002),
            ("shipping", 4003),
            ("gateway-1", 4000),
            ("gateway-2", 4010),
            ("gateway-3", 4020),
        ]
        .map(|(n, p)| (n.to_owned(), p));
        assert_eq!(ports, expected);
    }

    #[test]
    fn each_process_gets_its_subcommand_and_variables() {
        let plan = plan(&["shop", "--gateway-replicas", "2", "--redis-port", "7000"]);
        let services = plan.services();
        let args: Vec<(&str, &str)> = services
            .iter()
            .map(|s| (s.binary, s.args[0].as_str()))
            .collect();
        assert_eq!(
            args,
            [
                ("shop", "payment"),
                ("shop", "inventory"),
                ("shop", "shipping"),
                ("shop", "gateway"),
                ("shop", "gateway")
            ]
        );
        let gateway_2 = &services[4];
        for (key, value) in [
            ("PORT", "3010"),
            ("INSTANCE_ID", "gateway-2"),
            ("BIND_ADDR", "127.0.0.1"),
            ("REDIS_URL", "redis://127.0.0.1:7000"),
            ("PAYMENT_SERVICE_URL", "http://127.0.0.1:3001"),
            ("INVENTORY_SERVICE_URL", "http://127.0.0.1:3002"),
            ("SHIPPING_SERVICE_URL", "http://127.0.0.1:3003"),
        ] {
            assert_eq!(env(gateway_2, key), Some(value), "{key}");
        }
        assert_eq!(
            env(&services[0], "REDIS_URL"),
            Some("redis://127.0.0.1:7000")
        );
        assert_eq!(
            env(&services[1], "REDIS_URL"),
            None,
            "inventory needs no Redis"
        );
        assert_eq!(env(&services[2], "TRUSTED_PROXIES"), Some("loopback"));
        assert_eq!(env(&services[2], "INSTANCE_ID"), Some("shipping"));
    }

    #[test]
    fn shipping_trusts_the_address_the_gateways_come_from() {
        let on_addr = plan(&["shop", "--bind-addr", "10.1.2.3"]);
        let shipping = &on_addr.services()[2];
        assert_eq!(env(shipping, "TRUSTED_PROXIES"), Some("loopback,10.1.2.3"));
        let wildcard = plan(&["shop", "--bind-addr", "0.0.0.0"]);
        assert_eq!(
            env(&wildcard.services()[2], "TRUSTED_PROXIES"),
            Some("loopback")
        );
    }

    #[test]
    fn a_port_used_twice_is_refused_across_every_service() {
        assert_eq!(
            refused(&["shop", "--gateway-replicas", "2", "--payment-port", "3010"]),
            "port 3010 is given to both payment and gateway-2; every port must differ"
        );
        assert_eq!(
            refused(&["shop", "--shipping-port", "3002"]),
            "port 3002 is given to both inventory and shipping; every port must differ"
        );
        assert_eq!(
            refused(&["shop", "--redis-port", "3000"]),
            "port 3000 is given to both redis and gateway-1; every port must differ"
        );
        assert_eq!(
            refused(&["shop", "--gateway-port", "3003"]),
            "port 3003 is given to both shipping and gateway-1; every port must differ"
        );
    }

    #[test]
    fn zero_replicas_port_zero_and_ports_past_the_end_are_refused() {
        assert_eq!(
            refused(&["shop", "--gateway-replicas", "0"]),
            "--gateway-replicas must be at least 1"
        );
        let err = refused(&["shop", "--gateway-port", "65530", "--gateway-replicas", "2"]);
        assert!(
            err.starts_with(
                "--gateway-replicas 2 from --gateway-port 65530 needs ports above 65535"
            ),
            "{err}"
        );
        for option in [
            "--gateway-port",
            "--payment-port",
            "--inventory-port",
            "--shipping-port",
        ] {
            assert!(parse(&["shop", option, "0"]).is_err(), "{option} 0");
        }
        assert!(parse(&["shop", "--gateway-replicas", "-1"]).is_err());
    }

    #[test]
    fn the_commands_name_our_ports_and_the_breaker_key() {
        let plan = plan(&["shop", "--gateway-replicas", "2", "--redis-port", "6390"]);
        let text = plan.system.instructions(&plan.addrs);
        for expected in [
            "  curl -X POST localhost:3000/api/orders -H 'content-type: application/json' \
             -H 'Idempotency-Key: order-1' -d '{\"items\":[{\"productId\":\"prod-001\",",
            "  curl -X PUT localhost:3001/faults -H 'content-type: application/json' -d \
             '{\"down\":true}'\n",
            "  redis-cli -p 6390 HGETALL 'breaker:{payment-service}'\n",
            "-X POST localhost:3000/api/shipping",
            "  curl localhost:3010/health\n",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }
}
