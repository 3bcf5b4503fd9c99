//! What a check decided: [`Allowance`] for an admission, [`RateLimited`] for a rejection.

use std::time::Duration;

use super::error::RateLimited;

/// An admitted call's view of its client's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// Calls the client could still make right now (suits `X-RateLimit-Remaining`).
    pub remaining: u32,
    /// When the client's budget will be full again if it makes no more calls.
    pub reset_after: Duration,
    /// True when this replica's own limiter decided because Redis was unreachable: the quota
    /// then applies per replica rather than fleet-wide.
    pub degraded: bool,
}

/// One decision, from the script or the local limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) allowed: bool,
    pub(crate) remaining: u32,
    pub(crate) retry_after: Duration,
    pub(crate) reset_after: Duration,
    pub(crate) degraded: bool,
}

impl Decision {
    pub(crate) fn into_result(self, limiter: &str) -> Result<Allowance, RateLimited> {
        if self.allowed {
            Ok(Allowance {
                remaining: self.remaining,
                reset_after: self.reset_after,
                degraded: self.degraded,
            })
        } else {
            Err(RateLimited {
                limiter: limiter.to_owned(),
                retry_after: self.retry_after,
            })
        }
    }
}
