//! Launching one `redis-server` process and waiting until it is ours and answers PING.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};

use super::builder::Tls;
use super::log::tail;

/// How long one start-up may take before it is treated as a hard failure.
pub(crate) const START_DEADLINE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);

/// Everything needed to (re)start one server; kept so `restart` can repeat it.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub(crate) program: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) log: PathBuf,
    pub(crate) port: u16,
    /// `Some` in cluster mode: the cluster bus port.
    pub(crate) cluster_port: Option<u16>,
    pub(crate) extra_args: Vec<String>,
    /// Extra environment of the process (libfaketime's, for a skewed clock).
    pub(crate) env: Vec<(String, String)>,
    /// TLS on `port` and no plain TCP; the harness uses a unix socket in `dir`.
    pub(crate) tls: Option<Tls>,
    /// The harness's own user and password, when the default user may not be used.
    pub(crate) admin: Option<(String, String)>,
}

/// Why one attempt failed.
pub(crate) enum Failure {
    /// The child exited or another server answered on the port: retrying elsewhere may work.
    PortTaken(anyhow::Error),
    /// Anything else, such as a start-up that hangs past the deadline.
    Fatal(anyhow::Error),
}

impl Launch {
    /// The harness's URL: TCP, or the unix socket of a TLS server; with the admin's
    /// credentials when there is one.
    pub(crate) fn url(&self) -> String {
        let auth = match &self.admin {
            Some((user, password)) => format!("{user}:{password}@"),
            None => String::new(),
        };
        match &self.tls {
            None => format!("redis://{auth}127.0.0.1:{}/", self.port),
            Some(_) => {
                let query = match &self.admin {
                    Some((user, password)) => format!("?user={user}&pass={password}"),
                    None => String::new(),
                };
                format!("redis+unix://{}{query}", self.socket().display())
            }
        }
    }

    /// `rediss://127.0.0.1:PORT/` for a TLS server.
    pub(crate) fn tls_url(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|_| format!("rediss://127.0.0.1:{}/", self.port))
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    fn command(&self) -> anyhow::Result<Command> {
        let mut cmd = Command::new(&self.program);
        match &self.tls {
            None => cmd.args(["--port", &self.port.to_string()]),
            Some(tls) => cmd
                .args(["--port", "0", "--tls-port", &self.port.to_string()])
                .arg("--unixsocket")
                .arg(self.socket())
                .arg("--tls-cert-file")
                .arg(&tls.cert)
                .arg("--tls-key-file")
                .arg(&tls.key)
                .arg("--tls-ca-cert-file")
                .arg(&tls.ca)
                .arg("--tls-auth-clients")
                .arg(if tls.auth_clients { "yes" } else { "no" }),
        };
        cmd.args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir);
        if let Some(bus) = self.cluster_port {
            cmd.args(["--cluster-enabled", "yes"])
                .arg("--cluster-config-file")
                .arg(self.dir.join("nodes.conf"))
                .args(["--cluster-port", &bus.to_string()]);
        }
        cmd.args(&self.extra_args);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        // No `--logfile`: the server logs to stdout, which goes to the file together with
        // anything it prints to stderr before logging is set up (such as config errors).
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let mut header = log.try_clone()?;
        writeln!(header, "--- test-support: starting {cmd:?}")?;
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        Ok(cmd)
    }

    /// Starts the server and waits until it answers PING with our child's pid.
    pub(crate) fn start(&self) -> Result<Child, Failure> {
        let mut child = self
            .command()
            .and_then(|mut cmd| cmd.spawn().context("spawning redis-server"))
            .map_err(Failure::Fatal)?;
        match self.wait_ready(&mut child) {
            Ok(()) => Ok(child),
            Err(failure) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(failure)
            }
        }
    }

    fn wait_ready(&self, child: &mut Child) -> Result<(), Failure> {
        let client = redis::Client::open(self.url())
            .context("parsing the server URL")
            .map_err(Failure::Fatal)?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().map_err(|e| Failure::Fatal(e.into()))? {
                let error = self.error(&format!("exited with {status}"));
                // A bad argument fails the same way on every port.
                if tail(&self.log, 10).contains("FATAL CONFIG FILE ERROR") {
                    return Err(Failure::Fatal(error));
                }
                return Err(Failure::PortTaken(error));
            }
            if let Ok(pid) = ping_and_pid(&client) {
                if pid == child.id() {
                    return Ok(());
                }
                return Err(Failure::PortTaken(self.error(&format!(
                    "another redis-server (pid {pid}) answered on the port"
                ))));
            }
            if started.elapsed() > START_DEADLINE {
                return Err(Failure::Fatal(
                    self.error(&format!("did not answer PING within {START_DEADLINE:?}")),
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn error(&self, what: &str) -> anyhow::Error {
        anyhow!(
            "redis-server on port {} {what}; log tail ({}):\n{}",
            self.port,
            self.log.display(),
            tail(&self.log, 30)
        )
    }
}

/// PINGs the server and returns the `process_id` from `INFO server`.
fn ping_and_pid(client: &redis::Client) -> anyhow::Result<u32> {
    let mut con = client.get_connection_with_timeout(Duration::from_millis(200))?;
    con.set_read_timeout(Some(Duration::from_millis(500)))?;
    let _: String = redis::cmd("PING").query(&mut con)?;
    let info: String = redis::cmd("INFO").arg("server").query(&mut con)?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .context("INFO server has no process_id")?
        .trim()
        .parse()
        .context("parsing process_id")
}

/// Where the log of a server living in `dir` goes.
pub(crate) fn log_path(dir: &Path) -> PathBuf {
    dir.join("redis.log")
}
