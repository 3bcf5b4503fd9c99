//! Metrics through the `metrics` facade; a service installs the exporter of its choice.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `breaker_calls_total` | counter | `breaker`, `outcome` (success, failure, ignored) |
//! | `breaker_rejections_total` | counter | `breaker` |
//! | `breaker_transitions_total` | counter | `breaker`, `from`, `to`, `scope` |
//! | `breaker_state` | gauge | `breaker`: 0 closed, 1 open, 2 half-open |
//! | `breaker_store_errors_total` | counter | `breaker`, `op`, `class` (connection, timeout, server, protocol) |
//! | `breaker_degraded` | gauge | `breaker`: 1 while the shared state is unreachable |
//!
//! Every metric has HELP text, and building a breaker creates its `calls`, `rejections`, `state`
//! and `degraded` series at 0 (transitions and store errors appear with their first event), so
//! that a fresh replica's `/metrics` already lists its breakers.

use crate::events::{Scope, StateChange};
use crate::protocol::{Outcome, State};
use crate::store::ErrorClass;

/// Describes the breaker metrics and creates this breaker's series at 0, so that a fresh replica
/// exposes them (with HELP text) before the first call. `breaker_state` reads closed until the
/// first call or event reports the shared state.
pub(crate) fn register(breaker: &str) {
    describe();
    for outcome in [Outcome::Success, Outcome::Failure, Outcome::Ignored] {
        metrics::counter!("breaker_calls_total", "breaker" => breaker.to_owned(), "outcome" => outcome.label()).increment(0);
    }
    metrics::counter!("breaker_rejections_total", "breaker" => breaker.to_owned()).increment(0);
    metrics::gauge!("breaker_state", "breaker" => breaker.to_owned()).increment(0.0);
    degraded(breaker, false);
}

fn describe() {
    metrics::describe_counter!(
        "breaker_calls_total",
        "Calls a breaker let through, by outcome (success, failure, ignored)."
    );
    metrics::describe_counter!(
        "breaker_rejections_total",
        "Calls a breaker rejected without running them."
    );
    metrics::describe_counter!(
        "breaker_transitions_total",
        "State transitions seen by this replica; scope tells its own (shared, local) from other replicas' (remote)."
    );
    metrics::describe_gauge!(
        "breaker_state",
        "A breaker's state: 0 closed, 1 open, 2 half-open."
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

pub(crate) fn call(breaker: &str, outcome: Outcome) {
    metrics::counter!("breaker_calls_total", "breaker" => breaker.to_owned(), "outcome" => outcome.label()).increment(1);
}

pub(crate) fn rejected(breaker: &str) {
    metrics::counter!("breaker_rejections_total", "breaker" => breaker.to_owned()).increment(1);
}

pub(crate) fn transition(event: &StateChange) {
    let scope = match event.scope {
        Scope::Shared => "shared",
        Scope::Remote => "remote",
        Scope::Local => "local",
    };
    metrics::counter!("breaker_transitions_total", "breaker" => event.breaker.clone(),
        "from" => event.from.as_str(), "to" => event.to.as_str(), "scope" => scope)
    .increment(1);
    state(&event.breaker, event.to);
}

pub(crate) fn state(breaker: &str, state: State) {
    metrics::gauge!("breaker_state", "breaker" => breaker.to_owned()).set(state.as_gauge());
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
