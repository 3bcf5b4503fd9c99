//! Metrics through the `metrics` facade; a service installs the exporter of its choice.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `breaker_calls_total` | counter | `breaker`, `outcome` (success, failure, ignored) |
//! | `breaker_call_duration_seconds` | histogram | `breaker`, `outcome`: from admission to the outcome |
//! | `breaker_rejections_total` | counter | `breaker` |
//! | `breaker_transitions_total` | counter | `breaker`, `from`, `to`, `origin` (local, remote, degraded) |
//! | `breaker_state` | gauge | `breaker`, `state` (closed, open, half-open, forced-open, forced-closed, disabled): 1 for the state shown, 0 for the others |
//! | `breaker_failure_rate` | gauge | `breaker`: failures / calls in the current window (0 without calls) |
//! | `breaker_failure_rate_threshold` | gauge | `breaker`: the ratio that trips it (ratio policies only) |
//! | `breaker_store_errors_total` | counter | `breaker`, `op`, `class` (connection, timeout, server, protocol) |
//! | `breaker_degraded` | gauge | `breaker`: 1 while the shared state is unreachable |
//!
//! `origin` of a transition: `local` when this replica's script made it in the shared state,
//! `remote` when another replica made it (learnt through pub/sub), `degraded` when this
//! replica's own breaker made it while Redis was unreachable. Each shared transition is
//! counted `local` by exactly one replica, so `sum(breaker_transitions_total{origin="local"})`
//! over the fleet counts each once.
//!
//! Every metric has HELP text, and building a breaker creates all of its series at 0 (the
//! transitions an automatic breaker makes, and the store errors of every operation and class),
//! so that a fresh replica's `/metrics` already lists its breakers. The failure rate is that of
//! the replies which counted an outcome and of snapshots: a transition starts a new window, so
//! it drops to 0 when the circuit opens.
//!
//! The names and values are the crate's spelling everywhere: lower case, `half-open` with a
//! hyphen, as Redis and the JSON bodies spell it.

use std::sync::Mutex;
use std::time::Duration;

use crate::config::{Config, TripPolicy};
use crate::events::{Scope, StateChange};
use crate::protocol::{Forced, Outcome, State};
use crate::store::ErrorClass;

/// Every value of `breaker_state`'s `state` label.
const STATES: [&str; 6] = [
    "closed",
    "open",
    "half-open",
    "forced-open",
    "forced-closed",
    "disabled",
];
const OUTCOMES: [Outcome; 3] = [Outcome::Success, Outcome::Failure, Outcome::Ignored];
/// The transitions made without an operator: the ones worth a series from the start.
const AUTOMATIC: [(State, State); 4] = [
    (State::Closed, State::Open),
    (State::Open, State::HalfOpen),
    (State::HalfOpen, State::Open),
    (State::HalfOpen, State::Closed),
];
const ORIGINS: [&str; 3] = ["local", "remote", "degraded"];
const STORE_OPS: [&str; 5] = ["acquire", "record", "record_batch", "snapshot", "force"];
const ERROR_CLASSES: [ErrorClass; 4] = [
    ErrorClass::Connection,
    ErrorClass::Timeout,
    ErrorClass::Server,
    ErrorClass::Protocol,
];

/// The name of the state an operator sees: an override shows instead of the state it holds.
pub(crate) fn state_label(state: State, forced: Forced) -> &'static str {
    match forced {
        Forced::None => state.as_str(),
        Forced::Open => "forced-open",
        Forced::Closed => "forced-closed",
        Forced::Disabled => "disabled",
    }
}

/// The `origin` label of a transition, also logged with it.
pub(crate) fn origin(scope: Scope) -> &'static str {
    match scope {
        Scope::Shared => "local",
        Scope::Remote => "remote",
        Scope::Local => "degraded",
    }
}

/// Describes the breaker metrics and creates this breaker's series at 0, so that a fresh
/// replica exposes them (with HELP text) before the first call. `breaker_state` shows closed
/// until the first reply or event reports the shared state.
pub(crate) fn register(breaker: &str, config: &Config) {
    describe();
    let name = || breaker.to_owned();
    for outcome in OUTCOMES {
        metrics::counter!("breaker_calls_total", "breaker" => name(), "outcome" => outcome.label())
            .increment(0);
        let _ = metrics::histogram!("breaker_call_duration_seconds", "breaker" => name(), "outcome" => outcome.label());
    }
    metrics::counter!("breaker_rejections_total", "breaker" => name()).increment(0);
    for (from, to) in AUTOMATIC {
        for origin in ORIGINS {
            metrics::counter!("breaker_transitions_total", "breaker" => name(),
                "from" => from.as_str(), "to" => to.as_str(), "origin" => origin)
            .increment(0);
        }
    }
    for op in STORE_OPS {
        for class in ERROR_CLASSES {
            metrics::counter!("breaker_store_errors_total", "breaker" => name(), "op" => op,
                "class" => class.as_str())
            .increment(0);
        }
    }
    for state in STATES {
        let shown = if state == "closed" { 1.0 } else { 0.0 };
        metrics::gauge!("breaker_state", "breaker" => name(), "state" => state).set(shown);
    }
    failure_rate(breaker, 0, 0);
    if let TripPolicy::FailureRatio { ratio, .. } = config.trip {
        metrics::gauge!("breaker_failure_rate_threshold", "breaker" => name()).set(ratio);
    }
    degraded(breaker, false);
}

fn describe() {
    metrics::describe_counter!(
        "breaker_calls_total",
        "Calls a breaker let through, by outcome (success, failure, ignored)."
    );
    metrics::describe_histogram!(
        "breaker_call_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a call's admission to its outcome, by outcome."
    );
    metrics::describe_counter!(
        "breaker_rejections_total",
        "Calls a breaker rejected without running them."
    );
    metrics::describe_counter!(
        "breaker_transitions_total",
        "State transitions seen by this replica; origin is local when its own script made it, remote when another replica did, degraded when its local breaker did while Redis was unreachable."
    );
    metrics::describe_gauge!(
        "breaker_state",
        "1 for the state a breaker is in (closed, open, half-open, forced-open, forced-closed, disabled), 0 for the others."
    );
    metrics::describe_gauge!(
        "breaker_failure_rate",
        "Failures over calls counted in the breaker's current window (0 without calls)."
    );
    metrics::describe_gauge!(
        "breaker_failure_rate_threshold",
        "The failure rate at which the breaker opens (failure-ratio policies only)."
    );
    metrics::describe_counter!(
        "breaker_store_errors_total",
        "Failed operations on a breaker's shared state, by operation and error class."
    );
    metrics::describe_gauge!(
        "breaker_degraded",
        "1 while a breaker's shared state is unreachable and it decides locally, else 0."
    );
}

/// A call's outcome and how long it took from its admission.
pub(crate) fn call(breaker: &str, outcome: Outcome, took: Duration) {
    metrics::counter!("breaker_calls_total", "breaker" => breaker.to_owned(), "outcome" => outcome.label()).increment(1);
    metrics::histogram!("breaker_call_duration_seconds", "breaker" => breaker.to_owned(), "outcome" => outcome.label())
        .record(took.as_secs_f64());
}

pub(crate) fn rejected(breaker: &str) {
    metrics::counter!("breaker_rejections_total", "breaker" => breaker.to_owned()).increment(1);
}

/// Counts a transition; the state gauges follow through `shown`.
pub(crate) fn transition(event: &StateChange, shown: &ShownState) {
    metrics::counter!("breaker_transitions_total", "breaker" => event.breaker.clone(),
        "from" => event.from.as_str(), "to" => event.to.as_str(), "origin" => origin(event.scope))
    .increment(1);
    shown.set(event.to, event.forced);
}

/// The current window's failure rate.
pub(crate) fn failure_rate(breaker: &str, requests: u64, failures: u64) {
    let rate = if requests == 0 {
        0.0
    } else {
        failures as f64 / requests as f64
    };
    metrics::gauge!("breaker_failure_rate", "breaker" => breaker.to_owned()).set(rate);
}

pub(crate) fn store_error(breaker: &str, op: &'static str, class: ErrorClass) {
    metrics::counter!("breaker_store_errors_total", "breaker" => breaker.to_owned(), "op" => op,
        "class" => class.as_str())
    .increment(1);
}

pub(crate) fn degraded(breaker: &str, on: bool) {
    metrics::gauge!("breaker_degraded", "breaker" => breaker.to_owned()).set(if on {
        1.0
    } else {
        0.0
    });
}

/// The `breaker_state` gauges of one breaker. Every reply reports the state, so the six
/// gauges are only rewritten when the state shown changes; the lock keeps two replies that
/// race from leaving two states at 1.
#[derive(Debug)]
pub(crate) struct ShownState {
    breaker: String,
    shown: Mutex<&'static str>,
}

impl ShownState {
    pub(crate) fn new(breaker: &str) -> Self {
        Self {
            breaker: breaker.to_owned(),
            shown: Mutex::new("closed"),
        }
    }

    pub(crate) fn set(&self, state: State, forced: Forced) {
        let label = state_label(state, forced);
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        if *shown == label {
            return;
        }
        *shown = label;
        for state in STATES {
            let value = if state == label { 1.0 } else { 0.0 };
            metrics::gauge!("breaker_state", "breaker" => self.breaker.clone(), "state" => state)
                .set(value);
        }
    }
}
