//! The targets, each a ratio or a value measured in this run against its goal.

use serde_json::{Value, json};

use crate::report::num;

/// One target: `measured` compared with `goal` (`at_least` or at most).
fn target(name: &str, measured: Option<f64>, goal: f64, at_least: bool, unit: &str) -> Value {
    let met = measured.map(|m| if at_least { m >= goal } else { m <= goal });
    let sign = if at_least { ">=" } else { "<=" };
    json!({
        "target": name,
        "goal": format!("{sign} {goal}{unit}"),
        "measured": measured.map(|m| crate::stats::round(m, 3)),
        "met": met,
    })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The targets, each with the measured ratio or value and whether it is met
/// (`null` when a figure is missing).
pub fn evaluate(s: &Value) -> Value {
    let strict_c256 = num(s, "lib/strict/calls_per_s_c256");
    json!([
        target(
            "strict calls_per_s_c256 / evalsha_ceiling_per_s",
            ratio(strict_c256, num(s, "evalsha_ceiling_per_s")),
            0.4,
            true,
            "",
        ),
        target(
            "strict added_us_p50 / PING p50 (measured in turns)",
            ratio(
                num(s, "lib/strict/added_us_p50"),
                num(s, "lib/strict/ping_us_p50").or(num(s, "ping_rtt_us_p50")),
            ),
            1.3,
            false,
            "",
        ),
        target(
            "strict redis_us_per_call_c1 (Redis CPU per call, 1 task)",
            num(s, "lib/strict/redis_us_per_call_c1"),
            8.0,
            false,
            " µs",
        ),
        target(
            "strict redis_us_per_call_c256 (Redis CPU per call, 256 tasks)",
            num(s, "lib/strict/redis_us_per_call_c256"),
            2.0,
            false,
            " µs",
        ),
        target(
            "cached redis_cmds_per_call",
            num(s, "lib/cached/redis_cmds_per_call"),
            0.05,
            false,
            "",
        ),
        target(
            "cached calls_per_s_c256 / strict calls_per_s_c256",
            ratio(num(s, "lib/cached/calls_per_s_c256"), strict_c256),
            20.0,
            true,
            "",
        ),
        target(
            "convergence p99 (cached observer)",
            num(s, "convergence_ms/p99"),
            5.0,
            false,
            " ms",
        ),
        target(
            "service_a shared rps / none rps",
            ratio(num(s, "service_a/shared/rps"), num(s, "service_a/none/rps")),
            0.9,
            true,
            "",
        ),
        target(
            "strict / pybreaker calls/s at 1 task (in turns)",
            ratio(
                num(s, "peers/pybreaker_redis/strict_calls_per_s_c1")
                    .or(num(s, "lib/strict/calls_per_s_c1")),
                num(s, "peers/pybreaker_redis/calls_per_s_c1"),
            ),
            2.5,
            true,
            "",
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_compare_ratios() {
        let s =
            json!({"evalsha_ceiling_per_s": 100.0, "lib": {"strict": {"calls_per_s_c256": 50.0}}});
        let t = evaluate(&s);
        assert_eq!(t[0]["met"], true);
        assert_eq!(t[0]["measured"], 0.5);
        assert_eq!(t[1]["met"], Value::Null);
    }
}
