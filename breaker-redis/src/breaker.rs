//! [`Breaker`]: one replica's handle on a shared circuit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tracing::{info, warn};

use crate::builder::{AbortOnDrop, BreakerBuilder};
use crate::cached::{Cached, Decision};
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{CallError, CircuitOpen};
use crate::events::{Scope, StateChange};
use crate::metrics;
use crate::permit::Permit;
use crate::protocol::{ForceMode, Outcome, Reply, Snapshot, Verdict};
use crate::store::fail_safe::{FailSafe, Source};
use crate::store::{Spec, StoreError, Subscription};

/// One replica's handle on a circuit whose state lives in a [`Store`](crate::Store). Cheap to clone: clones
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
    pub(crate) events: broadcast::Sender<StateChange>,
    pub(crate) clock: Clock,
    pub(crate) next_permit: AtomicU64,
    pub(crate) cached: Option<Arc<Cached>>,
    pub(crate) flusher: OnceLock<AbortOnDrop>,
    pub(crate) subscription: Option<Subscription>,
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

    pub(crate) fn is_listening(&self) -> bool {
        self.inner
            .subscription
            .as_ref()
            .is_some_and(|s| s.is_active())
    }

    /// Sends a batch of cached-admission outcomes; when the shared state does not take them,
    /// the local breaker counts them (and answers).
    pub(crate) async fn send_batch(
        &self,
        generation: u64,
        outcomes: &[Outcome],
    ) -> Option<(Reply, Source)> {
        let (fail_safe, spec) = (&self.inner.fail_safe, &self.inner.spec);
        fail_safe
            .record_batch(spec, self.now(), generation, outcomes)
            .await
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
        if let Some(cached) = &self.inner.cached
            && !self.is_degraded()
        {
            match cached.decide(Instant::now()) {
                Decision::Admit {
                    state,
                    forced,
                    generation,
                } => {
                    let permit = Permit::from_parts(
                        self.clone(),
                        String::new(),
                        generation,
                        state,
                        forced,
                        Source::Cached,
                    );
                    return Ok(permit);
                }
                Decision::Reject {
                    state,
                    forced,
                    generation,
                    retry_after,
                } => {
                    metrics::rejected(self.name());
                    let breaker = self.name().to_owned();
                    return Err(CircuitOpen {
                        breaker,
                        state,
                        forced,
                        generation,
                        retry_after,
                    });
                }
                Decision::AskStore => {}
            }
        }
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
    pub(crate) fn observe(&self, reply: &Reply, source: Source) {
        if let (Some(cached), Source::Shared) = (&self.inner.cached, source) {
            cached.learn_reply(reply, self.is_listening(), Instant::now());
        }
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

    /// Runs `f` if the breaker admits it, counting `Ok` as success and `Err` as failure. A
    /// success is recorded in the background (see [`Permit::finish`]): the caller gets its
    /// result without waiting for a second round trip; a failure is counted before this
    /// returns.
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
        permit.finish(classify(&result)).await;
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
