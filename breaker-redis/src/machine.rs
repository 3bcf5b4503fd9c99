//! The pure state machine: the executable specification of the Lua scripts in `lua/`.
//!
//! `(machine, operation, now) -> (machine, reply)`, with no I/O and no clock of its own. The
//! in-memory store runs it, and the property tests hold the scripts to it reply for reply, so
//! every rule here has a twin in `lua/*.lua` and the two change together.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{Config, TripPolicy, Window};
use crate::protocol::{ForceMode, Forced, Outcome, Reply, Snapshot, State, Transition, Verdict};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bucket {
    id: u64,
    requests: u64,
    failures: u64,
}

/// One breaker's shared state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    state: State,
    forced: Forced,
    generation: u64,
    open_until: u64,
    window_start: u64,
    requests: u64,
    failures: u64,
    consecutive_failures: u64,
    half_open_successes: u64,
    buckets: BTreeMap<u64, Bucket>,
    leases: BTreeMap<String, u64>,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            state: State::Closed,
            forced: Forced::None,
            generation: 0,
            open_until: 0,
            window_start: 0,
            requests: 0,
            failures: 0,
            consecutive_failures: 0,
            half_open_successes: 0,
            buckets: BTreeMap::new(),
            leases: BTreeMap::new(),
        }
    }
}

/// Internal transitions carry the reason published with them; the machine has no channel, so
/// the reason only documents the twin in Lua.
fn reply(
    m: &Machine,
    verdict: Verdict,
    retry_after: Option<u64>,
    transition: Option<Transition>,
) -> Reply {
    Reply {
        verdict,
        state: m.state,
        forced: m.forced,
        generation: m.generation,
        retry_after: retry_after.map(Duration::from_millis),
        transition,
        repaired: false,
    }
}

impl Machine {
    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn transition(&mut self, cfg: &Config, to: State, now: u64) -> Transition {
        let from = self.state;
        self.generation += 1;
        self.state = to;
        self.requests = 0;
        self.failures = 0;
        self.consecutive_failures = 0;
        self.half_open_successes = 0;
        self.window_start = now;
        self.open_until = 0;
        if to == State::Open && self.forced == Forced::None {
            self.open_until = now + ms(cfg.open_timeout);
        }
        self.leases.clear();
        self.buckets.clear();
        Transition { from, to }
    }

    /// acquire.lua
    pub fn acquire(&mut self, cfg: &Config, now: u64, permit: &str) -> Reply {
        match self.forced {
            Forced::Open => return reply(self, Verdict::Rejected, None, None),
            Forced::Closed | Forced::Disabled => return reply(self, Verdict::Admitted, None, None),
            Forced::None => {}
        }
        let mut transition = None;
        match self.state {
            State::Closed => return reply(self, Verdict::Admitted, None, None),
            State::Open if now < self.open_until => {
                return reply(self, Verdict::Rejected, Some(self.open_until - now), None);
            }
            State::Open => transition = Some(self.transition(cfg, State::HalfOpen, now)),
            State::HalfOpen => {}
        }
        self.leases.retain(|_, expiry| *expiry > now);
        if self.leases.len() as u64 >= u64::from(cfg.max_requests) {
            let first = self.leases.values().min().copied().unwrap_or(now);
            let retry = first.saturating_sub(now).max(1);
            return reply(self, Verdict::Rejected, Some(retry), transition);
        }
        self.leases.insert(permit.to_owned(), now + ms(cfg.lease));
        reply(self, Verdict::Admitted, None, transition)
    }

    /// record.lua
    pub fn record(
        &mut self,
        cfg: &Config,
        now: u64,
        generation: u64,
        permit: &str,
        outcome: Outcome,
    ) -> Reply {
        if generation != self.generation {
            return reply(self, Verdict::Stale, None, None);
        }
        if self.state == State::HalfOpen {
            if self.leases.remove(permit).is_none() {
                return reply(self, Verdict::Stale, None, None);
            }
            return match outcome {
                Outcome::Ignored => reply(self, Verdict::Released, None, None),
                Outcome::Failure => {
                    let t = self.transition(cfg, State::Open, now);
                    reply(self, Verdict::Counted, None, Some(t))
                }
                Outcome::Success => {
                    self.half_open_successes += 1;
                    let t = (self.half_open_successes >= u64::from(cfg.success_threshold))
                        .then(|| self.transition(cfg, State::Closed, now));
                    reply(self, Verdict::Counted, None, t)
                }
            };
        }
        if self.state != State::Closed || self.forced != Forced::None || outcome == Outcome::Ignored
        {
            return reply(self, Verdict::Ignored, None, None);
        }
        let t = self.count_closed(cfg, now, outcome == Outcome::Failure);
        reply(self, Verdict::Counted, None, t)
    }

    /// record_batch.lua: outcomes (successes and failures only) counted one by one as
    /// [`record`](Self::record) counts them; those after a trip are dropped.
    pub fn record_batch(
        &mut self,
        cfg: &Config,
        now: u64,
        generation: u64,
        outcomes: &[Outcome],
    ) -> Reply {
        if generation != self.generation {
            return reply(self, Verdict::Stale, None, None);
        }
        if self.state != State::Closed || self.forced != Forced::None {
            return reply(self, Verdict::Ignored, None, None);
        }
        for outcome in outcomes {
            if let Some(t) = self.count_closed(cfg, now, *outcome == Outcome::Failure) {
                return reply(self, Verdict::Counted, None, Some(t));
            }
        }
        reply(self, Verdict::Counted, None, None)
    }

    /// `count_closed` in lib.lua: one outcome of a closed, unforced circuit.
    fn count_closed(&mut self, cfg: &Config, now: u64, failed: bool) -> Option<Transition> {
        let (requests, failures) = self.count(cfg, now, failed);
        if !failed {
            self.consecutive_failures = 0;
            return None;
        }
        self.consecutive_failures += 1;
        self.should_trip(cfg, requests, failures)
            .then(|| self.transition(cfg, State::Open, now))
    }

    /// Adds one call to the window; returns the window's requests and failures.
    fn count(&mut self, cfg: &Config, now: u64, failed: bool) -> (u64, u64) {
        match cfg.window {
            Window::Fixed(interval) => {
                if now >= self.window_start + ms(interval) {
                    self.requests = 0;
                    self.failures = 0;
                    self.consecutive_failures = 0;
                    self.window_start = now;
                }
                self.requests += 1;
                self.failures += u64::from(failed);
            }
            Window::Rolling { length, buckets } => {
                let n = u64::from(buckets);
                let bid = now / (ms(length) / n);
                let bucket = self.buckets.entry(bid % n).or_default();
                if bucket.id != bid {
                    *bucket = Bucket {
                        id: bid,
                        ..Bucket::default()
                    };
                }
                bucket.requests += 1;
                bucket.failures += u64::from(failed);
                (self.requests, self.failures) = self.rolling_sums(cfg, now);
            }
        }
        (self.requests, self.failures)
    }

    fn rolling_sums(&self, cfg: &Config, now: u64) -> (u64, u64) {
        let Window::Rolling { length, buckets } = cfg.window else {
            return (0, 0);
        };
        let n = u64::from(buckets);
        let bid = now / (ms(length) / n);
        self.buckets
            .values()
            .filter(|b| b.id + n > bid && b.id <= bid)
            .fold((0, 0), |(r, f), b| (r + b.requests, f + b.failures))
    }

    fn should_trip(&self, cfg: &Config, requests: u64, failures: u64) -> bool {
        match cfg.trip {
            TripPolicy::ConsecutiveFailures(n) => self.consecutive_failures >= u64::from(n),
            TripPolicy::FailureCount(n) => failures >= u64::from(n),
            TripPolicy::FailureRatio {
                ratio,
                min_requests,
                strict,
            } => {
                if requests == 0 || requests < u64::from(min_requests) {
                    return false;
                }
                let lhs = u128::from(failures) * 1_000_000;
                let rhs = u128::from(ratio_ppm(ratio)) * u128::from(requests);
                if strict { lhs > rhs } else { lhs >= rhs }
            }
        }
    }

    /// force.lua
    pub fn force(&mut self, cfg: &Config, now: u64, mode: ForceMode) -> Reply {
        let (forced, to) = match mode {
            ForceMode::Reset => (Forced::None, State::Closed),
            ForceMode::Open => (Forced::Open, State::Open),
            ForceMode::Closed => (Forced::Closed, State::Closed),
            ForceMode::Disabled => (Forced::Disabled, State::Closed),
        };
        self.forced = forced;
        let t = self.transition(cfg, to, now);
        reply(self, Verdict::Ok, None, Some(t))
    }

    /// snapshot.lua
    pub fn snapshot(&self, cfg: &Config, now: u64) -> Snapshot {
        let (mut requests, mut failures, mut consecutive) =
            (self.requests, self.failures, self.consecutive_failures);
        if self.state == State::Closed {
            match cfg.window {
                Window::Fixed(interval) if now >= self.window_start + ms(interval) => {
                    (requests, failures, consecutive) = (0, 0, 0);
                }
                Window::Fixed(_) => {}
                Window::Rolling { .. } => (requests, failures) = self.rolling_sums(cfg, now),
            }
        }
        let in_flight = if self.state == State::HalfOpen {
            self.leases.values().filter(|expiry| **expiry > now).count() as u64
        } else {
            0
        };
        Snapshot {
            state: self.state,
            forced: self.forced,
            generation: self.generation,
            open_until_ms: self.open_until,
            requests,
            failures,
            consecutive_failures: consecutive,
            half_open_successes: self.half_open_successes,
            in_flight,
            now_ms: now,
            repaired: false,
        }
    }
}

/// Whole milliseconds of a duration, as every script argument is.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A ratio in parts per million, so that Lua and Rust compare the same integers.
pub(crate) fn ratio_ppm(ratio: f64) -> u32 {
    (ratio * 1_000_000.0).round() as u32
}
