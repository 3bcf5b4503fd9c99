//! [`Lane`]: one breaker replica's calls to a store a round trip away, coalesced. While one
//! exchange is in flight, new admissions and finished outcomes queue; the next exchange
//! (`lua/exchange.lua`) carries all of them, outcomes first. So a busy replica pays one script
//! per round trip, not one per operation, and every admission is still decided by Redis after
//! it was asked for.
//!
//! An outcome nobody waits for (recorded in the background) may wait up to [`LINGER`] for
//! an admission to travel with, so that at one task a call costs one round trip and one
//! script: its outcome goes with the next call's admission. An outcome a caller waits for (a
//! failure, before `Breaker::call` returns) and any admission go at once, or with the
//! exchange after the one in flight.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use super::ops::QueuedOutcome;
use super::{Spec, Store, StoreError};
use crate::protocol::Reply;

/// How long an outcome nobody waits for is held back for an admission to travel with. Tokio's
/// timers have millisecond ticks and round a deadline up, so the wait ends about 2 ms later
/// (`scripts/bench` measures it: `convergence_background_ms`, a lone failure recorded in the
/// background until another replica rejects, 2.1 ms at p50 and under 2.5 ms at most here).
/// Long enough for the next call of a busy caller (a request on a keep-alive connection
/// comes within a round trip or two), short enough that a trip is never noticeably late.
pub(crate) const LINGER: Duration = Duration::from_millis(1);

/// The most operations one exchange carries; the rest go in the next.
pub(crate) const MAX_EXCHANGE: usize = 512;

type Answer = oneshot::Sender<Result<Reply, StoreError>>;

#[derive(Default)]
struct Queue {
    /// A task is sending exchanges (and will take whatever is queued).
    busy: bool,
    outcomes: Vec<(QueuedOutcome, Answer)>,
    admissions: Vec<(String, Answer)>,
    /// An outcome that someone waits for is queued: no lingering.
    urgent: bool,
    /// The latest `now` asked with (tests' manual clock; `None` in production).
    now: Option<u64>,
}

/// One breaker replica's queue of operations for a store that coalesces them.
pub(crate) struct Lane {
    store: Arc<dyn Store>,
    queue: Mutex<Queue>,
    /// Signalled when an admission is queued, ending a linger.
    admission: Notify,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lane")
    }
}

impl Lane {
    pub(crate) fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Lane {
            store,
            queue: Mutex::new(Queue::default()),
            admission: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks for one admission (as [`StoreOps::acquire`](super::StoreOps::acquire)).
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        spec: &Spec,
        now: Option<u64>,
        permit: &str,
    ) -> Result<Reply, StoreError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.store.acquire(spec, now, permit).await;
        }
        let permit = permit.to_owned();
        self.enqueue(spec, now, |q, tx| {
            q.admissions.push((permit, tx));
            // Ends a linger: the queued outcomes can travel with this admission.
            self.admission.notify_waiters();
        })
        .await
    }

    /// Reports one outcome (as [`StoreOps::record`](super::StoreOps::record)). `waited`: the
    /// caller waits for it, so it does not linger.
    pub(crate) async fn record(
        self: &Arc<Self>,
        spec: &Spec,
        now: Option<u64>,
        outcome: QueuedOutcome,
        waited: bool,
    ) -> Result<Reply, StoreError> {
        if tokio::runtime::Handle::try_current().is_err() {
            let o = outcome;
            return self
                .store
                .record(spec, now, o.generation, &o.permit, o.admitted_at, o.outcome)
                .await;
        }
        self.enqueue(spec, now, |q, tx| {
            q.outcomes.push((outcome, tx));
            q.urgent |= waited;
        })
        .await
    }

    /// Queues one operation (`push` puts it in the queue with its answer's sender), sends the
    /// exchange itself when the lane was idle, and waits for the answer.
    async fn enqueue(
        self: &Arc<Self>,
        spec: &Spec,
        now: Option<u64>,
        push: impl FnOnce(&mut Queue, Answer),
    ) -> Result<Reply, StoreError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = self.lock();
            push(&mut q, tx);
            q.now = now.max(q.now);
            !std::mem::replace(&mut q.busy, true)
        };
        if start {
            Detached::new(self.clone().drive(spec.clone(), true)).await;
        }
        answer(rx).await
    }

    /// Sends exchanges until the queue is empty, or, with `first_only`, the first exchange
    /// (which carries the operation of the caller that found the lane idle and drives it
    /// itself, sparing a task and a wake-up on the way) and leaves the rest to a task of its
    /// own. A caller that gives up waiting (its store timeout, a dropped request) takes
    /// nobody else's operations down with it: [`Detached`] finishes the exchange in a task.
    async fn drive(self: Arc<Self>, spec: Spec, first_only: bool) {
        let mut idle = Idle(&self, false);
        let mut lingered = false;
        loop {
            // Registered before the queue is looked at, so that an admission queued between
            // the look and the wait still ends the wait.
            let admission = self.admission.notified();
            tokio::pin!(admission);
            admission.as_mut().enable();
            // Operations whose caller stopped waiting are not sent: the caller has already gone
            // to the degraded mode, which counts the outcome itself.
            if self.settle_idle() {
                idle.1 = true;
                return;
            }
            let step = {
                let mut q = self.lock();
                if q.admissions.is_empty() && !q.urgent && !lingered {
                    None
                } else {
                    let n = q.outcomes.len().min(MAX_EXCHANGE);
                    let outcomes: Vec<_> = q.outcomes.drain(..n).collect();
                    let m = q.admissions.len().min(MAX_EXCHANGE - n);
                    let admissions: Vec<_> = q.admissions.drain(..m).collect();
                    if q.outcomes.is_empty() {
                        q.urgent = false;
                    }
                    Some((outcomes, admissions, q.now))
                }
            };
            match step {
                None => {
                    lingered = true;
                    let _ = tokio::time::timeout(LINGER, admission).await;
                }
                Some((outcomes, admissions, now)) => {
                    lingered = false;
                    self.send(&spec, now, outcomes, admissions).await;
                    if first_only {
                        idle.1 = true;
                        if !self.settle_idle() {
                            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                                runtime.spawn(self.clone().rest(spec));
                            } else {
                                *self.lock() = Queue::default();
                            }
                        }
                        return;
                    }
                }
            }
        }
    }

    /// Marks the lane idle if nothing is queued (but what nobody waits for any more); returns
    /// whether it did.
    fn settle_idle(&self) -> bool {
        let mut q = self.lock();
        q.outcomes.retain(|(_, tx)| !tx.is_closed());
        q.admissions.retain(|(_, tx)| !tx.is_closed());
        if q.outcomes.is_empty() && q.admissions.is_empty() {
            q.busy = false;
            q.urgent = false;
            return true;
        }
        false
    }

    /// [`drive`](Self::drive) to the end, as a task's future (boxed: `drive` starts it).
    fn rest(self: Arc<Self>, spec: Spec) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(self.drive(spec, false))
    }

    async fn send(
        &self,
        spec: &Spec,
        now: Option<u64>,
        outcomes: Vec<(QueuedOutcome, Answer)>,
        admissions: Vec<(String, Answer)>,
    ) {
        let (outcomes, mut answers): (Vec<QueuedOutcome>, Vec<Answer>) =
            outcomes.into_iter().unzip();
        let (permits, more): (Vec<String>, Vec<Answer>) = admissions.into_iter().unzip();
        answers.extend(more);
        match self.store.exchange(spec, now, &outcomes, &permits).await {
            Ok(exchanged) if exchanged.replies.len() == answers.len() => {
                for (tx, reply) in answers.into_iter().zip(exchanged.replies) {
                    let _ = tx.send(Ok(reply));
                }
            }
            Ok(exchanged) => {
                let error = StoreError::Protocol(format!(
                    "{} replies for {} operations",
                    exchanged.replies.len(),
                    answers.len()
                ));
                for tx in answers {
                    let _ = tx.send(Err(error.clone()));
                }
            }
            Err(error) => {
                for tx in answers {
                    let _ = tx.send(Err(error.clone()));
                }
            }
        }
    }
}

/// A future that, dropped before it is done, finishes in a task of its own (outside a runtime
/// it is dropped).
struct Detached(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Detached {
    fn new(fut: impl Future<Output = ()> + Send + 'static) -> Self {
        Detached(Some(Box::pin(fut)))
    }
}

impl Future for Detached {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(fut) = self.0.as_mut() else {
            return Poll::Ready(());
        };
        let done = fut.as_mut().poll(cx);
        if done.is_ready() {
            self.0 = None;
        }
        done
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let (Some(fut), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(fut);
        }
    }
}

/// Leaves the lane idle when its task is dropped before it ended (with its runtime, say): the
/// operations still queued are dropped, so that their callers hear of it at once, and the next
/// operation starts a task again. Set `.1` when the task ends on its own.
struct Idle<'a>(&'a Lane, bool);

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        if !self.1 {
            *self.0.lock() = Queue::default();
        }
    }
}

async fn answer(rx: oneshot::Receiver<Result<Reply, StoreError>>) -> Result<Reply, StoreError> {
    rx.await.unwrap_or_else(|_| {
        Err(StoreError::Protocol(
            "the exchange carrying this operation ended without an answer".into(),
        ))
    })
}
