//! Running the real `demo` binary on free ports and reading what it printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use test_support::{ChildProcess, cargo_bin, free_port};

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
        let mut ports: Vec<u16> = Vec::new();
        while ports.len() < 4 {
            let port = free_port();
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
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
/// developer exported changes nothing, and short stop deadlines.
pub fn spawn_demo(bin_dir: &Path, args: &[String]) -> ChildProcess {
    let mut cmd = demo_command();
    cmd.args(args).arg("--bin-dir").arg(bin_dir).args([
        "--stop-timeout",
        "5s",
        "--startup-timeout",
        "30s",
    ]);
    ChildProcess::spawn(cmd, "demo").expect("spawning demo")
}

/// The demo binary with a clean environment.
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
        "LOG_FORMAT",
        "FAIL_EVERY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A `[demo] started <name> pid=<pid> port=<port>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub name: String,
    pub pid: u32,
    pub port: u16,
}

/// Every process the demo said it started, in order.
pub fn started(output: &str) -> Vec<Started> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.split_once("[demo] started ")?.1;
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
