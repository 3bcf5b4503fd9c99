//! [`StoreOps`]: the operations of a [`Store`](super::Store), kept out of the public API.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{Spec, StoreError, StoreHealth};
use crate::events::StateChange;
use crate::protocol::{ForceMode, Outcome, Reply, Snapshot};

/// A store operation in flight.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Receives the transitions a store publishes for one breaker.
pub type EventSink = Arc<dyn Fn(StateChange) + Send + Sync>;

/// What a [`Store`](super::Store) does: every method is one atomic operation on one breaker.
///
/// Public in name only: this module is private, so no code outside the crate can name the
/// trait, implement it (which is what seals [`Store`](super::Store)) or bring it into scope. Its methods can
/// still be called on a `dyn Store` (a trait object carries its supertraits' methods), but
/// they take a [`Spec`], which only the crate builds unless the `testing` feature is on.
///
/// `now` is `None` in production (the store's own clock: Redis `TIME`); tests pass a fixed time
/// in milliseconds to drive the state machine deterministically.
pub trait StoreOps: Send + Sync + fmt::Debug + 'static {
    /// Asks to make one call (`acquire.lua`). `permit` is unique per call.
    fn acquire<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        permit: &'a str,
    ) -> StoreFuture<'a, Reply>;

    /// Reports the outcome of an admitted call (`record.lua`). `generation` and `admitted_at`
    /// are the `generation` and `now_ms` of the reply that admitted it: a closed circuit counts
    /// the outcome in the window the call was admitted in, or not at all once that window has
    /// ended, so the order in which outcomes arrive does not change what is counted.
    fn record<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        permit: &'a str,
        admitted_at: u64,
        outcome: Outcome,
    ) -> StoreFuture<'a, Reply>;

    /// Everything a breaker replica has queued, in one atomic operation (`exchange.lua`): the
    /// `outcomes` in order, each as [`record`](Self::record) counts it, then one admission per
    /// permit id in `permits`, each as [`acquire`](Self::acquire) decides it. Returns one reply
    /// per operation, outcomes first. A store that answers at once needs nothing more than
    /// this default, which runs them one by one.
    fn exchange<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        outcomes: &'a [QueuedOutcome],
        permits: &'a [String],
    ) -> StoreFuture<'a, Exchanged> {
        Box::pin(async move {
            let mut replies = Vec::with_capacity(outcomes.len() + permits.len());
            for o in outcomes {
                let reply = self
                    .record(spec, now, o.generation, &o.permit, o.admitted_at, o.outcome)
                    .await?;
                replies.push(reply);
            }
            for permit in permits {
                replies.push(self.acquire(spec, now, permit).await?);
            }
            Ok(Exchanged { replies })
        })
    }

    /// Whether a breaker should queue its calls while one is in flight and send them together
    /// with [`exchange`](Self::exchange): true for a store a round trip away.
    fn coalesces(&self) -> bool {
        false
    }

    /// Reports several closed-state outcomes (successes and failures only) at once
    /// (`record_batch.lua`), in the order they were recorded, all counted at the store's
    /// time. Its cost is one read of the window whatever the batch's size.
    fn record_batch<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        outcomes: &'a [Outcome],
    ) -> StoreFuture<'a, Reply>;

    /// Applies an operator's override (`force.lua`).
    fn force<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        mode: ForceMode,
    ) -> StoreFuture<'a, Reply>;

    /// Reads the breaker's state (`snapshot.lua`).
    fn snapshot<'a>(&'a self, spec: &'a Spec, now: Option<u64>) -> StoreFuture<'a, Snapshot>;

    /// Delivers every transition of `spec`'s breaker, by any replica (this one included: the
    /// sink tells its own apart by [`Spec::instance`]), to `sink`, each once and in order,
    /// until the returned guard is dropped. `None` when the store cannot notify.
    fn subscribe(&self, spec: &Spec, sink: EventSink) -> Option<Subscription>;

    /// Publishes `spec`'s settings where tools can read them, in the background (never
    /// blocking nor failing the caller). Nothing for a store no tool can read.
    fn publish_settings(&self, spec: &Spec) {
        let _ = spec;
    }

    /// The commands of this breaker the store's user may not run (`"COMMAND target"`); empty
    /// when none is missing, or for a store without permissions.
    fn missing_rights<'a>(&'a self, spec: &'a Spec) -> StoreFuture<'a, Vec<String>> {
        let _ = spec;
        Box::pin(async { Ok(Vec::new()) })
    }

    /// `"memory"` or `"redis"`, for logs and metrics.
    fn kind(&self) -> &'static str;

    /// The health tracker every breaker on this store shares (created with the first
    /// breaker's `retry_backoff`), or `None` for a tracker per breaker. A store that can fail
    /// shares one, so that one failure degrades every breaker on it and one probe finds it back.
    fn health(&self, retry_backoff: std::time::Duration) -> Option<StoreHealth> {
        let _ = retry_backoff;
        None
    }
}

/// An outcome waiting for the next [`StoreOps::exchange`], with what
/// [`StoreOps::record`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedOutcome {
    /// The generation the call was admitted under.
    pub generation: u64,
    /// The permit's id.
    pub permit: String,
    /// The admission's store time (`now_ms` of the admitting reply).
    pub admitted_at: u64,
    /// How the call went.
    pub outcome: Outcome,
}

/// What [`StoreOps::exchange`] answers: one reply per operation, outcomes first, each as the
/// operation alone would have answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchanged {
    /// The replies, in the order the operations were sent.
    pub replies: Vec<Reply>,
}

/// Keeps a subscription alive; dropping it stops the deliveries.
pub struct Subscription {
    _guard: Box<dyn Send + Sync>,
    active: tokio::sync::watch::Receiver<bool>,
}

impl Subscription {
    /// A subscription kept alive by `guard`, delivering while `active` reads true.
    pub fn new(
        guard: impl Send + Sync + 'static,
        active: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Subscription {
            _guard: Box::new(guard),
            active,
        }
    }

    /// True while deliveries are flowing: false from the moment the connection is lost or
    /// stops answering its keepalive, true again once the resubscribe has caught up with what
    /// was missed.
    pub fn is_active(&self) -> bool {
        *self.active.borrow()
    }

    /// Resolves once deliveries are flowing (at once for an in-process store).
    pub async fn active(&self) {
        let mut active = self.active.clone();
        let _ = active.wait_for(|on| *on).await;
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subscription")
    }
}
