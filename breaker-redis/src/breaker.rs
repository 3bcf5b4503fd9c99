//! [`Breaker`]: one replica's handle on a shared circuit.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tracing::{info, warn};

use crate::cached::Decision;
use crate::config::Config;
use crate::error::{CallError, CircuitOpen};
use crate::events::StateChange;
use crate::inner::Inner;
use crate::metrics;
use crate::permit::Permit;
use crate::protocol::{ForceMode, Outcome, Snapshot, Verdict};
use crate::store::StoreError;
use crate::store::fail_safe::Source;

/// One replica's handle on a circuit whose state lives in a [`Store`](crate::Store). Cheap to clone: clones
/// share everything. Breakers with the same name and store, in any number of processes, share
/// one circuit.
#[derive(Clone, Debug)]
pub struct Breaker {
    pub(crate) inner: Arc<Inner>,
}

impl Breaker {
    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.inner.spec.name()
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        self.inner.spec.config()
    }

    /// This replica's configured id, for display (see [`BreakerBuilder::replica_id`](crate::BreakerBuilder::replica_id)).
    pub fn replica_id(&self) -> &str {
        self.inner.spec.origin()
    }

    /// True while the shared state is unreachable, or refuses writes (out of memory, a
    /// read-only replica, an ACL without write), and the degraded mode protects calls. While
    /// degraded, the breaker asks Redis again after each back-off period even without traffic,
    /// so this turns false on an idle replica too once Redis is back.
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

    fn now(&self) -> Option<u64> {
        self.inner.now()
    }

    /// Asks to make one call. Never fails because of the store: when Redis is unreachable the
    /// degraded mode answers.
    pub async fn acquire(&self) -> Result<Permit, CircuitOpen> {
        // The view is trusted only while other replicas' transitions can reach it.
        if let Some(cached) = &self.inner.cached
            && !self.is_degraded()
            && self.inner.is_listening()
        {
            match cached.decide(Instant::now()) {
                Decision::Admit {
                    state,
                    forced,
                    generation,
                } => {
                    let permit = Permit::from_parts(
                        self.inner.clone(),
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
            self.inner.spec.instance(),
            self.inner.next_permit.fetch_add(1, Ordering::Relaxed)
        );
        let (reply, source) = self
            .inner
            .fail_safe
            .acquire(&self.inner.spec, self.now(), &id)
            .await;
        self.observe(&reply, source);
        if reply.verdict == Verdict::Admitted {
            return Ok(Permit::new(self.inner.clone(), id, &reply, source));
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

    fn observe(&self, reply: &crate::protocol::Reply, source: Source) {
        self.inner.observe(reply, source);
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
        self.inner.shown.set(snapshot.state, snapshot.forced);
        metrics::failure_rate(self.name(), snapshot.requests, snapshot.failures);
        if snapshot.repaired {
            warn!(
                breaker = self.name(),
                "the shared state was corrupted or of a foreign type; it has been reset"
            );
        }
        Ok(snapshot)
    }

    /// Applies an override and answers with the state it left, which its reply gives whole.
    async fn force(&self, mode: ForceMode) -> Result<Snapshot, StoreError> {
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
        Ok(Snapshot::after_override(&reply))
    }

    /// Rejects every call on every replica until [`reset`](Self::reset). Returns the state
    /// after the override.
    pub async fn force_open(&self) -> Result<Snapshot, StoreError> {
        self.force(ForceMode::Open).await
    }

    /// Admits every call on every replica and never trips, until [`reset`](Self::reset).
    /// Returns the state after the override.
    pub async fn force_closed(&self) -> Result<Snapshot, StoreError> {
        self.force(ForceMode::Closed).await
    }

    /// Admits every call on every replica and counts nothing, until [`reset`](Self::reset).
    /// Returns the state after the override.
    pub async fn disable(&self) -> Result<Snapshot, StoreError> {
        self.force(ForceMode::Disabled).await
    }

    /// Clears any override and every count: a fresh closed circuit for every replica. Returns
    /// the state after the reset.
    pub async fn reset(&self) -> Result<Snapshot, StoreError> {
        self.force(ForceMode::Reset).await
    }
}
