//! [`ChildProcess`]: a spawned program whose output is captured and which is killed on drop.

mod output;

use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::process::{descendants, signal_pid};
use output::Captured;

/// A child process for end-to-end tests, with stdout and stderr captured line by line.
///
/// Dropping it kills the process and everything it spawned (SIGKILL) and reaps it. Shell
/// wrappers are fine, though `exec` in them lets [`terminate`](Self::terminate) reach the real
/// program.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    pid: u32,
    child: Mutex<Child>,
    output: Arc<Captured>,
}

impl ChildProcess {
    /// Spawns `cmd` with stdin closed and stdout and stderr captured; `name` labels its lines
    /// and errors.
    pub fn spawn(mut cmd: Command, name: &str) -> anyhow::Result<Self> {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("spawning {name}: {cmd:?}"))?;
        let output = Arc::new(Captured::default());
        // The reader threads end at EOF; nothing joins them, so a grandchild that keeps the
        // pipe open cannot block a drop.
        if let Some(stdout) = child.stdout.take() {
            output.read("stdout", stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            output.read("stderr", stderr);
        }
        Ok(Self {
            name: name.to_owned(),
            pid: child.id(),
            child: Mutex::new(child),
            output,
        })
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Every stdout and stderr line so far, each prefixed with the name and the stream; meant
    /// for failure messages.
    pub fn output(&self) -> String {
        self.output.text(&self.name)
    }

    /// Blocks until a line containing `pattern` has been printed (searching all output so
    /// far, on either stream) and returns it. Fails at the deadline or when the output closes,
    /// with the output in the error.
    pub fn wait_for_line(&self, pattern: &str, deadline: Duration) -> anyhow::Result<String> {
        self.output.wait_for(&self.name, pattern, deadline)
    }

    /// [`wait_for_line`](Self::wait_for_line) on a blocking thread, for async tests.
    pub async fn wait_for_line_async(
        &self,
        pattern: &str,
        deadline: Duration,
    ) -> anyhow::Result<String> {
        let output = Arc::clone(&self.output);
        let (name, pattern) = (self.name.clone(), pattern.to_owned());
        tokio::task::spawn_blocking(move || output.wait_for(&name, &pattern, deadline))
            .await
            .context("the waiting thread panicked")?
    }

    /// Whether the process has not exited yet.
    pub fn is_running(&self) -> bool {
        matches!(self.child().try_wait(), Ok(None))
    }

    /// Sends SIGTERM (to the process only), e.g. to test graceful shutdown; see
    /// [`wait_exit`](Self::wait_exit).
    pub fn terminate(&self) -> anyhow::Result<()> {
        signal_pid("TERM", self.pid).with_context(|| format!("terminating {}", self.name))
    }

    /// Kills the process and its descendants with SIGKILL and reaps it.
    pub fn kill(&self) {
        let mut child = self.child();
        if matches!(child.try_wait(), Ok(None)) {
            // Listed before the kill: once the parent is gone they are re-parented away.
            let orphans = descendants(self.pid);
            let _ = child.kill();
            for pid in orphans {
                let _ = signal_pid("KILL", pid);
            }
        }
        let _ = child.wait();
    }

    /// Waits for the process to exit by itself, failing at the deadline with its output. Once
    /// it has exited, waits (up to a second) for the last lines it wrote to be captured, so that
    /// [`output`](Self::output) then holds all of them.
    pub fn wait_exit(&self, deadline: Duration) -> anyhow::Result<ExitStatus> {
        let end = Instant::now() + deadline;
        loop {
            if let Some(status) = self.child().try_wait()? {
                self.output.wait_closed(Duration::from_secs(1));
                return Ok(status);
            }
            if Instant::now() >= end {
                bail!(
                    "{} did not exit within {deadline:?}; output:\n{}",
                    self.name,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn child(&self) -> MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
