//! Polling a condition with a deadline, instead of sleeping a fixed time.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::bail;

/// Pause between two checks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(15);

/// Calls `f` every [`POLL_INTERVAL`] until it returns `true`, failing with an error naming
/// `what` once `deadline` has passed.
///
/// A call to `f` that is still pending at the deadline is cancelled, so a condition that hangs
/// (a PING to a stalled server) cannot hang the test. Uses real tokio time: do not combine with
/// `tokio::time::pause`.
pub async fn wait_until<F, Fut>(deadline: Duration, what: &str, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        match tokio::time::timeout_at(end, f()).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(_) => break,
        }
        let now = tokio::time::Instant::now();
        if now >= end {
            break;
        }
        // The last check happens right at the deadline.
        tokio::time::sleep_until((now + POLL_INTERVAL).min(end)).await;
    }
    bail!("timed out after {deadline:?} waiting for {what}")
}

/// Blocking version of [`wait_until`] for plain tests. A call to `f` that blocks is not
/// interrupted, so give the operations inside `f` their own timeouts.
pub fn wait_until_blocking<F>(deadline: Duration, what: &str, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> bool,
{
    let end = Instant::now() + deadline;
    loop {
        if f() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= end {
            bail!("timed out after {deadline:?} waiting for {what}");
        }
        std::thread::sleep(POLL_INTERVAL.min(end - now));
    }
}
