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

use crate::events::{Scope, StateChange};
use crate::protocol::{Outcome, State};
use crate::store::ErrorClass;

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
