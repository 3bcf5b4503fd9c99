//! Whether Redis is worth asking: every call gets a deadline, and after a failure Redis is
//! skipped for a back-off period, after which one caller probes it while the others carry on
//! locally. The breaker's fail-safe layer, the rate limiter and `LastGood` all use it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::store::StoreError;
use crate::store::refusal::Nag;

/// The health of one feature's Redis connection.
#[derive(Debug)]
pub struct Health {
    epoch: Instant,
    backoff: Duration,
    degraded: AtomicBool,
    retry_at_ms: AtomicU64,
    probing: AtomicBool,
}

/// What asking Redis came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Redis answered.
    Answered {
        /// The answer.
        value: T,
        /// True when this answer ended a degraded period.
        recovered: bool,
    },
    /// Redis failed or timed out.
    Failed {
        /// Why.
        error: StoreError,
        /// True when this failure started a degraded period.
        degraded: bool,
    },
    /// Redis was not asked (backing off, or another caller is probing it).
    Skipped,
}

/// Held by the one caller allowed to try a failing Redis; lets the next one try if this caller
/// is cancelled before it learns the answer.
struct Probe<'a>(Option<&'a Health>);

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.0 {
            h.probing.store(false, Ordering::Release);
        }
    }
}

impl Health {
    /// Healthy; after a failure, Redis is skipped for `backoff`.
    pub fn new(backoff: Duration) -> Self {
        Health {
            epoch: Instant::now(),
            backoff,
            degraded: AtomicBool::new(false),
            retry_at_ms: AtomicU64::new(0),
            probing: AtomicBool::new(false),
        }
    }

    /// True while Redis is failing.
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Acquire)
    }

    /// Runs `op()` within `timeout`, unless Redis is being skipped.
    pub async fn run<T, F, Fut>(&self, timeout: Duration, op: F) -> Attempt<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let Some(_probe) = self.admit() else {
            return Attempt::Skipped;
        };
        self.observe(timeout, op()).await
    }

    /// Runs `fut` within `timeout` whatever the state (an operator's call must try), and lets
    /// its result update the health.
    pub async fn observe<T>(
        &self,
        timeout: Duration,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Attempt<T> {
        let result = match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Timeout(timeout)),
        };
        match result {
            Ok(value) => Attempt::Answered {
                value,
                recovered: self.degraded.swap(false, Ordering::AcqRel),
            },
            Err(error) => {
                let retry_at = self.now_ms() + self.backoff.as_millis() as u64;
                self.retry_at_ms.store(retry_at, Ordering::Release);
                Attempt::Failed {
                    error,
                    degraded: !self.degraded.swap(true, Ordering::AcqRel),
                }
            }
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// `Some` when this caller should ask Redis.
    fn admit(&self) -> Option<Probe<'_>> {
        if !self.is_degraded() {
            return Some(Probe(None));
        }
        if self.now_ms() < self.retry_at_ms.load(Ordering::Acquire) {
            return None;
        }
        self.probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Probe(Some(self)))
    }
}

/// The health of one store's connection, shared by every breaker on that store: one degraded
/// flag, one back-off and one background probe, however many breakers use the connection.
/// Opaque; a [`RedisStore`](super::RedisStore) makes one for all of its breakers.
#[derive(Debug, Clone)]
pub struct StoreHealth {
    pub(crate) tracker: Arc<Tracker>,
}

/// What a [`StoreHealth`] tracks.
#[derive(Debug)]
pub(crate) struct Tracker {
    pub(crate) health: Health,
    /// Set when the store refused a write; cleared by the next write it takes.
    pub(crate) writes_refused: AtomicBool,
    /// Set when Redis refused a command for lack of permission: the shared store is not used
    /// until a check of the user's rights finds nothing missing (see `probe::rights`).
    pub(crate) denied: AtomicBool,
    /// When a refusal (permission, login) is logged again.
    pub(crate) nag: Nag,
}

/// The longest gap between two log lines about a refusal that lasts.
pub const NAG_MAX: Duration = Duration::from_secs(5 * 60);

impl StoreHealth {
    /// A tracker that skips the store for `retry_backoff` after a failure.
    pub(crate) fn new(retry_backoff: Duration) -> Self {
        StoreHealth {
            tracker: Arc::new(Tracker {
                health: Health::new(retry_backoff),
                writes_refused: AtomicBool::new(false),
                denied: AtomicBool::new(false),
                nag: Nag::new(retry_backoff, NAG_MAX.max(retry_backoff)),
            }),
        }
    }

    /// True while the store is failing or refusing writes.
    pub fn is_degraded(&self) -> bool {
        self.tracker.is_degraded()
    }
}

impl Tracker {
    pub(crate) fn is_degraded(&self) -> bool {
        self.health.is_degraded()
            || self.writes_refused.load(Ordering::Acquire)
            || self.denied.load(Ordering::Acquire)
    }
}
