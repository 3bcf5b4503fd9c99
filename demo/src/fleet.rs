//! [`Fleet`]: every process the demo started, in start order.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::child::{Child, Exit, Spec};
use crate::out::say;

/// The started processes and one stream of their exits.
#[derive(Debug)]
pub struct Fleet {
    children: Vec<Child>,
    exits_tx: mpsc::UnboundedSender<Exit>,
    exits: mpsc::UnboundedReceiver<Exit>,
}

impl Fleet {
    /// No processes yet.
    pub fn new() -> Self {
        let (exits_tx, exits) = mpsc::unbounded_channel();
        Self {
            children: Vec::new(),
            exits_tx,
            exits,
        }
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
        self.children.push(child);
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
        if let Some(child) = self.children.iter_mut().find(|c| c.name() == exit.name) {
            child.drain_output().await;
            text.push_str(&format!("; its last output lines:\n{}", child.last_lines()));
        }
        text
    }

    /// The last output lines of the child called `name`.
    pub fn last_lines(&self, name: &str) -> String {
        self.children
            .iter()
            .find(|c| c.name() == name)
            .map_or_else(|| "    (no such process)".to_owned(), |c| c.last_lines())
    }

    /// Stops every child, the last started first (the replicas before the Redis they use),
    /// each with SIGTERM and, after `deadline`, SIGKILL.
    pub async fn stop_all(&mut self, deadline: Duration) {
        for child in self.children.iter_mut().rev() {
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
