//! [`Backoff`]: how long to wait before restarting a process that died, like compose's
//! `restart: always`.
//!
//! The delay doubles from [`FIRST_DELAY`] up to [`MAX_DELAY`] while the process keeps dying, so
//! that a service that cannot start does not spin; it starts again from [`FIRST_DELAY`] once
//! the process stayed up for [`STABLE_AFTER`] (Docker's rule too), so that a crash after an
//! hour of service is not punished for the crashes of the morning.

use std::time::Duration;

/// The delay before the first restart.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);

/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(30);

/// A process that ran this long counts as healthy: its next restart waits [`FIRST_DELAY`].
pub const STABLE_AFTER: Duration = Duration::from_secs(10);

/// One process's restart delays.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    restarts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: FIRST_DELAY,
            restarts: 0,
        }
    }
}

impl Backoff {
    /// The delay before restarting a process that ran for `ran_for`, and the number of this
    /// restart (1 for the first).
    pub fn after_exit(&mut self, ran_for: Duration) -> (Duration, u32) {
        if ran_for >= STABLE_AFTER {
            self.next = FIRST_DELAY;
        }
        let delay = self.next;
        self.next = (self.next * 2).min(MAX_DELAY);
        self.restarts = self.restarts.saturating_add(1);
        (delay, self.restarts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_up_to_the_cap_while_the_process_keeps_dying() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..8)
            .map(|_| backoff.after_exit(Duration::from_millis(100)).0.as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn a_process_that_stayed_up_starts_again_from_the_first_delay() {
        let mut backoff = Backoff::default();
        for _ in 0..4 {
            backoff.after_exit(Duration::ZERO);
        }
        assert_eq!(
            backoff.after_exit(Duration::ZERO),
            (Duration::from_secs(16), 5)
        );
        assert_eq!(backoff.after_exit(STABLE_AFTER), (FIRST_DELAY, 6));
        assert_eq!(backoff.after_exit(Duration::ZERO).0, Duration::from_secs(2));
    }
}
