//! `lab`: the user service, the order service (its user lookup behind the breaker
//! `user-service`) and the dashboard, all from the one `lab` binary (`lab <service>`), plus a
//! real Prometheus scraping the three when Debian's `prometheus` is installed.

use std::net::IpAddr;

use clap::Args;

use super::{SystemPlan, Text};
use crate::cli::{Common, port};
use crate::plan::{Addrs, Plan, Service};

/// The binary, which is also the package that builds it.
pub const BINARIES: &[&str] = &["lab"];

/// How often Prometheus scrapes the services.
pub const SCRAPE_INTERVAL: &str = "5s";

/// `lab`'s options.
#[derive(Debug, Clone, Args)]
pub struct LabArgs {
    /// The options every system has.
    #[command(flatten)]
    pub common: Common,

    /// Port of the user service.
    #[arg(long, env = "DEMO_USER_PORT", default_value_t = 5001, value_parser = port())]
    pub user_port: u16,

    /// Port of the order service.
    #[arg(long, env = "DEMO_ORDER_PORT", default_value_t = 5002, value_parser = port())]
    pub order_port: u16,

    /// Port of the dashboard.
    #[arg(long, env = "DEMO_DASHBOARD_PORT", default_value_t = 8080, value_parser = port())]
    pub dashboard_port: u16,

    /// Port of Prometheus, started when `prometheus` is installed.
    #[arg(long, env = "DEMO_PROMETHEUS_PORT", default_value_t = 9090, value_parser = port())]
    pub prometheus_port: u16,

    /// Do not start Prometheus even when it is installed.
    #[arg(long, env = "DEMO_NO_PROMETHEUS")]
    pub no_prometheus: bool,
}

/// `lab`'s validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabPlan {
    /// The user service's port.
    pub user_port: u16,
    /// The order service's port.
    pub order_port: u16,
    /// The dashboard's port.
    pub dashboard_port: u16,
    /// Prometheus' port, unless `--no-prometheus`.
    pub prometheus_port: Option<u16>,
}

impl LabArgs {
    /// The plan.
    pub fn into_plan(self) -> anyhow::Result<Plan> {
        self.common.into_plan(SystemPlan::Lab(LabPlan {
            user_port: self.user_port,
            order_port: self.order_port,
            dashboard_port: self.dashboard_port,
            prometheus_port: (!self.no_prometheus).then_some(self.prometheus_port),
        }))
    }
}

impl LabPlan {
    /// user, order (which looks users up), then the dashboard (which watches both).
    pub fn services(&self, addrs: &Addrs) -> Vec<Service> {
        let service = |name: &str, port: u16, option: &'static str| Service {
            name: name.to_owned(),
            port,
            port_option: option,
            binary: "lab",
            args: vec![name.to_owned()],
            env: addrs.server_env(name, port),
        };
        let user_url = (
            "USER_SERVICE_URL".to_owned(),
            addrs.base_url(self.user_port),
        );
        let user = service("user", self.user_port, "--user-port");
        let mut order = service("order", self.order_port, "--order-port");
        order.env.push(("REDIS_URL".to_owned(), addrs.redis_url()));
        order.env.push(user_url.clone());
        let mut dashboard = service("dashboard", self.dashboard_port, "--dashboard-port");
        dashboard.env.push(user_url);
        dashboard.env.push((
            "ORDER_SERVICE_URL".to_owned(),
            addrs.base_url(self.order_port),
        ));
        vec![user, order, dashboard]
    }

    /// The native Prometheus configuration: every service of the plan, scraped on the
    /// address the services are reached at. With the default ports it is the repository's
    /// `prometheus/prometheus.native.yml`.
    pub fn prometheus_config(&self, addrs: &Addrs) -> String {
        let host = match addrs.connect_addr() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        let mut text = Text::default();
        text.line(
            "# The lab's services as `demo lab` runs them natively (127.0.0.1, default ports).",
        );
        text.line("# `demo lab` writes this file with the ports it was given.");
        text.line("global:");
        text.line(format!("  scrape_interval: {SCRAPE_INTERVAL}"));
        text.line(format!("  evaluation_interval: {SCRAPE_INTERVAL}"));
        text.line("scrape_configs:");
        for (job, port) in [
            ("user-service", self.user_port),
            ("order-service", self.order_port),
            ("dashboard", self.dashboard_port),
        ] {
            text.line(format!("  - job_name: {job}"));
            text.line("    static_configs:");
            text.line(format!("      - targets: ['{host}:{port}']"));
        }
        text.into_string()
    }

    /// The commands to try.
    pub fn instructions(&self, addrs: &Addrs) -> String {
        let host = addrs.host();
        let (user, order) = (
            format!("{host}:{}", self.user_port),
            format!("{host}:{}", self.order_port),
        );
        let json = "-H 'content-type: application/json'";
        let create = format!(
            "curl -i -X POST {order}/create_order {json} -d '{{\"user_id\":1,\"product\":\"Book\"}}'"
        );
        let mut text = Text::default();
        text.line("");
        text.line("Try it:");
        text.line(format!("  curl {user}/users/1"));
        text.line(format!("  {create}"));
        text.line(format!("  curl {order}/orders"));
        text.line(format!(
            "  # the dashboard: http://{host}:{}/",
            self.dashboard_port
        ));
        text.line("");
        text.line("  # take the user service down: three lookups (3 attempts each) fail with 503,");
        text.line("  # then the circuit is open and answers at once with Retry-After:");
        let faults = format!("curl -X PUT {user}/faults {json} -d");
        text.line(format!("  {faults} '{{\"down\":true}}'"));
        text.line(format!("  for i in 1 2 3 4; do {create}; done"));
        text.line(format!(
            "  {} HGETALL 'breaker:{{user-service}}'",
            addrs.redis_cli()
        ));
        text.line(format!("  {faults} '{{\"down\":false}}'"));
        if let Some(port) = self.prometheus_port {
            text.line("");
            text.line("  # Prometheus (when installed): the targets and the breaker's series:");
            text.line(format!("  curl -s {host}:{port}/api/v1/targets"));
            text.line(format!(
                "  curl -s '{host}:{port}/api/v1/query?query=breaker_state'"
            ));
        }
        text.line("");
        text.line("  # scripts/health-check lab; scripts/chaos lab --rounds 5 --interval 10s");
        text.line("");
        text.line("Press Ctrl-C to stop everything.");
        text.into_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{names_and_ports, plan, refused};
    use crate::systems::SystemPlan;

    #[test]
    fn the_lab_runs_on_the_seed_ports_and_moves_with_its_options() {
        let default = plan(&["lab"]);
        let ports = names_and_ports(&["lab"]);
        let expected = [
            ("redis", 6379),
            ("user", 5001),
            ("order", 5002),
            ("dashboard", 8080),
            ("prometheus", 9090),
        ];
        let expected: Vec<(String, u16)> = expected
            .iter()
            .map(|(n, p)| ((*n).to_owned(), *p))
            .collect();
        assert_eq!(ports, expected);
        let SystemPlan::Lab(lab) = &default.system else {
            panic!("not the lab");
        };
        assert_eq!(lab.prometheus_port, Some(9090));
        let moved = plan(&["lab", "--user-port", "6001", "--no-prometheus"]);
        let SystemPlan::Lab(lab) = &moved.system else {
            panic!("not the lab");
        };
        assert_eq!((lab.user_port, lab.prometheus_port), (6001, None));
        let order = &moved.services()[1];
        assert!(
            order.env.contains(&(
                "USER_SERVICE_URL".to_owned(),
                "http://127.0.0.1:6001".to_owned()
            )),
            "{order:?}"
        );
        let err = refused(&["lab", "--order-port", "5001"]);
        assert!(
            err.contains("port 5001 is given to both user and order"),
            "{err}"
        );
    }

    #[test]
    fn prometheus_needs_a_port_of_its_own_unless_it_is_off() {
        let err = refused(&["lab", "--prometheus-port", "5002"]);
        assert!(
            err.contains("port 5002 is given to both order and prometheus"),
            "{err}"
        );
        let off = plan(&["lab", "--prometheus-port", "5002", "--no-prometheus"]);
        assert!(off.ports().iter().all(|p| p.name != "prometheus"));
    }

    #[test]
    fn the_native_prometheus_configuration_is_the_repository_s() {
        let plan = plan(&["lab"]);
        let SystemPlan::Lab(lab) = &plan.system else {
            panic!("not the lab");
        };
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../prometheus/prometheus.native.yml"
        );
        let stored = std::fs::read_to_string(file).expect("the repository's native configuration");
        assert_eq!(lab.prometheus_config(&plan.addrs), stored);
    }
}
