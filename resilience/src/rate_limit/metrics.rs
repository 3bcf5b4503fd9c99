//! The rate limiter's metrics, through the `metrics` facade.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `rate_limit_allowed_total` | counter | `limiter` |
//! | `rate_limit_rejected_total` | counter | `limiter` |
//! | `rate_limit_degraded` | gauge | `limiter`: 1 while Redis is unreachable and each replica limits on its own |

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
