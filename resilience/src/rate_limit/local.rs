//! The per-replica limiter used while Redis is unreachable (or when there is no Redis): the
//! same GCRA as `lua/rate_limit.lua`, on this machine's monotonic clock (there is no server
//! time to share), in a map of bounded size.
//!
//! Memory: at most [`LOCAL_CAPACITY`] clients are tracked. A client whose budget is full again
//! carries no information and is dropped by a sweep that runs on a timer, not in the request
//! path. When the map is full of clients that are all still spending, a new client evicts an
//! arbitrary one, which gets a full budget back: under a flood of distinct keys the limit
//! loosens for some clients rather than memory growing without bound. An IPv6 client is one
//! key per /64 ([`ip_key`](super::ip_key)), so one host cannot mint 2^64 budgets.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::allowance::Decision;
use super::config::Quota;
use super::key::ClientKey;

/// Most clients the local limiter tracks at once (about 3 MB with the longest keys).
pub const LOCAL_CAPACITY: usize = 10_000;

/// Sweeps run every burst window (the time a budget takes to fill), within these bounds.
const MIN_SWEEP: Duration = Duration::from_millis(100);
const MAX_SWEEP: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub(crate) struct Local {
    /// Each client's theoretical arrival time; absent or past means a full budget.
    clients: Mutex<HashMap<ClientKey, Instant>>,
    /// The emission interval T: one call per T.
    interval: Duration,
    /// burst × T: the furthest ahead of now a TAT can be.
    capacity: Duration,
    burst: u32,
}

impl Local {
    pub(crate) fn new(quota: Quota) -> Self {
        let interval = (quota.period() / quota.count()).max(Duration::from_nanos(1));
        Local {
            clients: Mutex::new(HashMap::new()),
            interval,
            capacity: interval * quota.burst(),
            burst: quota.burst(),
        }
    }

    pub(crate) fn check(&self, key: &ClientKey) -> Decision {
        let now = Instant::now();
        let mut clients = self.clients();
        let tat = clients
            .get(key)
            .copied()
            .filter(|t| *t > now)
            .unwrap_or(now);
        let ahead = tat - now;
        if ahead + self.interval > self.capacity {
            return Decision {
                allowed: false,
                remaining: 0,
                retry_after: ceil_ms(ahead + self.interval - self.capacity),
                reset_after: ceil_ms(ahead),
                degraded: true,
            };
        }
        let ahead = ahead + self.interval;
        if clients.len() >= LOCAL_CAPACITY && !clients.contains_key(key) {
            evict_one(&mut clients);
        }
        clients.insert(key.clone(), now + ahead);
        let remaining = (self.capacity - ahead).as_nanos() / self.interval.as_nanos();
        Decision {
            allowed: true,
            remaining: u32::try_from(remaining).unwrap_or(self.burst),
            retry_after: Duration::ZERO,
            reset_after: ceil_ms(ahead),
            degraded: true,
        }
    }

    /// Drops the clients whose budget is full again.
    pub(crate) fn forget_idle(&self) {
        let now = Instant::now();
        let mut clients = self.clients();
        clients.retain(|_, tat| *tat > now);
        if clients.capacity() > 2 * clients.len() {
            clients.shrink_to_fit();
        }
    }

    /// Clients tracked right now.
    pub(crate) fn len(&self) -> usize {
        self.clients().len()
    }

    /// How often idle clients are swept for this quota.
    pub(crate) fn sweep_every(&self) -> Duration {
        self.capacity.clamp(MIN_SWEEP, MAX_SWEEP)
    }

    fn clients(&self) -> MutexGuard<'_, HashMap<ClientKey, Instant>> {
        // A poisoned lock only means a panic elsewhere; the map inside is still whole.
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn evict_one(clients: &mut HashMap<ClientKey, Instant>) {
    if let Some(victim) = clients.keys().next().cloned() {
        clients.remove(&victim);
    }
}

/// Whole milliseconds, rounded up, as the script answers.
fn ceil_ms(d: Duration) -> Duration {
    let ms = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}
