//! Cached admission: a replica's view of a closed circuit admits calls with no Redis round
//! trip, and outcomes reach Redis in batches that the scripts count one by one, so every
//! transition is still made atomically in Redis.
//!
//! The view is renewed by every reply from Redis (acquire or batch) and moved forward by the
//! transitions other replicas publish; it is trusted only while the pub/sub subscription is
//! up, and never longer than `max_staleness` without a reply. Half-open admission is never
//! cached: it always asks Redis, so trial calls stay exact fleet-wide.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::protocol::{Forced, Outcome, Reply, State};

/// Outcomes kept at most while Redis is slow to take them; later ones are dropped (the
/// breaker is then degraded and stops admitting from the cache anyway).
const MAX_PENDING_BATCHES: usize = 64;

#[derive(Debug)]
pub(crate) struct Cached {
    flush_interval: Duration,
    max_batch: usize,
    max_staleness: Duration,
    view: Mutex<View>,
    pending: Mutex<Vec<(u64, Outcome)>>,
    wake: Notify,
}

#[derive(Debug, Clone, Copy)]
struct View {
    state: State,
    forced: Forced,
    generation: u64,
    fresh_until: Option<Instant>,
    open_until: Option<Instant>,
}

/// What the view says about one call.
pub(crate) enum Decision {
    Admit {
        state: State,
        forced: Forced,
        generation: u64,
    },
    Reject {
        state: State,
        forced: Forced,
        generation: u64,
        retry_after: Option<Duration>,
    },
    AskStore,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Cached {
    pub(crate) fn new(flush_interval: Duration, max_batch: u32, max_staleness: Duration) -> Self {
        let view = View {
            state: State::Closed,
            forced: Forced::None,
            generation: 0,
            fresh_until: None,
            open_until: None,
        };
        Cached {
            flush_interval,
            max_batch: max_batch as usize,
            max_staleness,
            view: Mutex::new(view),
            pending: Mutex::new(Vec::new()),
            wake: Notify::new(),
        }
    }

    pub(crate) fn decide(&self, now: Instant) -> Decision {
        let v = *lock(&self.view);
        if v.fresh_until.is_none_or(|t| now >= t) {
            return Decision::AskStore;
        }
        let (state, forced, generation) = (v.state, v.forced, v.generation);
        match (forced, state) {
            (Forced::Open, _) => Decision::Reject {
                state,
                forced,
                generation,
                retry_after: None,
            },
            (Forced::Closed | Forced::Disabled, _) | (Forced::None, State::Closed) => {
                Decision::Admit {
                    state,
                    forced,
                    generation,
                }
            }
            (Forced::None, State::Open) => match v.open_until {
                Some(t) if now < t => Decision::Reject {
                    state,
                    forced,
                    generation,
                    retry_after: Some(t - now),
                },
                _ => Decision::AskStore,
            },
            (Forced::None, State::HalfOpen) => Decision::AskStore,
        }
    }

    /// A reply from Redis to this replica: the shared state as it is, trusted for
    /// `max_staleness` when `listening` (other replicas' transitions will reach us).
    /// A reply older than the view (a batch answered before a transition that pub/sub has
    /// already delivered) says nothing new and must not move the view back.
    pub(crate) fn learn_reply(&self, reply: &Reply, listening: bool, now: Instant) {
        let mut v = lock(&self.view);
        if reply.generation < v.generation {
            return;
        }
        v.state = reply.state;
        v.forced = reply.forced;
        v.generation = reply.generation;
        v.fresh_until = listening.then(|| now + self.max_staleness);
        v.open_until = match (reply.state, reply.retry_after) {
            (State::Open, Some(after)) => Some(now + after),
            _ => None,
        };
    }

    /// Another replica's transition: moves the view forward, never back.
    pub(crate) fn learn_transition(&self, to: State, forced: Forced, generation: u64) {
        let mut v = lock(&self.view);
        if generation >= v.generation {
            v.state = to;
            v.forced = forced;
            v.generation = generation;
            v.open_until = None;
        }
    }

    /// Queues an outcome for the next batch; never waits for Redis.
    pub(crate) fn push(&self, generation: u64, outcome: Outcome) {
        if outcome == Outcome::Ignored {
            return;
        }
        let mut pending = lock(&self.pending);
        if pending.len() >= self.max_batch * MAX_PENDING_BATCHES {
            return;
        }
        pending.push((generation, outcome));
        if pending.len() == 1 || pending.len() >= self.max_batch {
            self.wake.notify_one();
        }
    }

    /// Resolves when outcomes should be sent: a full batch at once, else `flush_interval`
    /// after the first one was queued.
    pub(crate) async fn batch_due(&self) {
        self.wake.notified().await;
        if self.pending() < self.max_batch {
            tokio::time::sleep(self.flush_interval).await;
        }
    }

    pub(crate) fn take(&self) -> Vec<(u64, Outcome)> {
        std::mem::take(&mut *lock(&self.pending))
    }

    pub(crate) fn max_batch(&self) -> usize {
        self.max_batch
    }

    fn pending(&self) -> usize {
        lock(&self.pending).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Verdict;

    fn reply(state: State, generation: u64) -> Reply {
        Reply {
            verdict: Verdict::Counted,
            state,
            forced: Forced::None,
            generation,
            retry_after: None,
            transition: None,
            repaired: false,
            now_ms: 0,
            requests: 0,
            failures: 0,
        }
    }

    #[test]
    fn an_old_batch_reply_does_not_reopen_admission_after_a_newer_transition() {
        let cached = Cached::new(Duration::from_millis(2), 16, Duration::from_secs(60));
        let now = Instant::now();
        cached.learn_reply(&reply(State::Closed, 4), true, now);
        cached.learn_transition(State::Open, Forced::None, 5);
        // The reply to a batch sent under generation 4, answered before the trip.
        cached.learn_reply(&reply(State::Closed, 4), true, now);
        assert!(
            !matches!(cached.decide(now), Decision::Admit { .. }),
            "an open circuit must not admit from the cache"
        );
    }
}
