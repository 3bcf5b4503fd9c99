//! The fail-safe layer: every shared-store call gets a deadline, and while the shared store is
//! failing the replica protects itself with the configured degraded mode, trying the shared
//! store again once per back-off period (one caller probes; the others do not wait on it, and
//! an idle replica probes in the background).
//!
//! A Redis that answers reads but refuses writes (out of memory with `noeviction`, a read-only
//! replica) is degraded too, for recording: closed-state admission writes nothing and would
//! keep admitting while no failure is ever counted. So an outcome the shared store did not take
//! is counted by the local breaker, and until the shared store takes a write again the local
//! breaker has a say in every admission. A command the ACL user may not run (`NOPERM`) goes
//! further: the shared store is not used at all until the user's rights are complete again.
//!
//! Every breaker on one store shares the store's health tracker (when the store has one): one
//! failure degrades them all, and one probe finds the store back. Each breaker still keeps its
//! own local breaker, and acts on the shared state on its next call (logs, gauge, forgetting
//! its local counts).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::{debug, info, warn};

use super::health::{Attempt, StoreHealth, Tracker};
use super::lane::Lane;
use super::ops::QueuedOutcome;
use super::probe;
use super::refusal::Refusal;
use super::{ErrorClass, MemoryStore, Spec, Store, StoreError, StoreOps};
use crate::clock::monotonic_ms;
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
    /// This breaker's queue of shared-store operations, when the store coalesces them.
    lane: Option<Arc<Lane>>,
    local: MemoryStore,
    tracker: Arc<Tracker>,
    /// What this breaker last acted on: whether the tracker said degraded.
    seen_degraded: AtomicBool,
}

impl FailSafe {
    pub(crate) fn new(shared: Arc<dyn Store>, retry_backoff: Duration) -> Self {
        let health = shared
            .health(retry_backoff)
            .unwrap_or_else(|| StoreHealth::new(retry_backoff));
        FailSafe {
            lane: shared.coalesces().then(|| Lane::new(shared.clone())),
            shared,
            local: MemoryStore::new(),
            tracker: health.tracker,
            seen_degraded: AtomicBool::new(false),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<dyn Store> {
        &self.shared
    }

    pub(crate) fn is_degraded(&self) -> bool {
        self.tracker.is_degraded()
    }

    fn writes_refused(&self) -> bool {
        self.tracker.writes_refused.load(Ordering::Acquire)
    }

    /// Acts on a change of the shared health since this breaker last looked: another breaker
    /// on the store, or the probe, may have made it.
    fn sync(&self, spec: &Spec) {
        let degraded = self.is_degraded();
        // Read before writing: this runs on every call, and a write to the shared flag on each
        // would bounce its cache line between cores.
        if self.seen_degraded.load(Ordering::Acquire) == degraded
            || self.seen_degraded.swap(degraded, Ordering::AcqRel) == degraded
        {
            return;
        }
        metrics::degraded(spec.name(), degraded);
        if !degraded {
            info!(
                breaker = spec.name(),
                "shared state usable again; leaving degraded mode"
            );
            self.local.forget(spec);
        }
    }

    /// The local breaker's time: the test's manual clock if there is one, else a monotonic
    /// clock (never the wall clock, which can step backwards).
    fn local_now(now: Option<u64>) -> Option<u64> {
        Some(now.unwrap_or_else(monotonic_ms))
    }

    /// Runs `fut` on the shared store under the store timeout, unless the shared store is being
    /// skipped. An error means it was skipped or failed, and the caller must use the degraded
    /// mode.
    async fn shared_op<'a, T>(
        &'a self,
        spec: &'a Spec,
        op: &'static str,
        fut: impl Future<Output = Result<T, StoreError>> + 'a,
    ) -> Result<T, StoreError> {
        self.sync(spec);
        if self.tracker.denied.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable);
        }
        let health = &self.tracker.health;
        let attempt = health.run(spec.config().store_timeout, || fut).await;
        self.report(spec, op, attempt)
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
        let attempt = self.tracker.health.observe(timeout, fut).await;
        self.report(spec, op, attempt)
    }

    /// Logs and counts what an attempt on the shared store came to.
    fn report<T>(
        &self,
        spec: &Spec,
        op: &'static str,
        attempt: Attempt<T>,
    ) -> Result<T, StoreError> {
        let result = match attempt {
            Attempt::Answered { value, .. } => Ok(value),
            Attempt::Failed { error, degraded } => {
                let class = error.class();
                metrics::store_error(spec.name(), op, class);
                if let Some(refusal) = Refusal::of(&error) {
                    self.refused(spec, op, &error, refusal);
                } else if class == ErrorClass::Server {
                    // Redis is up and says no: every occurrence is worth an operator's look.
                    warn!(breaker = spec.name(), op, error = %error, "the shared store refused an operation; protecting calls locally");
                } else if degraded {
                    warn!(breaker = spec.name(), error = %error, mode = ?spec.config().degraded, retry_in = ?spec.config().retry_backoff,
                        "shared state unreachable; protecting calls in degraded mode");
                } else {
                    debug!(breaker = spec.name(), error = %error, "shared state still unreachable");
                }
                if degraded {
                    self.spawn_probe(spec);
                }
                Err(error)
            }
            Attempt::Skipped => Err(StoreError::Unavailable),
        };
        self.sync(spec);
        result
    }

    /// Redis refused a command or the login: logged with its fix, again on a doubling
    /// back-off. A missing permission also stops the use of the shared store (a script cut
    /// short misses transitions, or keeps a trial permit): the local breaker protects the
    /// calls until `probe::rights` finds nothing missing.
    fn refused(&self, spec: &Spec, op: &'static str, error: &StoreError, refusal: Refusal) {
        let breaker = spec.name();
        if self.tracker.nag.due() {
            match refusal {
                Refusal::Auth => warn!(breaker, op, %error, fix = %refusal,
                    "redis refused the login; protecting calls locally"),
                Refusal::Permission { .. } => warn!(breaker, op, %error, fix = %refusal,
                    "redis refused a command of the breaker; protecting calls locally until the ACL allows it"),
            }
        }
        if matches!(refusal, Refusal::Permission { .. })
            && !self.tracker.denied.swap(true, Ordering::AcqRel)
        {
            self.sync(spec);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(probe::rights(probe::Probe {
                    tracker: Arc::downgrade(&self.tracker),
                    shared: self.shared.clone(),
                    spec: spec.clone(),
                }));
            }
        }
    }

    /// Keeps trying the shared store after each back-off period while nothing else does, so
    /// that idle replicas stop reporting themselves degraded once Redis is back. One per store:
    /// only the failure that degrades the shared tracker starts it.
    fn spawn_probe(&self, spec: &Spec) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(probe::run(probe::Probe {
            tracker: Arc::downgrade(&self.tracker),
            shared: self.shared.clone(),
            spec: spec.clone(),
        }));
    }

    pub(crate) async fn acquire(
        &self,
        spec: &Spec,
        now: Option<u64>,
        permit: &str,
    ) -> (Reply, Source) {
        let result = match &self.lane {
            Some(lane) => {
                let fut = lane.acquire(spec, now, permit);
                self.shared_op(spec, "acquire", fut).await
            }
            None => {
                let fut = self.shared.acquire(spec, now, permit);
                self.shared_op(spec, "acquire", fut).await
            }
        };
        let Ok(reply) = result else {
            return self.degraded(spec, now, permit).await;
        };
        let unforced_admission = reply.verdict == Verdict::Admitted && reply.forced == Forced::None;
        if !unforced_admission || !self.writes_refused() {
            return (reply, Source::Shared);
        }
        // The shared store admits but cannot count: the local breaker, which counts instead,
        // decides too. Its own trial calls stay its own.
        let (local, source) = self.degraded(spec, now, permit).await;
        if local.verdict == Verdict::Admitted && local.state == State::Closed {
            (reply, Source::Shared)
        } else {
            (local, source)
        }
    }

    /// The degraded mode's answer to an acquire.
    async fn degraded(&self, spec: &Spec, now: Option<u64>, permit: &str) -> (Reply, Source) {
        match spec.config().degraded {
            DegradedMode::Local => {
                match self.local.acquire(spec, Self::local_now(now), permit).await {
                    Ok(reply) => (reply, Source::Local),
                    Err(_) => unreachable_local(),
                }
            }
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
    ) -> Option<(Reply, Source)> {
        let fut = self.shared.record_batch(spec, now, generation, outcomes);
        let result = self.shared_op(spec, "record_batch", fut).await;
        self.counted(spec, now, result, outcomes).await
    }

    /// What became of outcomes sent to the shared store: its reply when it took them;
    /// otherwise (failed, skipped or refused) the local breaker counts them, and a refused
    /// write marks the store as not taking writes.
    async fn counted(
        &self,
        spec: &Spec,
        now: Option<u64>,
        result: Result<Reply, StoreError>,
        outcomes: &[Outcome],
    ) -> Option<(Reply, Source)> {
        match result {
            Ok(reply) => {
                self.took_write(spec, &reply);
                Some((reply, Source::Shared))
            }
            Err(error) => {
                self.refused_write(spec, &error);
                let mut last = None;
                for outcome in outcomes {
                    last = self.count_locally(spec, now, *outcome).await.or(last);
                }
                last
            }
        }
    }

    /// Reports an outcome to the store that admitted its call. `waited`: the caller waits for
    /// it (a coalescing store then sends it without waiting for an admission to go with).
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
        waited: bool,
    ) -> Option<(Reply, Source)> {
        match source {
            Source::Shared => {
                let result = match &self.lane {
                    Some(lane) => {
                        let queued = QueuedOutcome {
                            generation,
                            permit: permit.to_owned(),
                            admitted_at,
                            outcome,
                        };
                        let fut = lane.record(spec, now, queued, waited);
                        self.shared_op(spec, "record", fut).await
                    }
                    None => {
                        let fut =
                            self.shared
                                .record(spec, now, generation, permit, admitted_at, outcome);
                        self.shared_op(spec, "record", fut).await
                    }
                };
                self.counted(spec, now, result, &[outcome]).await
            }
            Source::Local => self
                .local
                .record(
                    spec,
                    Self::local_now(now),
                    generation,
                    permit,
                    admitted_at,
                    outcome,
                )
                .await
                .ok()
                .map(|r| (r, Source::Local)),
            Source::Bypass | Source::Cached => None,
        }
    }

    fn took_write(&self, spec: &Spec, reply: &Reply) {
        probe::took_write(spec, reply, &self.tracker);
        self.sync(spec);
    }

    fn refused_write(&self, spec: &Spec, error: &StoreError) {
        if error.class() == ErrorClass::Server {
            self.tracker.writes_refused.store(true, Ordering::Release);
            self.sync(spec);
        }
    }

    /// Counts an outcome the shared store did not take in the local breaker, so that a Redis
    /// that cannot count never leaves calls unprotected. It goes through the local breaker's
    /// own admission: an open local circuit needs no more failures, and a half-open one counts
    /// an outcome only with a trial permit of its own.
    async fn count_locally(
        &self,
        spec: &Spec,
        now: Option<u64>,
        outcome: Outcome,
    ) -> Option<(Reply, Source)> {
        if spec.config().degraded != DegradedMode::Local || outcome == Outcome::Ignored {
            return None;
        }
        let now = Self::local_now(now);
        let id = "unrecorded";
        let admitted = self.local.acquire(spec, now, id).await.ok()?;
        if admitted.verdict != Verdict::Admitted || admitted.forced != Forced::None {
            return None;
        }
        let reply = self
            .local
            .record(spec, now, admitted.generation, id, admitted.now_ms, outcome)
            .await
            .ok()?;
        // The admission may itself have been the transition (open to half-open).
        let reply = match (reply.transition, admitted.transition) {
            (None, Some(t)) => Reply {
                transition: Some(t),
                ..reply
            },
            _ => reply,
        };
        Some((reply, Source::Local))
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
        requests: 0,
        failures: 0,
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
