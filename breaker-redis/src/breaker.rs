//! [`Breaker`]: one replica's handle on a shared circuit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::error::{CallError, CircuitOpen};
use crate::events::{Scope, StateChange};
use crate::metrics;
use crate::permit::Permit;
use crate::protocol::{ForceMode, Outcome, Reply, Snapshot, Verdict};
use crate::store::fail_safe::{FailSafe, Source};
use crate::store::{MemoryStore, Spec, Store, StoreError, Subscription};

/// One replica's handle on a circuit whose state lives in a [`Store`]. Cheap to clone: clones
/// share everything. Breakers with the same name and store, in any number of processes, share
/// one circuit.
#[derive(Clone, Debug)]
pub struct Breaker {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) spec: Spec,
    pub(crate) fail_safe: FailSafe,
    events: broadcast::Sender<StateChange>,
    clock: Clock,
    next_permit: AtomicU64,
    subscription: Option<Subscription>,
}

/// Builds a [`Breaker`]; see [`Breaker::builder`].
#[derive(Debug)]
pub struct BreakerBuilder {
    name: String,
    config: Config,
    store: Option<Arc<dyn Store>>,
    clock: Clock,
    replica_id: Option<String>,
}

impl BreakerBuilder {
    /// The configuration (default: [`Config::default`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Where the circuit lives (default: a new [`MemoryStore`], private to this breaker).
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where the circuit lives, shared with other breakers.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (default: the store's own; tests use a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// This replica's id in published transitions (default: random).
    pub fn replica_id(mut self, id: impl Into<String>) -> Self {
        self.replica_id = Some(id.into());
        self
    }

    /// Validates the name and builds the breaker. Within a tokio runtime it also starts
    /// listening for other replicas' transitions.
    pub fn build(self) -> Result<Breaker, ConfigError> {
        let origin = self.replica_id.unwrap_or_else(random_id);
        let spec = Spec::new(&self.name, self.config, &origin)?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let (events, _) = broadcast::channel(256);
        let sink_events = events.clone();
        let own = origin.clone();
        let subscription = store.subscribe(
            &spec,
            Arc::new(move |event: StateChange| {
                if event.origin != own {
                    metrics::transition(&event);
                    let _ = sink_events.send(event);
                }
            }),
        );
        let inner = Inner {
            fail_safe: FailSafe::new(store),
            spec,
            events,
            clock: self.clock,
            next_permit: AtomicU64::new(0),
            subscription,
        };
        Ok(Breaker {
            inner: Arc::new(inner),
        })
    }
}

fn random_id() -> String {
    use std::hash::{BuildHasher, RandomState};
    let n = RandomState::new().hash_one((std::process::id(), std::time::SystemTime::now()));
    format!("{n:016x}")
}

impl Breaker {
    /// Starts building the breaker `name` (1 to 128 characters from `A-Z a-z 0-9 . _ - :`).
    pub fn builder(name: impl Into<String>) -> BreakerBuilder {
        BreakerBuilder {
            name: name.into(),
            config: Config::default(),
            store: None,
            clock: Clock::Store,
            replica_id: None,
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.inner.spec.name()
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        self.inner.spec.config()
    }

    /// This replica's id.
    pub fn replica_id(&self) -> &str {
        self.inner.spec.origin()
    }

    /// True while the shared state is unreachable and the degraded mode protects calls.
    pub fn is_degraded(&self) -> bool {
        self.inner.fail_safe.is_degraded()
    }

    /// Every transition from now on: this replica's, and other replicas' as pub/sub delivers
    /// them. A receiver that falls more than 256 events behind skips the oldest.
    pub fn events(&self) -> broadcast::Receiver<StateChange> {
        self.inner.events.subscribe()
    }

    /// Resolves once other replicas' transitions are being received (pub/sub subscribed).
    /// Transitions published before then are not reported as events; the shared state itself
    /// is never affected. Useful in tests and at start-up.
    pub async fn listening(&self) {
        if let Some(subscription) = &self.inner.subscription {
            subscription.active().await;
        }
    }

    /// [`events`](Self::events) as a `Stream`; events missed by a slow reader are skipped.
    pub fn event_stream(&self) -> impl futures_util::Stream<Item = StateChange> + Send + 'static {
        use futures_util::StreamExt;
        tokio_stream::wrappers::BroadcastStream::new(self.events())
            .filter_map(|e| std::future::ready(e.ok()))
    }

    pub(crate) fn now(&self) -> Option<u64> {
        self.inner.clock.now_ms()
    }

    /// Asks to make one call. Never fails because of the store: when Redis is unreachable the
    /// degraded mode answers.
    pub async fn acquire(&self) -> Result<Permit, CircuitOpen> {
        let id = format!(
            "{}:{}",
            self.replica_id(),
            self.inner.next_permit.fetch_add(1, Ordering::Relaxed)
        );
        let (reply, source) = self
            .inner
            .fail_safe
            .acquire(&self.inner.spec, self.now(), &id)
            .await;
        self.observe(&reply, source);
        if reply.verdict == Verdict::Admitted {
            return Ok(Permit::new(self.clone(), id, &reply, source));
        }
        metrics::rejected(self.name());
        Err(CircuitOpen {
            breaker: self.name().to_owned(),
            state: reply.state,
            forced: reply.forced,
            generation: reply.generation,
            retry_after: reply.retry_after,
        })
    }

    pub(crate) async fn record(
        &self,
        permit: &str,
        generation: u64,
        source: Source,
        outcome: Outcome,
    ) {
        let recorded = self
            .inner
            .fail_safe
            .record(
                &self.inner.spec,
                self.now(),
                source,
                generation,
                permit,
                outcome,
            )
            .await;
        if let Some((reply, source)) = recorded {
            self.observe(&reply, source);
        }
    }

    /// Emits the event and metrics of a reply that made a transition.
    fn observe(&self, reply: &Reply, source: Source) {
        if reply.repaired {
            warn!(
                breaker = self.name(),
                "the shared state was corrupted or of a foreign type; it has been reset"
            );
        }
        if source != Source::Bypass {
            metrics::state(self.name(), reply.state);
        }
        let scope = if source == Source::Local {
            Scope::Local
        } else {
            Scope::Shared
        };
        let Some(event) = StateChange::from_reply(&self.inner.spec, reply, scope) else {
            return;
        };
        info!(breaker = self.name(), from = %event.from, to = %event.to, generation = event.generation, scope = ?scope, "circuit transition");
        metrics::transition(&event);
        let _ = self.inner.events.send(event);
    }

    /// Runs `f` if the breaker admits it, counting `Ok` as success and `Err` as failure.
    pub async fn call<T, E, F, Fut>(&self, f: F) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_classified(f, |r: &Result<T, E>| {
            if r.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            }
        })
        .await
    }

    /// Runs `f` if the breaker admits it, asking `classify` what the result says about the
    /// dependency (a 404 may be a success; a cancelled request [`Outcome::Ignored`]).
    /// Dropping the returned future mid-call frees the permit and counts nothing.
    pub async fn call_classified<T, E, F, Fut, C>(
        &self,
        f: F,
        classify: C,
    ) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: FnOnce(&Result<T, E>) -> Outcome,
    {
        let permit = self.acquire().await?;
        let result = f().await;
        permit.record(classify(&result)).await;
        result.map_err(CallError::Inner)
    }

    fn admin_timeout(&self) -> Duration {
        self.config().store_timeout.max(Duration::from_secs(1))
    }

    /// The shared state. Unlike protected calls this reports a store failure.
    /// Answering (or failing) also tells [`is_degraded`](Self::is_degraded) whether Redis is
    /// reachable, so a health check can keep it current without traffic.
    pub async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let (fail_safe, spec) = (&self.inner.fail_safe, &self.inner.spec);
        let fut = fail_safe.shared().snapshot(spec, self.now());
        let snapshot = fail_safe
            .observed(spec, "snapshot", self.admin_timeout(), fut)
            .await?;
        if snapshot.repaired {
            warn!(
                breaker = self.name(),
                "the shared state was corrupted or of a foreign type; it has been reset"
            );
        }
        Ok(snapshot)
    }

    async fn force(&self, mode: ForceMode) -> Result<Reply, StoreError> {
        let (fail_safe, spec) = (&self.inner.fail_safe, &self.inner.spec);
        let fut = fail_safe.shared().force(spec, self.now(), mode);
        let reply = fail_safe
            .observed(spec, "force", self.admin_timeout(), fut)
            .await?;
        info!(
            breaker = self.name(),
            mode = mode.as_str(),
            "circuit override applied for every replica"
        );
        self.observe(&reply, Source::Shared);
        Ok(reply)
    }

    /// Rejects every call on every replica until [`reset`](Self::reset).
    pub async fn force_open(&self) -> Result<Reply, StoreError> {
        self.force(ForceMode::Open).await
    }

    /// Admits every call on every replica and never trips, until [`reset`](Self::reset).
    pub async fn force_closed(&self) -> Result<Reply, StoreError> {
        self.force(ForceMode::Closed).await
    }

    /// Admits every call on every replica and counts nothing, until [`reset`](Self::reset).
    pub async fn disable(&self) -> Result<Reply, StoreError> {
        self.force(ForceMode::Disabled).await
    }

    /// Clears any override and every count: a fresh closed circuit for every replica.
    pub async fn reset(&self) -> Result<Reply, StoreError> {
        self.force(ForceMode::Reset).await
    }
}
