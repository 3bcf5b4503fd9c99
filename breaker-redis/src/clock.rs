//! The time a breaker's decisions are made at.
//!
//! In production the store decides (Redis `TIME` inside the script), so replicas with skewed
//! clocks agree. Tests use a [`ManualClock`] to drive the state machine without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Where a breaker's `now` comes from.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The store's own clock: Redis `TIME`, or this machine's clock for in-memory state.
    #[default]
    Store,
    /// A clock that moves only when told to.
    Manual(ManualClock),
}

impl Clock {
    /// The time passed to the store: `None` lets the store use its own clock.
    pub fn now_ms(&self) -> Option<u64> {
        match self {
            Clock::Store => None,
            Clock::Manual(m) => Some(m.now_ms()),
        }
    }
}

/// A shared, manually advanced clock in milliseconds since the epoch.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        ManualClock {
            ms: Arc::new(AtomicU64::new(start_ms)),
        }
    }

    /// The current reading.
    pub fn now_ms(&self) -> u64 {
        self.ms.load(Ordering::SeqCst)
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.ms.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, ms: u64) {
        self.ms.store(ms, Ordering::SeqCst);
    }
}

/// Milliseconds on a monotonic clock that starts with the process (at 1, not 0, so that no
/// reading looks like an unset deadline). The degraded mode's local breaker runs on it: only
/// this process compares its readings, and a wall clock stepped backwards would keep a local
/// circuit open for as long as the step.
pub(crate) fn monotonic_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(std::time::Instant::now);
    1 + u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
}
