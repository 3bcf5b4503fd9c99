//! The rate limiter's metrics, through the `metrics` facade.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `rate_limit_allowed_total` | counter | `limiter` |
//! | `rate_limit_rejected_total` | counter | `limiter` |
//! | `rate_limit_degraded` | gauge | `limiter`: 1 while Redis is unreachable and each replica limits on its own |
//!
//! Building a limiter describes them and creates its series at 0.

/// Describes the limiter metrics and creates this limiter's series at 0, so that a fresh replica
/// exposes them (with HELP text) before the first call.
pub(crate) fn register(limiter: &str) {
    metrics::describe_counter!("rate_limit_allowed_total", "Calls a rate limiter allowed.");
    metrics::describe_counter!(
        "rate_limit_rejected_total",
        "Calls a rate limiter rejected."
    );
    metrics::describe_gauge!(
        "rate_limit_degraded",
        "1 while Redis is unreachable and each replica limits on its own, else 0."
    );
    for name in ["rate_limit_allowed_total", "rate_limit_rejected_total"] {
        metrics::counter!(name, "limiter" => limiter.to_owned()).increment(0);
    }
    degraded(limiter, false);
}

pub(crate) fn decided(limiter: &str, allowed: bool) {
    let name = if allowed {
        "rate_limit_allowed_total"
    } else {
        "rate_limit_rejected_total"
    };
    metrics::counter!(name, "limiter" => limiter.to_owned()).increment(1);
}

pub(crate) fn degraded(limiter: &str, on: bool) {
    metrics::gauge!("rate_limit_degraded", "limiter" => limiter.to_owned()).set(if on {
        1.0
    } else {
        0.0
    });
}
