//! The shutdown signal: SIGINT or SIGTERM.

use std::fmt;
use std::future::Future;

/// Which signal asked us to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`docker stop`, `kill`).
    Terminate,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        })
    }
}

/// A future that resolves on the first SIGINT or SIGTERM, logging which.
///
/// The handlers are installed when this function is called, not when the future is first polled,
/// so a signal that arrives between the call and the first poll is not lost (and does not kill
/// the process with the default action). A handler that cannot be installed is logged and that
/// signal is ignored.
pub fn signal() -> impl Future<Output = Signal> + Send + 'static {
    let waiting = imp::Waiting::install();
    async move {
        let signal = waiting.recv().await;
        tracing::info!(%signal, "shutdown signal received");
        signal
    }
}

#[cfg(unix)]
mod imp {
    use tokio::signal::unix::{self, SignalKind};

    use super::Signal;

    pub(super) struct Waiting {
        interrupt: Option<unix::Signal>,
        terminate: Option<unix::Signal>,
    }

    impl Waiting {
        pub(super) fn install() -> Self {
            Self {
                interrupt: listen(SignalKind::interrupt(), "SIGINT"),
                terminate: listen(SignalKind::terminate(), "SIGTERM"),
            }
        }

        pub(super) async fn recv(mut self) -> Signal {
            tokio::select! {
                _ = next(&mut self.interrupt) => Signal::Interrupt,
                _ = next(&mut self.terminate) => Signal::Terminate,
            }
        }
    }

    fn listen(kind: SignalKind, name: &str) -> Option<unix::Signal> {
        unix::signal(kind)
            .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for {name}"))
            .ok()
    }

    async fn next(signal: &mut Option<unix::Signal>) {
        match signal {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use super::Signal;

    pub(super) struct Waiting;

    impl Waiting {
        pub(super) fn install() -> Self {
            Self
        }

        pub(super) async fn recv(self) -> Signal {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            Signal::Interrupt
        }
    }
}
