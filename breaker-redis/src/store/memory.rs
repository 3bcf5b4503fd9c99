//! [`MemoryStore`]: breakers in this process's memory, run by the pure state machine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{EventSink, Spec, StoreFuture, StoreOps, Subscription};
use crate::events::Scope;
use crate::machine::Machine;
use crate::protocol::{ForceMode, Outcome, Reply, Snapshot};

type Sinks = Mutex<Vec<(u64, String, EventSink)>>;

/// Breakers kept in memory. Breakers that share one `MemoryStore` share their circuits, as
/// replicas share Redis; it is also each replica's fallback while Redis is unreachable.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    machines: Mutex<HashMap<String, Machine>>,
    sinks: Sinks,
    next_sink: Mutex<u64>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a Machine half-updated in a way that matters
    // more than losing the whole store would.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Milliseconds since the Unix epoch by this machine's clock.
pub(crate) fn system_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets breaker `spec` (the degraded mode starts afresh after each outage).
    pub(crate) fn forget(&self, spec: &Spec) {
        lock(&self.inner.machines).remove(&spec.keys()[0]);
    }

    fn apply<T>(&self, spec: &Spec, f: impl FnOnce(&mut Machine) -> T) -> T {
        let mut machines = lock(&self.inner.machines);
        f(machines.entry(spec.keys()[0].clone()).or_default())
    }

    fn publish(&self, spec: &Spec, reply: &Reply) {
        let Some(event) = spec.event(reply, Scope::Remote) else {
            return;
        };
        let sinks: Vec<EventSink> = lock(&self.inner.sinks)
            .iter()
            .filter(|(_, channel, _)| channel == spec.channel())
            .map(|(_, _, sink)| sink.clone())
            .collect();
        for sink in sinks {
            sink(event.clone());
        }
    }

    fn run(&self, spec: &Spec, f: impl FnOnce(&mut Machine) -> Reply) -> Reply {
        let reply = self.apply(spec, f);
        self.publish(spec, &reply);
        reply
    }
}

struct Unsubscribe {
    store: Weak<Inner>,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        if let Some(inner) = self.store.upgrade() {
            lock(&inner.sinks).retain(|(id, _, _)| *id != self.id);
        }
    }
}

impl StoreOps for MemoryStore {
    fn acquire<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        permit: &'a str,
    ) -> StoreFuture<'a, Reply> {
        let now = now.unwrap_or_else(system_now);
        let reply = self.run(spec, |m| m.acquire(spec.config(), now, permit));
        Box::pin(async move { Ok(reply) })
    }

    fn record<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        permit: &'a str,
        admitted_at: u64,
        outcome: Outcome,
    ) -> StoreFuture<'a, Reply> {
        let now = now.unwrap_or_else(system_now);
        let reply = self.run(spec, |m| {
            m.record(spec.config(), now, generation, permit, admitted_at, outcome)
        });
        Box::pin(async move { Ok(reply) })
    }

    fn record_batch<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        outcomes: &'a [Outcome],
    ) -> StoreFuture<'a, Reply> {
        let now = now.unwrap_or_else(system_now);
        let reply = self.run(spec, |m| {
            m.record_batch(spec.config(), now, generation, outcomes)
        });
        Box::pin(async move { Ok(reply) })
    }

    fn force<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        mode: ForceMode,
    ) -> StoreFuture<'a, Reply> {
        let now = now.unwrap_or_else(system_now);
        let reply = self.run(spec, |m| m.force(spec.config(), now, mode));
        Box::pin(async move { Ok(reply) })
    }

    fn snapshot<'a>(&'a self, spec: &'a Spec, now: Option<u64>) -> StoreFuture<'a, Snapshot> {
        let now = now.unwrap_or_else(system_now);
        let snapshot = self.apply(spec, |m| m.snapshot(spec.config(), now));
        Box::pin(async move { Ok(snapshot) })
    }

    fn subscribe(&self, spec: &Spec, sink: EventSink) -> Option<Subscription> {
        let id = {
            let mut next = lock(&self.inner.next_sink);
            *next += 1;
            *next
        };
        lock(&self.inner.sinks).push((id, spec.channel().to_owned(), sink));
        let (_, active) = tokio::sync::watch::channel(true);
        let unsubscribe = Unsubscribe {
            store: Arc::downgrade(&self.inner),
            id,
        };
        Some(Subscription::new(unsubscribe, active))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
