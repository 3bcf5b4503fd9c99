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

/// One breaker's shared state. The default is a breaker with no stored state yet: the first
/// operation creates it, closed, with the generation `now` (as a script does for a missing
/// key, so generations keep growing when keys are lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    created: bool,
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
            created: false,
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
    now: u64,
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
        now_ms: now,
        requests: m.requests,
        failures: m.failures,
    }
}

impl Machine {
    /// The current generation (0 before the first operation).
    #[cfg(any(test, feature = "testing"))]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// `load()` in lib.lua for a missing key: a new closed breaker starting at `now`.
    fn create(&mut self, now: u64) {
        if !self.created {
            *self = Machine {
                created: true,
                generation: now,
                window_start: now,
                ..Machine::default()
            };
        }
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
            self.open_until = now.saturating_add(ms(cfg.open_timeout));
        }
        self.leases.clear();
        self.buckets.clear();
        Transition { from, to }
    }

    /// acquire.lua
    pub fn acquire(&mut self, cfg: &Config, now: u64, permit: &str) -> Reply {
        self.create(now);
        match self.forced {
            Forced::Open => return reply(self, now, Verdict::Rejected, None, None),
            Forced::Closed | Forced::Disabled => {
                return reply(self, now, Verdict::Admitted, None, None);
            }
            Forced::None => {}
        }
        let mut transition = None;
        match self.state {
            State::Closed => return reply(self, now, Verdict::Admitted, None, None),
            State::Open if now < self.open_until => {
                let retry = self.open_until - now;
                return reply(self, now, Verdict::Rejected, Some(retry), None);
            }
            State::Open => transition = Some(self.transition(cfg, State::HalfOpen, now)),
            State::HalfOpen => {}
        }
        let latest = now.saturating_add(ms(cfg.lease));
        self.leases
            .retain(|_, expiry| *expiry > now && *expiry <= latest);
        if self.leases.len() as u64 >= u64::from(cfg.max_requests) {
            let first = self.leases.values().min().copied().unwrap_or(now);
            let retry = retry_hint(cfg, first - now);
            return reply(self, now, Verdict::Rejected, Some(retry), transition);
        }
        self.leases.insert(permit.to_owned(), latest);
        reply(self, now, Verdict::Admitted, None, transition)
    }

    /// record.lua; `admitted_at` is the `now_ms` of the reply that admitted the call.
    pub fn record(
        &mut self,
        cfg: &Config,
        now: u64,
        generation: u64,
        permit: &str,
        admitted_at: u64,
        outcome: Outcome,
    ) -> Reply {
        self.create(now);
        if generation != self.generation {
            return reply(self, now, Verdict::Stale, None, None);
        }
        if self.state == State::HalfOpen {
            return self.record_trial(cfg, now, permit, outcome);
        }
        if self.state != State::Closed || self.forced != Forced::None || outcome == Outcome::Ignored
        {
            return reply(self, now, Verdict::Ignored, None, None);
        }
        match self.count_closed(cfg, now, admitted_at, outcome == Outcome::Failure) {
            Counted::Dropped => reply(self, now, Verdict::Stale, None, None),
            Counted::Yes(t) => reply(self, now, Verdict::Counted, None, t),
        }
    }

    fn record_trial(&mut self, cfg: &Config, now: u64, permit: &str, outcome: Outcome) -> Reply {
        if self.leases.remove(permit).is_none() {
            return reply(self, now, Verdict::Stale, None, None);
        }
        match outcome {
            Outcome::Ignored => reply(self, now, Verdict::Released, None, None),
            Outcome::Failure => {
                let t = self.transition(cfg, State::Open, now);
                reply(self, now, Verdict::Counted, None, Some(t))
            }
            Outcome::Success => {
                self.half_open_successes += 1;
                let t = (self.half_open_successes >= u64::from(cfg.success_threshold))
                    .then(|| self.transition(cfg, State::Closed, now));
                reply(self, now, Verdict::Counted, None, t)
            }
        }
    }

    /// record_batch.lua: outcomes (successes and failures only) counted one by one as
    /// [`record`](Self::record) counts them, all admitted at `now`; those after a trip are
    /// dropped.
    pub fn record_batch(
        &mut self,
        cfg: &Config,
        now: u64,
        generation: u64,
        outcomes: &[Outcome],
    ) -> Reply {
        self.create(now);
        if generation != self.generation {
            return reply(self, now, Verdict::Stale, None, None);
        }
        if self.state != State::Closed || self.forced != Forced::None {
            return reply(self, now, Verdict::Ignored, None, None);
        }
        for outcome in outcomes {
            let failed = *outcome == Outcome::Failure;
            if let Counted::Yes(Some(t)) = self.count_closed(cfg, now, now, failed) {
                return reply(self, now, Verdict::Counted, None, Some(t));
            }
        }
        reply(self, now, Verdict::Counted, None, None)
    }

    /// `count_closed` in lib.lua: one outcome of a closed, unforced circuit.
    fn count_closed(&mut self, cfg: &Config, now: u64, at: u64, failed: bool) -> Counted {
        if !self.count(cfg, now, at.min(now), failed) {
            return Counted::Dropped;
        }
        if !failed {
            self.consecutive_failures = 0;
            return Counted::Yes(None);
        }
        self.consecutive_failures += 1;
        let trip = self.should_trip(cfg, self.requests, self.failures);
        Counted::Yes(trip.then(|| self.transition(cfg, State::Open, now)))
    }

    /// `window_count` in lib.lua: adds a call admitted at `at` to the window it was admitted
    /// in; false when that window has ended.
    fn count(&mut self, cfg: &Config, now: u64, at: u64, failed: bool) -> bool {
        match cfg.window {
            Window::Fixed(interval) => {
                let len = ms(interval).max(1);
                if now >= self.window_start.saturating_add(len) {
                    self.window_start += (now - self.window_start) / len * len;
                    self.requests = 0;
                    self.failures = 0;
                    self.consecutive_failures = 0;
                }
                if at < self.window_start {
                    return false;
                }
                self.requests += 1;
                self.failures += u64::from(failed);
            }
            Window::Rolling { length, buckets } => {
                let n = u64::from(buckets);
                let bucket_ms = (ms(length) / n).max(1);
                let id = at / bucket_ms;
                if id + n <= now / bucket_ms {
                    return false;
                }
                let bucket = self.buckets.entry(id % n).or_default();
                if bucket.id != id {
                    *bucket = Bucket {
                        id,
                        ..Bucket::default()
                    };
                }
                bucket.requests += 1;
                bucket.failures += u64::from(failed);
                (self.requests, self.failures) = self.rolling_sums(cfg, now);
            }
        }
        true
    }

    fn rolling_sums(&self, cfg: &Config, now: u64) -> (u64, u64) {
        let Window::Rolling { length, buckets } = cfg.window else {
            return (0, 0);
        };
        let n = u64::from(buckets);
        let bid = now / (ms(length) / n).max(1);
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
        self.create(now);
        let (forced, to) = match mode {
            ForceMode::Reset => (Forced::None, State::Closed),
            ForceMode::Open => (Forced::Open, State::Open),
            ForceMode::Closed => (Forced::Closed, State::Closed),
            ForceMode::Disabled => (Forced::Disabled, State::Closed),
        };
        self.forced = forced;
        let t = self.transition(cfg, to, now);
        reply(self, now, Verdict::Ok, None, Some(t))
    }

    /// snapshot.lua: a breaker with no state yet reads as the one a call would create, and
    /// reading creates nothing.
    pub fn snapshot(&self, cfg: &Config, now: u64) -> Snapshot {
        if !self.created {
            let mut new = Machine::default();
            new.create(now);
            return new.snapshot(cfg, now);
        }
        let (mut requests, mut failures, mut consecutive) =
            (self.requests, self.failures, self.consecutive_failures);
        if self.state == State::Closed {
            match cfg.window {
                Window::Fixed(interval)
                    if now >= self.window_start.saturating_add(ms(interval)) =>
                {
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

/// What counting one closed-state outcome came to.
enum Counted {
    /// The window its call was admitted in has ended.
    Dropped,
    /// Counted, with the transition it made, if any.
    Yes(Option<Transition>),
}

/// The retry hint of a full half-open circuit (see acquire.lua): a tenth of the lease, at
/// most the open timeout, no later than the first lease expires, at least 1 ms.
fn retry_hint(cfg: &Config, first_expiry_in: u64) -> u64 {
    (ms(cfg.lease) / 10)
        .min(ms(cfg.open_timeout))
        .min(first_expiry_in)
        .max(1)
}

/// Whole milliseconds of a duration, as every script argument is.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A ratio in parts per million, so that Lua and Rust compare the same integers.
pub(crate) fn ratio_ppm(ratio: f64) -> u32 {
    (ratio * 1_000_000.0).round() as u32
}
