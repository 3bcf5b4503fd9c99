//! Running the real `demo` binary on free ports and reading what it printed.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use test_support::{
    ChildProcess, cargo_bin, free_port, free_ports, free_ports_besides, wait_until,
};

/// How long the demo may take to print `ready:` (debug binaries start in well under a second).
pub const READY: Duration = Duration::from_secs(60);

/// How long the demo may take to exit once it has a reason to.
pub const EXIT: Duration = Duration::from_secs(30);

/// Distinct free loopback ports for Redis, service-b and the two replicas.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub redis: u16,
    pub b: u16,
    pub a: [u16; 2],
}

impl Ports {
    pub fn free() -> Self {
        let ports = free_ports(4);
        Self {
            redis: ports[0],
            b: ports[1],
            a: [ports[2], ports[3]],
        }
    }

    /// The `demo` arguments for these ports, with a private Redis.
    pub fn args(&self) -> Vec<String> {
        let mut args = self.service_args();
        args.extend(["--redis-port".to_owned(), self.redis.to_string()]);
        args
    }

    /// The arguments for the services only, for use with `--redis-url`.
    pub fn service_args(&self) -> Vec<String> {
        vec![
            "--service-b-port".to_owned(),
            self.b.to_string(),
            "--service-a-ports".to_owned(),
            format!("{},{}", self.a[0], self.a[1]),
        ]
    }
}

/// Distinct free loopback ports for the shop with two gateways: the second gateway listens 10
/// ports above the first, as the demo places replicas.
#[derive(Debug, Clone, Copy)]
pub struct ShopPorts {
    pub redis: u16,
    pub payment: u16,
    pub inventory: u16,
    pub shipping: u16,
    pub gateways: [u16; 2],
}

impl ShopPorts {
    pub fn free() -> Self {
        let gateway = loop {
            let port = free_port();
            if port.checked_add(10).is_some_and(is_free) {
                break port;
            }
        };
        let gateways = [gateway, gateway + 10];
        let taken = free_ports_besides(4, &gateways);
        Self {
            gateways,
            payment: taken[0],
            inventory: taken[1],
            shipping: taken[2],
            redis: taken[3],
        }
    }

    /// `shop --gateway-replicas 2` and every port option.
    pub fn args(&self) -> Vec<String> {
        [
            "shop",
            "--gateway-replicas",
            "2",
            "--gateway-port",
            &self.gateways[0].to_string(),
            "--payment-port",
            &self.payment.to_string(),
            "--inventory-port",
            &self.inventory.to_string(),
            "--shipping-port",
            &self.shipping.to_string(),
            "--redis-port",
            &self.redis.to_string(),
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

/// Distinct free loopback ports for the chain.
#[derive(Debug, Clone, Copy)]
pub struct ChainPorts {
    pub redis: u16,
    pub user: u16,
    pub order: u16,
    pub inventory: u16,
}

impl ChainPorts {
    pub fn free() -> Self {
        let ports = free_ports(4);
        Self {
            redis: ports[0],
            user: ports[1],
            order: ports[2],
            inventory: ports[3],
        }
    }

    /// `chain` and every port option.
    pub fn args(&self) -> Vec<String> {
        [
            "chain",
            "--user-port",
            &self.user.to_string(),
            "--order-port",
            &self.order.to_string(),
            "--inventory-port",
            &self.inventory.to_string(),
            "--redis-port",
            &self.redis.to_string(),
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

fn is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// The directory of the real `shop` binary (panics naming the build command if missing).
pub fn shop_bin_dir() -> PathBuf {
    let shop = cargo_bin("shop");
    shop.parent()
        .expect("a binary has a directory")
        .to_path_buf()
}

/// The directory of the real `chain` binary (panics naming the build command if missing).
pub fn chain_bin_dir() -> PathBuf {
    let chain = cargo_bin("chain");
    chain
        .parent()
        .expect("a binary has a directory")
        .to_path_buf()
}

/// The directory of the real `service-a` and `service-b` (panics naming the build command if
/// either is missing).
pub fn service_bin_dir() -> PathBuf {
    let a = cargo_bin("service-a");
    let b = cargo_bin("service-b");
    let dir = a.parent().expect("a binary has a directory").to_path_buf();
    assert_eq!(b.parent(), Some(dir.as_path()), "service-a and service-b");
    dir
}

/// `demo <args> --bin-dir <bin_dir>` with the variables it reads removed, so that what the
/// developer exported changes nothing, and short stop deadlines. The fleet dashboard is on
/// only when `args` give it a port (see [`demo_command`]).
pub fn spawn_demo(bin_dir: &Path, args: &[String]) -> ChildProcess {
    let mut cmd = demo_command();
    if args.iter().any(|a| a == "--fleet-dashboard-port") {
        cmd.env_remove(NO_FLEET_DASHBOARD);
    }
    cmd.args(args).arg("--bin-dir").arg(bin_dir).args([
        "--stop-timeout",
        "5s",
        "--startup-timeout",
        "30s",
    ]);
    ChildProcess::spawn(cmd, "demo").expect("spawning demo")
}

/// The demo binary with a clean environment, without the fleet dashboard.
pub fn demo_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_demo"));
    for var in [
        "REDIS_URL",
        "ADMIN_TOKEN",
        "DEMO_REDIS_PORT",
        "DEMO_SERVICE_B_PORT",
        "DEMO_SERVICE_A_PORTS",
        "DEMO_BIND_ADDR",
        "DEMO_BIN_DIR",
        "DEMO_NO_BUILD",
        "DEMO_GATEWAY_PORT",
        "DEMO_GATEWAY_REPLICAS",
        "DEMO_PAYMENT_PORT",
        "DEMO_INVENTORY_PORT",
        "DEMO_SHIPPING_PORT",
        "TRUSTED_PROXIES",
        "PAYMENT_SERVICE_URL",
        "INVENTORY_SERVICE_URL",
        "SHIPPING_SERVICE_URL",
        "LOG_FORMAT",
        "FAIL_EVERY",
        "DEMO_DISCOVERY_PORT",
        "DEMO_USER_PORTS",
        "DEMO_ORDER_PORTS",
        "DEMO_HEARTBEAT_INTERVAL",
        "DISCOVERY_URL",
        "HEARTBEAT_INTERVAL",
        "DEMO_USER_PORT",
        "DEMO_ORDER_PORT",
        "ORDER_SERVICE_URL",
        "CALL_TIMEOUT",
        "DEMO_FLEET_DASHBOARD_PORT",
    ] {
        cmd.env_remove(var);
    }
    // The fleet dashboard's default port would be shared by the tests running at once.
    cmd.env(NO_FLEET_DASHBOARD, "true");
    cmd
}

/// The variable that turns the fleet dashboard off, whatever the position of the system.
const NO_FLEET_DASHBOARD: &str = "DEMO_NO_FLEET_DASHBOARD";

/// A `[demo] started <name> pid=<pid> port=<port>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub name: String,
    pub pid: u32,
    pub port: u16,
}

/// Every process the demo said it started, in order.
pub fn started(output: &str) -> Vec<Started> {
    processes(output, "[demo] started ")
}

/// Every process the demo said it restarted, in order.
pub fn restarted(output: &str) -> Vec<Started> {
    processes(output, "[demo] restarted ")
}

fn processes(output: &str, prefix: &str) -> Vec<Started> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.split_once(prefix)?.1;
            let mut words = rest.split_whitespace();
            let name = words.next()?.to_owned();
            let pid = words.next()?.strip_prefix("pid=")?.parse().ok()?;
            let port = words.next()?.strip_prefix("port=")?.parse().ok()?;
            Some(Started { name, pid, port })
        })
        .collect()
}

/// The names of `started`, for comparisons.
pub fn names(started: &[Started]) -> Vec<&str> {
    started.iter().map(|s| s.name.as_str()).collect()
}

/// Waits for the demo to exit, from an async test.
pub fn wait_exit(demo: &ChildProcess) -> std::process::ExitStatus {
    tokio::task::block_in_place(|| demo.wait_exit(EXIT)).expect("the demo exits")
}

/// Asserts that none of `started` is still running.
pub fn assert_all_gone(started: &[Started], demo: &ChildProcess) {
    for process in started {
        assert!(
            !test_support::process_exists(process.pid),
            "{} (pid {}) is still running after the demo exited; output:\n{}",
            process.name,
            process.pid,
            demo.output()
        );
    }
}

/// `GET http://127.0.0.1:<port><path>`'s status.
pub async fn get_status(http: &reqwest::Client, port: u16, path: &str) -> reqwest::StatusCode {
    http.get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET :{port}{path}: {e}"))
        .status()
}

/// A client that never goes through a proxy and gives up after 5 s.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("building an HTTP client")
}

/// SIGKILL to `pid`, as a crash would end it.
pub fn kill(pid: u32) {
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(killed.success(), "kill -KILL {pid}");
}

/// Waits until `GET /health` on `port` answers 200.
pub async fn wait_healthy(port: u16) {
    let http = http();
    wait_until(READY, &format!("GET :{port}/health answers 200"), || {
        let request = http.get(format!("http://127.0.0.1:{port}/health")).send();
        async move {
            request
                .await
                .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
}
