//! The background probe of a degraded store: after each back-off period it asks for a snapshot
//! (a read, cheap), so that replicas with no traffic learn that Redis is back, and
//! `is_degraded` (a service's health check) stops saying otherwise. While Redis refuses writes
//! it also tries an empty batch (a write that counts nothing), so that the replica learns when
//! writes are taken again even if its local breaker rejects every call.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use tracing::{debug, info, warn};

use super::health::{Attempt, Tracker};
use super::refusal::Refusal;
use super::{ErrorClass, Spec, Store};
use crate::metrics;
use crate::protocol::{Forced, Reply, State, Verdict};

/// What one probe task needs; it ends when every breaker on the store is dropped or the store
/// is healthy again.
pub(crate) struct Probe {
    pub(crate) tracker: Weak<Tracker>,
    pub(crate) shared: Arc<dyn Store>,
    /// The breaker whose call found the store failing; any breaker's state will do.
    pub(crate) spec: Spec,
}

pub(crate) async fn run(probe: Probe) {
    let backoff = probe.spec.config().retry_backoff;
    loop {
        tokio::time::sleep(backoff).await;
        let Some(tracker) = probe.tracker.upgrade() else {
            return;
        };
        if tracker.health.is_degraded() {
            probe.reads(&tracker).await;
        }
        if !tracker.health.is_degraded() && tracker.writes_refused.load(Ordering::Acquire) {
            probe.writes(&tracker).await;
        }
        if !tracker.is_degraded() {
            return;
        }
    }
}

impl Probe {
    async fn reads(&self, tracker: &Tracker) {
        let timeout = self.spec.config().store_timeout;
        let attempt = tracker
            .health
            .run(timeout, || self.shared.snapshot(&self.spec, None))
            .await;
        match attempt {
            Attempt::Answered {
                recovered: true, ..
            } => info!(
                breaker = self.spec.name(),
                "the shared store answers again (background probe)"
            ),
            // The probe is usually the one caller that tries a failing store: a refusal
            // (login, ACL) is said again from here, or it would be said only once.
            Attempt::Failed { error, .. } => {
                if let Some(fix) = Refusal::of(&error) {
                    metrics::store_error(self.spec.name(), "probe", fix.class());
                    if tracker.nag.due() {
                        warn!(breaker = self.spec.name(), %error, %fix,
                            "redis still refuses the breaker; protecting calls locally");
                    }
                }
            }
            _ => {}
        }
    }

    async fn writes(&self, tracker: &Tracker) {
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
            took_write(&self.spec, &reply, tracker);
        }
    }
}

/// While Redis refuses a command of the breaker: after each back-off, asks which permissions
/// are missing (`rights.lua`); logs them with the fix (repeated on the tracker's doubling
/// back-off) and counts each check in `breaker_store_errors_total` (class `permission`), until
/// nothing is missing, when the breakers go back to the shared state.
pub(crate) async fn rights(probe: Probe) {
    let backoff = probe.spec.config().retry_backoff;
    let name = probe.spec.name();
    loop {
        tokio::time::sleep(backoff).await;
        let Some(tracker) = probe.tracker.upgrade() else {
            return;
        };
        let timeout = probe.spec.config().store_timeout;
        let check = tokio::time::timeout(timeout, probe.shared.missing_rights(&probe.spec));
        match check.await {
            Ok(Ok(missing)) if missing.is_empty() => {
                tracker.nag.reset();
                tracker.denied.store(false, Ordering::Release);
                info!(
                    breaker = name,
                    "the Redis user has every permission the breaker needs again; using the shared state"
                );
                return;
            }
            Ok(Ok(missing)) => {
                metrics::store_error(name, "rights", ErrorClass::Permission);
                if tracker.nag.due() {
                    let fix = Refusal::Permission {
                        command: missing
                            .first()
                            .and_then(|m| m.split(' ').next())
                            .map(str::to_owned),
                        target: None,
                    };
                    warn!(breaker = name, missing = %missing.join(", "), %fix,
                        "the Redis user still lacks permissions the breaker needs; protecting calls locally");
                }
            }
            Ok(Err(error)) => {
                metrics::store_error(name, "rights", error.class());
                if tracker.nag.due() {
                    warn!(breaker = name, %error, "cannot check the Redis user's permissions; protecting calls locally");
                }
            }
            Err(_) => debug!(breaker = name, "the permission check timed out"),
        }
    }
}

/// A write the shared store took ends a period of refused writes.
pub(crate) fn took_write(spec: &Spec, reply: &Reply, tracker: &Tracker) {
    let wrote = matches!(reply.verdict, Verdict::Counted | Verdict::Released);
    // Read before writing: every counted outcome passes here, and a write to the shared flag
    // on each would bounce its cache line between cores.
    if wrote
        && tracker.writes_refused.load(Ordering::Acquire)
        && tracker.writes_refused.swap(false, Ordering::AcqRel)
    {
        info!(
            breaker = spec.name(),
            "the shared store takes writes again; outcomes are counted there"
        );
    }
}
