//! The per-replica limiter used while Redis is unreachable: `governor`'s keyed GCRA with the
//! same quota, on this machine's monotonic clock (there is no server time to share).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock as _;
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use super::allowance::Decision;
use super::config::Quota;
use super::key::ClientKey;

/// Checks between two sweeps of idle keys, so that a degraded period with many clients does
/// not grow memory without bound.
const SWEEP_EVERY: u64 = 4096;

#[derive(Debug)]
pub(crate) struct Local {
    limiter: DefaultKeyedRateLimiter<String, StateInformationMiddleware>,
    interval: Duration,
    burst: u32,
    checks: AtomicU64,
}

impl Local {
    pub(crate) fn new(quota: Quota) -> Self {
        let governor = quota.to_governor();
        Local {
            limiter: RateLimiter::keyed(governor).with_middleware::<StateInformationMiddleware>(),
            interval: governor.replenish_interval(),
            burst: quota.burst(),
            checks: AtomicU64::new(0),
        }
    }

    pub(crate) fn check(&self, key: &ClientKey) -> Decision {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.forget_idle();
        }
        match self.limiter.check_key(&key.as_str().to_owned()) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    remaining,
                    // governor does not expose the TAT: this is the whole cells' share.
                    retry_after: Duration::ZERO,
                    reset_after: self.interval * self.burst.saturating_sub(remaining),
                    degraded: true,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Decision {
                    allowed: false,
                    remaining: 0,
                    // Whole milliseconds, rounded up, as the script answers.
                    retry_after: Duration::from_millis(wait.as_nanos().div_ceil(1_000_000) as u64),
                    reset_after: self.interval * self.burst,
                    degraded: true,
                }
            }
        }
    }

    /// Drops the state of clients whose budget is full again.
    pub(crate) fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}
