//! [`Child`]: one process the demo started, its output prefixed with its name.
//!
//! Each child gets its own process group, so a Ctrl-C in the terminal reaches only the demo,
//! which then stops the children in order; otherwise every child would get the SIGINT at the
//! same moment and the demo could not tell an expected exit from a crash.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use rustix::process::{Pid, Signal, kill_process};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::out;

/// Lines kept per child for the report when it dies.
const TAIL_LINES: usize = 20;

/// How long a SIGKILLed process may take to be reaped, or the output pipes to close.
const REAP_DEADLINE: Duration = Duration::from_secs(5);

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Prefix of its lines, e.g. `service-a-1`.
    pub name: String,
    /// The port it listens on (for messages).
    pub port: u16,
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables set on top of the demo's own environment.
    pub env: Vec<(String, String)>,
}

/// How a child ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// e.g. `exit status: 0`, `signal: 9 (SIGKILL)`.
    pub description: String,
}

impl Ended {
    fn from_wait(result: std::io::Result<ExitStatus>) -> Self {
        match result {
            Ok(status) => Self {
                description: status.to_string(),
            },
            Err(e) => Self {
                description: format!("cannot wait for it: {e}"),
            },
        }
    }
}

/// A child's exit, sent to the [`Fleet`](crate::fleet::Fleet).
#[derive(Debug, Clone)]
pub struct Exit {
    /// The child's name.
    pub name: String,
    /// How it ended.
    pub ended: Ended,
}

/// A started process. Its exit is watched by a task that owns the OS handle and kills the
/// process if the runtime goes away first.
#[derive(Debug)]
pub struct Child {
    spec: Spec,
    pid: u32,
    ended: watch::Receiver<Option<Ended>>,
    tail: Arc<Mutex<VecDeque<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Child {
    /// Starts `spec`; its exit is also sent to `exits`.
    pub fn spawn(spec: Spec, exits: mpsc::UnboundedSender<Exit>) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(&spec.program)
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} ({})", spec.name, spec.program.display()))?;
        let pid = child
            .id()
            .context("a process that was just started has no pid")?;
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(copy_lines(&spec.name, stdout, false, &tail));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(copy_lines(&spec.name, stderr, true, &tail));
        }
        let (ended_tx, ended) = watch::channel(None);
        let name = spec.name.clone();
        tokio::spawn(async move {
            let ended = Ended::from_wait(child.wait().await);
            let _ = ended_tx.send(Some(ended.clone()));
            let _ = exits.send(Exit { name, ended });
        });
        Ok(Self {
            spec,
            pid,
            ended,
            tail,
            readers,
        })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What it was started from, to start it again.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.spec.port
    }

    /// How it ended, if it has.
    pub fn ended(&self) -> Option<Ended> {
        self.ended.borrow().clone()
    }

    /// SIGTERM, then SIGKILL if it is still running after `deadline`; returns how it ended and
    /// whether it had to be killed. Returns at once for a process that already ended.
    pub async fn stop(&mut self, deadline: Duration) -> (Ended, bool) {
        if let Some(ended) = self.ended() {
            return (ended, false);
        }
        self.signal(Signal::TERM);
        if let Ok(ended) = tokio::time::timeout(deadline, self.wait()).await {
            return (ended, false);
        }
        self.signal(Signal::KILL);
        let ended = tokio::time::timeout(REAP_DEADLINE, self.wait())
            .await
            .unwrap_or_else(|_| Ended {
                description: format!("still running {REAP_DEADLINE:?} after SIGKILL"),
            });
        (ended, true)
    }

    async fn wait(&mut self) -> Ended {
        match self.ended.wait_for(Option::is_some).await {
            Ok(ended) => ended.clone().unwrap_or_else(lost),
            // The watching task is gone only if the runtime is shutting down.
            Err(_) => lost(),
        }
    }

    fn signal(&self, signal: Signal) {
        // The pid stays ours until the watching task reaps the process; a process that has
        // just exited makes this fail with ESRCH, which is what we wanted anyway.
        if let Some(pid) = i32::try_from(self.pid).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, signal);
        }
    }

    /// Waits (boundedly: a grandchild may hold a pipe open) until its output has been read to
    /// the end, so the last lines are printed and in [`last_lines`](Self::last_lines).
    pub async fn drain_output(&mut self) {
        let readers = std::mem::take(&mut self.readers);
        let _ = tokio::time::timeout(REAP_DEADLINE, futures_join(readers)).await;
    }

    /// Its last lines of output, oldest first, each indented for a report.
    pub fn last_lines(&self) -> String {
        let tail = lock(&self.tail);
        if tail.is_empty() {
            return "    (no output)".to_owned();
        }
        tail.iter()
            .map(|line| format!("    {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn lost() -> Ended {
    Ended {
        description: "its exit status was lost".to_owned(),
    }
}

async fn futures_join(handles: Vec<JoinHandle<()>>) {
    for handle in handles {
        let _ = handle.await;
    }
}

fn copy_lines(
    name: &str,
    stream: impl AsyncRead + Unpin + Send + 'static,
    stderr: bool,
    tail: &Arc<Mutex<VecDeque<String>>>,
) -> JoinHandle<()> {
    let name = name.to_owned();
    let tail = Arc::clone(tail);
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']);
                    out::child_line(&name, line, stderr);
                    let mut tail = lock(&tail);
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line.to_owned());
                }
            }
        }
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning would only mean a printing task panicked; the lines are still valid.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
