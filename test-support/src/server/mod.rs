//! [`RedisServer`]: one real `redis-server` process on a free port, killed on drop.

mod builder;
mod faketime;
pub use faketime::faketime_library;
pub(crate) mod log;
mod spawn;

use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use anyhow::Context;
use tempfile::TempDir;

pub use builder::RedisServerBuilder;
use spawn::{Failure, Launch};

use crate::ports::try_free_port;
use crate::process::{require_redis_program, signal_pid};

const DEFAULT_ATTEMPTS: u32 = 5;

/// A `redis-server` child process bound to 127.0.0.1 on a free port, with its own temp dir and
/// no persistence.
///
/// Dropping it kills the process (resuming it first if paused), reaps it and removes the temp
/// dir. The fault methods ([`kill`](Self::kill), [`restart`](Self::restart),
/// [`pause`](Self::pause), [`resume`](Self::resume)) act on the real process.
#[derive(Debug)]
pub struct RedisServer {
    launch: Launch,
    pid: u32,
    child: Mutex<Option<Child>>,
    paused: AtomicBool,
    // Dropped last (fields drop in order), after the process is gone.
    _dir: TempDir,
}

impl RedisServer {
    /// Starts a standalone server and waits until it answers PING.
    ///
    /// Picks a free port by binding 127.0.0.1:0 (`--port 0` would disable TCP instead), and
    /// tries another port if the server exits or another server answers there. The error of a
    /// failed start includes the tail of the server's log.
    pub fn start() -> anyhow::Result<Self> {
        Self::builder().start()
    }

    /// Starts a server with extra `redis-server` arguments, e.g. `&["--maxmemory", "1mb"]`.
    pub fn start_with(args: &[&str]) -> anyhow::Result<Self> {
        Self::builder().args(args.iter().copied()).start()
    }

    /// Options for starting a server.
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::default()
    }

    fn launch(options: RedisServerBuilder) -> anyhow::Result<Self> {
        let program = require_redis_program("redis-server")?;
        let dir = tempfile::Builder::new()
            .prefix("test-support-redis-")
            .tempdir()
            .context("creating a temp dir for redis-server")?;
        let mut launch = Launch {
            program,
            dir: dir.path().to_path_buf(),
            log: spawn::log_path(dir.path()),
            port: 0,
            cluster_port: None,
            extra_args: options.extra_args,
            tls: options.tls,
            admin: options.admin,
            env: match options.clock_offset {
                Some(seconds) => faketime::env(seconds)?,
                None => Vec::new(),
            },
        };
        let attempts = options.attempts.unwrap_or(DEFAULT_ATTEMPTS);
        let mut last_error = None;
        for _ in 0..attempts {
            launch.port = try_free_port().context("finding a free port")?;
            if options.cluster {
                launch.cluster_port = Some(try_free_port().context("finding a free bus port")?);
            }
            match launch.start() {
                Ok(child) => {
                    return Ok(Self {
                        pid: child.id(),
                        launch,
                        child: Mutex::new(Some(child)),
                        paused: AtomicBool::new(false),
                        _dir: dir,
                    });
                }
                Err(Failure::PortTaken(e)) => {
                    tracing::debug!(error = %e, "redis-server did not start, trying another port");
                    last_error = Some(e);
                }
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
        let error = last_error.context("no start attempt was made")?;
        Err(error.context(format!("redis-server failed to start {attempts} times")))
    }

    /// `redis://127.0.0.1:PORT/` (with the [`admin`](RedisServerBuilder::admin)'s credentials
    /// when set); for a TLS server, its unix socket (`redis+unix://...`), which the harness
    /// and tests use to look at and change the server.
    pub fn url(&self) -> String {
        self.launch.url()
    }

    /// `rediss://127.0.0.1:PORT/` for a server started with
    /// [`tls`](RedisServerBuilder::tls); `None` otherwise.
    pub fn tls_url(&self) -> Option<String> {
        self.launch.tls_url()
    }

    /// `redis://user:password@127.0.0.1:PORT/`: a client of this server logging in as `user`.
    pub fn url_as(&self, user: &str, password: &str) -> String {
        format!("redis://{user}:{password}@127.0.0.1:{}/", self.port())
    }

    /// The TCP port, which stays the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.launch.port
    }

    /// The cluster bus port, in cluster mode.
    pub fn cluster_port(&self) -> Option<u16> {
        self.launch.cluster_port
    }

    /// The pid of the current (or last) server process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// A client for [`url`](Self::url).
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("the harness URL is valid")
    }

    /// The last 30 lines of the server's log (stdout and stderr), for failure messages.
    pub fn log_tail(&self) -> String {
        log::tail(&self.launch.log, 30)
    }

    /// Whether the process is alive (a paused process counts as running).
    pub fn is_running(&self) -> bool {
        match self.child().as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the process with SIGKILL and waits for it to exit; no-op if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Starts the server again on the same port (killing it first if it runs), with empty data,
    /// and waits until it answers PING.
    ///
    /// In cluster mode the node keeps its `nodes.conf`, so it rejoins with its old slots.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let mut last_error = None;
        // The port is normally free again at once (Redis sets SO_REUSEADDR); a few attempts
        // cover the rare case where a client briefly holds it.
        for _ in 0..DEFAULT_ATTEMPTS {
            match self.launch.start() {
                Ok(child) => {
                    self.pid = child.id();
                    *self.child() = Some(child);
                    return Ok(());
                }
                Err(Failure::PortTaken(e)) => last_error = Some(e),
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
        let error = last_error.context("no restart attempt was made")?;
        Err(error.context(format!("restarting redis-server on port {}", self.port())))
    }

    /// Freezes the process with SIGSTOP: connections stay open (the kernel still accepts new
    /// ones) but nothing is answered, like a stalled server.
    ///
    /// # Panics
    ///
    /// If the signal cannot be sent, e.g. the process was killed.
    pub fn pause(&self) {
        signal_pid("STOP", self.pid).expect("sending SIGSTOP to redis-server");
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Resumes a paused process with SIGCONT.
    ///
    /// # Panics
    ///
    /// If the signal cannot be sent.
    pub fn resume(&self) {
        signal_pid("CONT", self.pid).expect("sending SIGCONT to redis-server");
        self.paused.store(false, Ordering::SeqCst);
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        // A poisoned lock only means a panic elsewhere; the Child inside is still usable.
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.paused.load(Ordering::SeqCst) && self.is_running() {
            let _ = signal_pid("CONT", self.pid);
        }
        self.kill();
    }
}
