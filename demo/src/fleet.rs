//! [`Fleet`]: every process the demo started, in start order, restarted when one dies (at most
//! a limit of times a minute, after which it is left stopped and the others keep running).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::child::{Child, Exit, Spec};
use crate::out::say;

/// One process and its restarts.
#[derive(Debug)]
struct Slot {
    child: Child,
    started: Instant,
    backoff: Backoff,
    /// When it is to be started again, once it has died.
    restart_at: Option<Instant>,
    /// When it was restarted within the last [`RESTART_WINDOW`].
    recent_restarts: VecDeque<Instant>,
}

/// The window of the restart limit: a minute.
pub const RESTART_WINDOW: Duration = Duration::from_secs(60);

/// The started processes and one stream of their exits.
#[derive(Debug)]
pub struct Fleet {
    slots: Vec<Slot>,
    exits_tx: mpsc::UnboundedSender<Exit>,
    exits: mpsc::UnboundedReceiver<Exit>,
    /// Restarts of one process allowed within [`RESTART_WINDOW`]; `None` for no limit.
    restart_limit: Option<u32>,
}

impl Fleet {
    /// No processes yet.
    pub fn new() -> Self {
        let (exits_tx, exits) = mpsc::unbounded_channel();
        Self {
            slots: Vec::new(),
            exits_tx,
            exits,
            restart_limit: None,
        }
    }

    /// Restarts a process at most `limit` times within [`RESTART_WINDOW`]: one that dies more
    /// often is left stopped (and the rest keep running), because a service that keeps dying
    /// needs a person, and restarting it for ever only fills the log.
    pub fn with_restart_limit(mut self, limit: Option<u32>) -> Self {
        self.restart_limit = limit;
        self
    }

    /// Starts `spec` and prints `started <name> pid=<pid> port=<port>`; returns the pid.
    pub fn spawn(&mut self, spec: Spec) -> anyhow::Result<u32> {
        let child = Child::spawn(spec, self.exits_tx.clone())?;
        let pid = child.pid();
        say(format!(
            "started {} pid={pid} port={}",
            child.name(),
            child.port()
        ));
        self.slots.push(Slot {
            child,
            started: Instant::now(),
            backoff: Backoff::default(),
            restart_at: None,
            recent_restarts: VecDeque::new(),
        });
        Ok(pid)
    }

    /// The next exit of any child. Pending forever when none exits, which is what a
    /// `select!` against a signal wants.
    pub async fn next_exit(&mut self) -> Exit {
        match self.exits.recv().await {
            Some(exit) => exit,
            // Unreachable while `self` holds a sender; wait forever rather than invent an exit.
            None => std::future::pending().await,
        }
    }

    /// A report on an exit nobody asked for, with the child's last output lines.
    pub async fn describe_exit(&mut self, exit: &Exit) -> String {
        let mut text = format!(
            "{} exited unexpectedly ({})",
            exit.name, exit.ended.description
        );
        if let Some(slot) = self.slots.iter_mut().find(|s| s.child.name() == exit.name) {
            slot.child.drain_output().await;
            text.push_str(&format!(
                "; its last output lines:\n{}",
                slot.child.last_lines()
            ));
        }
        text
    }

    /// The last output lines of the child called `name`.
    pub fn last_lines(&self, name: &str) -> String {
        self.slots
            .iter()
            .find(|s| s.child.name() == name)
            .map_or_else(
                || "    (no such process)".to_owned(),
                |s| s.child.last_lines(),
            )
    }

    /// Plans the restart of the child that `exit` reports, after its back-off, and says so.
    pub fn schedule_restart(&mut self, exit: &Exit) {
        let Some(slot) = self.slots.iter_mut().find(|s| s.child.name() == exit.name) else {
            return;
        };
        let now = Instant::now();
        while slot
            .recent_restarts
            .front()
            .is_some_and(|&at| now.duration_since(at) >= RESTART_WINDOW)
        {
            slot.recent_restarts.pop_front();
        }
        let recent = u32::try_from(slot.recent_restarts.len()).unwrap_or(u32::MAX);
        if let Some(limit) = self.restart_limit.filter(|&limit| recent >= limit) {
            say(format!(
                "{} exited unexpectedly ({}); it was restarted {recent} times within the last \
                 minute, the limit (--max-restarts-per-minute {limit}): not restarting it again; \
                 the other processes keep running",
                exit.name, exit.ended.description
            ));
            return;
        }
        slot.recent_restarts.push_back(now);
        let (delay, n) = slot.backoff.after_exit(slot.started.elapsed());
        slot.restart_at = Some(Instant::now() + delay);
        say(format!(
            "{} exited unexpectedly ({}); restarting it in {} (restart {n})",
            exit.name,
            exit.ended.description,
            humantime::format_duration(delay)
        ));
    }

    /// When the next planned restart is due, if any.
    pub fn next_restart(&self) -> Option<Instant> {
        self.slots.iter().filter_map(|s| s.restart_at).min()
    }

    /// Starts again every child whose restart is due, printing
    /// `restarted <name> pid=<pid> port=<port>`. One that cannot be started is planned again.
    pub fn restart_due(&mut self) {
        let now = Instant::now();
        for slot in &mut self.slots {
            if slot.restart_at.is_none_or(|at| at > now) {
                continue;
            }
            slot.restart_at = None;
            let spec = slot.child.spec().clone();
            match Child::spawn(spec, self.exits_tx.clone()) {
                Ok(child) => {
                    say(format!(
                        "restarted {} pid={} port={}",
                        child.name(),
                        child.pid(),
                        child.port()
                    ));
                    slot.child = child;
                    slot.started = Instant::now();
                }
                Err(e) => {
                    let (delay, n) = slot.backoff.after_exit(Duration::ZERO);
                    slot.restart_at = Some(Instant::now() + delay);
                    say(format!(
                        "{e:#}; trying again in {} (restart {n})",
                        humantime::format_duration(delay)
                    ));
                }
            }
        }
    }

    /// Stops every child, the last started first (the replicas before the Redis they use),
    /// each with SIGTERM and, after `deadline`, SIGKILL.
    pub async fn stop_all(&mut self, deadline: Duration) {
        for slot in self.slots.iter_mut().rev() {
            let child = &mut slot.child;
            if let Some(ended) = child.ended() {
                say(format!(
                    "{} had already exited ({})",
                    child.name(),
                    ended.description
                ));
                continue;
            }
            say(format!("stopping {} (pid {})", child.name(), child.pid()));
            let (ended, killed) = child.stop(deadline).await;
            child.drain_output().await;
            if killed {
                say(format!(
                    "{} did not stop within {deadline:?} of SIGTERM; killed it ({})",
                    child.name(),
                    ended.description
                ));
            } else {
                say(format!("stopped {} ({})", child.name(), ended.description));
            }
        }
    }
}
