//! The fail-safe layer: every shared-store call gets a deadline, and while the shared store is
//! failing the replica protects itself with the configured degraded mode, trying the shared
//! store again once per back-off period (one caller probes; the others do not wait on it).

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::health::{Attempt, Health};
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

impl FailSafe {
    pub(crate) fn new(shared: Arc<dyn Store>, retry_backoff: Duration) -> Self {
        FailSafe {
            shared,
            local: MemoryStore::new(),
            health: Health::new(retry_backoff),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<dyn Store> {
        &self.shared
    }

    pub(crate) fn is_degraded(&self) -> bool {
        self.health.is_degraded()
    }

    /// Runs `fut` on the shared store under the store timeout, unless the shared store is being
    /// skipped. `None` means it was skipped or failed, and the caller must use the degraded mode.
    async fn shared_op<'a, T>(
        &'a self,
        spec: &'a Spec,
        op: &'static str,
        fut: impl Future<Output = Result<T, StoreError>> + 'a,
    ) -> Option<T> {
        let attempt = self.health.run(spec.config().store_timeout, || fut).await;
        self.report(spec, op, attempt).ok()
    }

    /// Runs `fut` on the shared store within `timeout`, whatever the health (administrative
    /// calls, such as snapshots and overrides, always try), and lets its result update it.
    pub(crate) async fn observed<T>(
        &self,
        spec: &Spec,
        op: &'static str,
        timeout: Duration,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let attempt = self.health.observe(timeout, fut).await;
        self.report(spec, op, attempt)
    }

    /// Logs and counts what an attempt on the shared store came to.
    fn report<T>(
        &self,
        spec: &Spec,
        op: &'static str,
        attempt: Attempt<T>,
    ) -> Result<T, StoreError> {
        match attempt {
            Attempt::Answered { value, recovered } => {
                if recovered {
                    info!(
                        breaker = spec.name(),
                        "shared state reachable again; leaving degraded mode"
                    );
                    self.local.forget(spec);
                    metrics::degraded(spec.name(), false);
                }
                Ok(value)
            }
            Attempt::Failed { error, degraded } => {
                metrics::store_error(spec.name(), op);
                if degraded {
                    warn!(breaker = spec.name(), error = %error, mode = ?spec.config().degraded, retry_in = ?spec.config().retry_backoff,
                        "shared state unreachable; protecting calls in degraded mode");
                    metrics::degraded(spec.name(), true);
                } else {
                    tracing::debug!(breaker = spec.name(), error = %error, "shared state still unreachable");
                }
                Err(error)
            }
            Attempt::Skipped => Err(StoreError::Unavailable),
        }
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

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record(
        &self,
        spec: &Spec,
        now: Option<u64>,
        source: Source,
        generation: u64,
        permit: &str,
        admitted_at: u64,
        outcome: Outcome,
    ) -> Option<(Reply, Source)> {
        match source {
            Source::Shared => {
                let fut = self
                    .shared
                    .record(spec, now, generation, permit, admitted_at, outcome);
                self.shared_op(spec, "record", fut)
                    .await
                    .map(|r| (r, Source::Shared))
            }
            Source::Local => self
                .local
                .record(spec, now, generation, permit, admitted_at, outcome)
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
        now_ms: 0,
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
