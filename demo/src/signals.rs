//! The signals that stop the demo: SIGINT (Ctrl-C), SIGTERM and SIGHUP (terminal closed).

use anyhow::Context;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Listeners for the stopping signals, installed once before the first process starts so that
/// a signal during start-up also stops what was started.
#[derive(Debug)]
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

impl Signals {
    /// Installs the handlers; from now on these signals no longer kill the demo outright.
    pub fn install() -> anyhow::Result<Self> {
        let listen = |kind: SignalKind| signal(kind).context("installing a signal handler");
        Ok(Self {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
            hangup: listen(SignalKind::hangup())?,
        })
    }

    /// The name of the next signal received.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }
}
