//! [`Permit`]: the right to make one call, and the duty to report how it went.

use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Instant;

use tracing::debug;

use crate::inner::Inner;
use crate::metrics;
use crate::protocol::{Forced, Outcome, Reply, State};
use crate::store::fail_safe::Source;

/// Permission for one call, admitted under one generation of the circuit. Report the outcome
/// with [`record`](Self::record). A permit dropped without a record frees its half-open lease
/// (in the background) and counts nothing.
#[must_use = "a permit should be recorded; dropping it counts nothing"]
#[derive(Debug)]
pub struct Permit {
    inner: Arc<Inner>,
    id: String,
    generation: u64,
    /// The store's time at admission, sent back with the outcome (0 for cached admissions,
    /// whose outcomes go in batches counted at the batch's time).
    admitted_at: u64,
    state: State,
    forced: Forced,
    source: Source,
    started: Instant,
    pending: bool,
}

impl Permit {
    pub(crate) fn new(inner: Arc<Inner>, id: String, reply: &Reply, source: Source) -> Self {
        let mut permit = Self::from_parts(
            inner,
            id,
            reply.generation,
            reply.state,
            reply.forced,
            source,
        );
        permit.admitted_at = reply.now_ms;
        permit
    }

    pub(crate) fn from_parts(
        inner: Arc<Inner>,
        id: String,
        generation: u64,
        state: State,
        forced: Forced,
        source: Source,
    ) -> Self {
        Permit {
            inner,
            id,
            generation,
            admitted_at: 0,
            state,
            forced,
            source,
            started: Instant::now(),
            pending: true,
        }
    }

    /// The generation the call was admitted under.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The override in force when the call was admitted.
    pub fn forced(&self) -> Forced {
        self.forced
    }

    /// The state that admitted the call (`HalfOpen` for a trial call).
    pub fn state(&self) -> State {
        self.state
    }

    /// Reports how the call went and waits until the store has it. A success slower than the
    /// configured slow-call threshold counts as a failure. Never fails: if the shared store
    /// cannot take it, the degraded mode's local breaker counts it. Cancelling the wait (a
    /// dropped request, say) does not cancel the report.
    pub async fn record(mut self, outcome: Outcome) {
        if let Some(outcome) = self.settle(outcome) {
            self.send_detached(outcome).await;
        }
    }

    /// Reports how the call went without waiting for the store, so the caller pays one round
    /// trip (the acquire) instead of two. Outside a tokio runtime the outcome is dropped (and a
    /// trial permit's lease expires).
    pub fn record_in_background(mut self, outcome: Outcome) {
        if let Some(outcome) = self.settle(outcome) {
            self.spawn_send(outcome);
        }
    }

    /// What [`Breaker::call`](crate::Breaker::call) and the tower layer do: a failure is
    /// recorded before this returns, so the caller's next call (a retry, say) already sees it;
    /// a success or an ignored outcome is recorded in the background, sparing the happy path a
    /// round trip.
    pub async fn finish(mut self, outcome: Outcome) {
        match self.settle(outcome) {
            Some(Outcome::Failure) => self.send_detached(Outcome::Failure).await,
            Some(outcome) => self.spawn_send(outcome),
            None => {}
        }
    }

    /// Applies the slow-call rule, counts the call and marks the permit as recorded. Returns the
    /// outcome when it still has to reach the store: a forced or disabled circuit counts
    /// nothing, and a cached admission's outcome joins the next batch here, with no round trip
    /// and no task.
    fn settle(&mut self, outcome: Outcome) -> Option<Outcome> {
        self.pending = false;
        let took = self.started.elapsed();
        let outcome = match self.inner.spec.config().slow_call_threshold {
            Some(limit) if outcome == Outcome::Success && took > limit => {
                debug!(breaker = self.inner.name(), elapsed = ?took, "slow call counted as a failure");
                Outcome::Failure
            }
            _ => outcome,
        };
        metrics::call(self.inner.name(), outcome, took);
        if self.forced != Forced::None {
            return None;
        }
        if self.source == Source::Cached {
            if let Some(cached) = &self.inner.cached {
                cached.push(self.generation, outcome);
            }
            return None;
        }
        Some(outcome)
    }

    /// Sends the outcome; `waited`: the caller waits for it.
    async fn send(self, outcome: Outcome, waited: bool) {
        self.inner
            .record(
                &self.id,
                self.generation,
                self.admitted_at,
                self.source,
                outcome,
                waited,
            )
            .await;
    }

    /// Sends in a task of its own and waits for it: once the permit is marked recorded, a
    /// cancelled caller must not take the report (and a half-open lease) down with it. A store
    /// that answers at once (the in-memory and the local breaker) needs no task: the first
    /// poll, made here with no await before it, finishes the send.
    async fn send_detached(self, outcome: Outcome) {
        let mut send = Box::pin(self.send(outcome, true));
        let ready = {
            let mut cx = Context::from_waker(Waker::noop());
            send.as_mut().poll(&mut cx).is_ready()
        };
        if ready {
            return;
        }
        // The task polls the send again at once, with a waker of its own.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let _ = runtime.spawn(send).await;
            }
            Err(_) => send.await,
        }
    }

    fn spawn_send(self, outcome: Outcome) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(self.send(outcome, false));
        }
    }

    /// `record(Outcome::Success)`.
    pub async fn success(self) {
        self.record(Outcome::Success).await;
    }

    /// `record(Outcome::Failure)`.
    pub async fn failure(self) {
        self.record(Outcome::Failure).await;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Only a half-open permit holds a lease; the others have nothing to free.
        if !self.pending || self.state != State::HalfOpen {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (inner, id, generation, admitted_at, source) = (
            self.inner.clone(),
            std::mem::take(&mut self.id),
            self.generation,
            self.admitted_at,
            self.source,
        );
        runtime.spawn(async move {
            inner
                .record(
                    &id,
                    generation,
                    admitted_at,
                    source,
                    Outcome::Ignored,
                    false,
                )
                .await
        });
    }
}
