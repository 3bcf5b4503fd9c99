//! The proxy's switchboard, shared with every connection through a `watch` channel.

use std::time::Duration;

use tokio::sync::watch;

/// What the proxy does with bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Forward bytes (after the delay).
    Forward,
    /// Keep connections open but hold every byte.
    Blackhole,
    /// Close connections, accept-then-drop new ones.
    Broken,
    /// The proxy was dropped.
    Stopped,
}

/// The current settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Control {
    pub(crate) mode: Mode,
    pub(crate) delay: Duration,
    /// Bumped by every `break_all`, so that connections opened before it close even if
    /// `restore` follows before they notice the `Broken` mode.
    pub(crate) epoch: u64,
}

impl Control {
    pub(crate) fn new() -> Self {
        Self {
            mode: Mode::Forward,
            delay: Duration::ZERO,
            epoch: 0,
        }
    }

    /// Whether a connection opened in `epoch` must close now.
    pub(crate) fn cuts(&self, epoch: u64) -> bool {
        matches!(self.mode, Mode::Broken | Mode::Stopped) || self.epoch != epoch
    }
}

/// Resolves once a connection opened in `epoch` must close (or the proxy is gone).
pub(crate) async fn cut(ctl: &mut watch::Receiver<Control>, epoch: u64) {
    let _ = ctl.wait_for(|c| c.cuts(epoch)).await;
}

/// Waits while blackholed; returns the delay to apply, or `None` if the connection must close.
pub(crate) async fn may_forward(
    ctl: &mut watch::Receiver<Control>,
    epoch: u64,
) -> Option<Duration> {
    let control = *ctl
        .wait_for(|c| c.cuts(epoch) || c.mode == Mode::Forward)
        .await
        .ok()?;
    (!control.cuts(epoch)).then_some(control.delay)
}
