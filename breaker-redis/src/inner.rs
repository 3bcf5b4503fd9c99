//! [`Inner`]: what every clone of a [`Breaker`](crate::Breaker), its permits and its batch
//! sender share, and the operations they all need: recording, sending batches, observing
//! replies. It depends on none of `breaker`, `builder` or `permit`, so those depend on it and
//! not on each other's internals.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use tokio::sync::broadcast;
use tracing::{info, warn};

use crate::cached::Cached;
use crate::clock::Clock;
use crate::events::{OwnReports, Scope, StateChange};
use crate::metrics;
use crate::protocol::{Outcome, Reply, Verdict};
use crate::store::fail_safe::{FailSafe, Source};
use crate::store::{Spec, Subscription};

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) spec: Spec,
    /// Own transitions already reported, from replies or from pub/sub.
    pub(crate) own: Arc<OwnReports>,
    pub(crate) fail_safe: FailSafe,
    pub(crate) events: broadcast::Sender<StateChange>,
    pub(crate) clock: Clock,
    pub(crate) next_permit: AtomicU64,
    pub(crate) cached: Option<Arc<Cached>>,
    pub(crate) flusher: OnceLock<AbortOnDrop>,
    pub(crate) subscription: Option<Subscription>,
    /// The `breaker_state` gauges, shared with the pub/sub sink.
    pub(crate) shown: Arc<metrics::ShownState>,
}

impl Inner {
    pub(crate) fn name(&self) -> &str {
        self.spec.name()
    }

    pub(crate) fn now(&self) -> Option<u64> {
        self.clock.now_ms()
    }

    pub(crate) fn is_listening(&self) -> bool {
        self.subscription.as_ref().is_some_and(|s| s.is_active())
    }

    /// Reports a permit's outcome to the store that admitted it; `admitted_at` is the
    /// admission's store time (`now_ms`), `waited` whether the caller waits for it.
    pub(crate) async fn record(
        &self,
        permit: &str,
        generation: u64,
        admitted_at: u64,
        source: Source,
        outcome: Outcome,
        waited: bool,
    ) {
        let (spec, now) = (&self.spec, self.now());
        let recorded = self
            .fail_safe
            .record(
                spec,
                now,
                source,
                generation,
                permit,
                admitted_at,
                outcome,
                waited,
            )
            .await;
        if let Some((reply, source)) = recorded {
            self.observe(&reply, source);
        }
    }

    /// Sends a batch of cached-admission outcomes; when the shared state does not take them,
    /// the local breaker counts them (and answers).
    async fn send_batch(&self, generation: u64, outcomes: &[Outcome]) -> Option<(Reply, Source)> {
        self.fail_safe
            .record_batch(&self.spec, self.now(), generation, outcomes)
            .await
    }

    /// Emits the event and metrics of a reply that made a transition.
    pub(crate) fn observe(&self, reply: &Reply, source: Source) {
        if let (Some(cached), Source::Shared) = (&self.cached, source) {
            cached.learn_reply(reply, self.is_listening(), Instant::now());
        }
        if reply.repaired {
            warn!(
                breaker = self.name(),
                "the shared state was corrupted or of a foreign type; it has been reset"
            );
        }
        if source != Source::Bypass {
            self.shown.set(reply.state, reply.forced);
            if reply.verdict == Verdict::Counted || reply.transition.is_some() {
                metrics::failure_rate(self.name(), reply.requests, reply.failures);
            }
        }
        let scope = if source == Source::Local {
            Scope::Local
        } else {
            Scope::Shared
        };
        let Some(event) = self.spec.event(reply, scope) else {
            return;
        };
        if scope == Scope::Shared && !self.own.first(event.generation) {
            return;
        }
        info!(breaker = self.name(), from = %event.from, to = %event.to, generation = event.generation, origin = metrics::origin(scope), "circuit transition");
        metrics::transition(&event, &self.shown);
        let _ = self.events.send(event);
    }
}

/// Sends queued outcomes in batches, one script call per run of the same generation, for as
/// long as the breaker lives.
pub(crate) async fn flush_loop(inner: Weak<Inner>, cached: Arc<Cached>) {
    loop {
        cached.batch_due().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let batch = cached.take();
        for chunk in batch.chunk_by(|a, b| a.0 == b.0) {
            for part in chunk.chunks(cached.max_batch()) {
                let generation = part[0].0;
                let outcomes: Vec<Outcome> = part.iter().map(|(_, o)| *o).collect();
                if let Some((reply, source)) = inner.send_batch(generation, &outcomes).await {
                    inner.observe(&reply, source);
                }
            }
        }
    }
}

/// A background task that ends with its owner.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
