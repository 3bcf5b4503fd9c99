//! The fail-safe layer: every shared-store call gets a deadline, and while the shared store is
//! failing the replica protects itself with the configured degraded mode, trying the shared
//! store again once per back-off period (one caller probes; the others do not wait on it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::{MemoryStore, Spec, Store, StoreError};
use crate::config::DegradedMode;
use crate::metrics;
use crate::protocol::{Forced, Outcome, Reply, State, Verdict};

/// Which store admitted a permit, so its outcome goes back to the same place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Shared,
    Local,
    /// Admitted by fail-open without asking any store.
    Bypass,
    /// Admitted from the cached view of the shared state; its outcome goes in a batch.
    Cached,
}

#[derive(Debug)]
pub(crate) struct FailSafe {
    shared: Arc<dyn Store>,
    local: MemoryStore,
    health: Health,
}

#[derive(Debug)]
struct Health {
    epoch: Instant,
    degraded: AtomicBool,
    retry_at_ms: AtomicU64,
    probing: AtomicBool,
}

/// Held by the one caller allowed to try the failing store; lets the next one try if this
/// caller is cancelled before it learns the answer.
struct Probe<'a>(Option<&'a Health>);

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.0 {
            h.probing.store(false, Ordering::Release);
        }
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// `Some` when this caller should use the shared store.
    fn admit(&self) -> Option<Probe<'_>> {
        if !self.degraded.load(Ordering::Acquire) {
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

    /// Returns true when this success ended a degraded period.
    fn succeeded(&self) -> bool {
        self.degraded.swap(false, Ordering::AcqRel)
    }

    /// Returns true when this failure started a degraded period.
    fn failed(&self, backoff: Duration) -> bool {
        self.retry_at_ms.store(
            self.now_ms() + backoff.as_millis() as u64,
            Ordering::Release,
        );
        !self.degraded.swap(true, Ordering::AcqRel)
    }
}

impl FailSafe {
    pub(crate) fn new(shared: Arc<dyn Store>) -> Self {
        let health = Health {
            epoch: Instant::now(),
            degraded: AtomicBool::new(false),
            retry_at_ms: AtomicU64::new(0),
            probing: AtomicBool::new(false),
        };
        FailSafe {
            shared,
            local: MemoryStore::new(),
            health,
        }
    }

    pub(crate) fn shared(&self) -> &Arc<dyn Store> {
        &self.shared
    }

    pub(crate) fn is_degraded(&self) -> bool {
        self.health.degraded.load(Ordering::Acquire)
    }

    /// Runs `op` on the shared store under the store timeout, tracking health. `None` means
    /// the shared store was skipped or failed, and the caller must use the degraded mode.
    async fn shared_op<'a, T>(
        &'a self,
        spec: &'a Spec,
        op: &'static str,
        fut: impl Future<Output = Result<T, StoreError>> + 'a,
    ) -> Option<T> {
        let _probe = self.health.admit()?;
        let timeout = spec.config().store_timeout;
        self.observed(spec, op, timeout, fut).await.ok()
    }

    /// Runs `fut` on the shared store within `timeout` and lets its result update the health:
    /// administrative calls (snapshot, overrides) also tell whether Redis answers.
    pub(crate) async fn observed<T>(
        &self,
        spec: &Spec,
        op: &'static str,
        timeout: Duration,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let result = match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Timeout(timeout)),
        };
        match &result {
            Ok(_) if self.health.succeeded() => {
                info!(
                    breaker = spec.name(),
                    "shared state reachable again; leaving degraded mode"
                );
                self.local.forget(spec);
                metrics::degraded(spec.name(), false);
            }
            Ok(_) => {}
            Err(e) => {
                metrics::store_error(spec.name(), op);
                if self.health.failed(spec.config().retry_backoff) {
                    warn!(breaker = spec.name(), error = %e, mode = ?spec.config().degraded, retry_in = ?spec.config().retry_backoff,
                        "shared state unreachable; protecting calls in degraded mode");
                    metrics::degraded(spec.name(), true);
                } else {
                    tracing::debug!(breaker = spec.name(), error = %e, "shared state still unreachable");
                }
            }
        }
        result
    }

    pub(crate) async fn acquire(
        &self,
        spec: &Spec,
        now: Option<u64>,
        permit: &str,
    ) -> (Reply, Source) {
        if let Some(reply) = self
            .shared_op(spec, "acquire", self.shared.acquire(spec, now, permit))
            .await
        {
            return (reply, Source::Shared);
        }
        match spec.config().degraded {
            DegradedMode::Local => match self.local.acquire(spec, now, permit).await {
                Ok(reply) => (reply, Source::Local),
                Err(_) => unreachable_local(),
            },
            DegradedMode::FailOpen => (
                synthetic(Verdict::Admitted, State::Closed, None),
                Source::Bypass,
            ),
            DegradedMode::FailClosed => {
                let retry = spec.config().retry_backoff;
                (
                    synthetic(Verdict::Rejected, State::Open, Some(retry)),
                    Source::Bypass,
                )
            }
        }
    }

    pub(crate) async fn record_batch(
        &self,
        spec: &Spec,
        now: Option<u64>,
        generation: u64,
        outcomes: &[Outcome],
    ) -> Option<Reply> {
        let fut = self.shared.record_batch(spec, now, generation, outcomes);
        self.shared_op(spec, "record_batch", fut).await
    }

    pub(crate) async fn record(
        &self,
        spec: &Spec,
        now: Option<u64>,
        source: Source,
        generation: u64,
        permit: &str,
        outcome: Outcome,
    ) -> Option<(Reply, Source)> {
        match source {
            Source::Shared => self
                .shared_op(
                    spec,
                    "record",
                    self.shared.record(spec, now, generation, permit, outcome),
                )
                .await
                .map(|r| (r, Source::Shared)),
            Source::Local => self
                .local
                .record(spec, now, generation, permit, outcome)
                .await
                .ok()
                .map(|r| (r, Source::Local)),
            Source::Bypass | Source::Cached => None,
        }
    }
}

fn synthetic(verdict: Verdict, state: State, retry_after: Option<Duration>) -> Reply {
    Reply {
        verdict,
        state,
        forced: Forced::None,
        generation: 0,
        retry_after,
        transition: None,
        repaired: false,
    }
}

#[cold]
fn unreachable_local() -> (Reply, Source) {
    // MemoryStore never fails; admitting is the safe answer should that ever change.
    (
        synthetic(Verdict::Admitted, State::Closed, None),
        Source::Bypass,
    )
}
