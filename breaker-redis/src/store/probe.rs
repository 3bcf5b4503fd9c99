//! The background probe of a degraded breaker: after each back-off period it asks the shared
//! store for a snapshot (a read, cheap), so that a replica with no traffic learns that Redis is
//! back, and `is_degraded` (a service's health check) stops saying otherwise. While Redis
//! refuses writes it also tries an empty batch (a write that counts nothing), so that the
//! replica learns when writes are taken again even if its local breaker rejects every call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use tracing::info;

use super::health::{Attempt, Health};
use super::{MemoryStore, Spec, Store};
use crate::metrics;
use crate::protocol::{Forced, Reply, State, Verdict};

/// What one probe task needs; it ends when the breaker is dropped or the store is healthy.
pub(crate) struct Probe {
    pub(crate) health: Weak<Health>,
    pub(crate) shared: Arc<dyn Store>,
    pub(crate) spec: Spec,
    pub(crate) local: MemoryStore,
    pub(crate) writes_refused: Arc<AtomicBool>,
}

pub(crate) async fn run(probe: Probe) {
    let backoff = probe.spec.config().retry_backoff;
    loop {
        tokio::time::sleep(backoff).await;
        let Some(health) = probe.health.upgrade() else {
            return;
        };
        if health.is_degraded() {
            probe.reads(&health).await;
        }
        if !health.is_degraded() && probe.writes_refused.load(Ordering::Acquire) {
            probe.writes(&health).await;
        }
        if !health.is_degraded() && !probe.writes_refused.load(Ordering::Acquire) {
            return;
        }
    }
}

impl Probe {
    async fn reads(&self, health: &Health) {
        let timeout = self.spec.config().store_timeout;
        let attempt = health
            .run(timeout, || self.shared.snapshot(&self.spec, None))
            .await;
        if let Attempt::Answered {
            recovered: true, ..
        } = attempt
        {
            recovered(&self.spec, &self.local, &self.writes_refused);
        }
    }

    async fn writes(&self, health: &Health) {
        let Ok(snapshot) = self.shared.snapshot(&self.spec, None).await else {
            return;
        };
        // Only a closed circuit takes an empty batch as a write; in the other states the
        // callers' own writes (leases) tell.
        if snapshot.state != State::Closed || snapshot.forced != Forced::None {
            return;
        }
        let batch = self
            .shared
            .record_batch(&self.spec, None, snapshot.generation, &[]);
        if let Ok(reply) = batch.await {
            took_write(
                &self.spec,
                &reply,
                &self.local,
                &self.writes_refused,
                health,
            );
        }
    }
}

/// The shared store answers again. The local breaker's counts are dropped, unless the shared
/// store still refuses writes: then the local breaker goes on counting for it.
pub(crate) fn recovered(spec: &Spec, local: &MemoryStore, writes_refused: &AtomicBool) {
    info!(
        breaker = spec.name(),
        "shared state reachable again; leaving degraded mode"
    );
    if !writes_refused.load(Ordering::Acquire) {
        local.forget(spec);
        metrics::degraded(spec.name(), false);
    }
}

/// A write the shared store took ends a period of refused writes.
pub(crate) fn took_write(
    spec: &Spec,
    reply: &Reply,
    local: &MemoryStore,
    writes_refused: &AtomicBool,
    health: &Health,
) {
    let wrote = matches!(reply.verdict, Verdict::Counted | Verdict::Released);
    if wrote && writes_refused.swap(false, Ordering::AcqRel) {
        info!(
            breaker = spec.name(),
            "the shared store takes writes again; outcomes are counted there"
        );
        if !health.is_degraded() {
            local.forget(spec);
            metrics::degraded(spec.name(), false);
        }
    }
}
