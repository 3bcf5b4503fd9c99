//! The Markdown tables and the targets, both read from the summary JSON so that they always
//! agree with `summary.json`.

use std::fmt::Write;

use serde_json::Value;

/// `value` at a `/`-separated path, as a number.
pub fn num(summary: &Value, path: &str) -> Option<f64> {
    path.split('/')
        .try_fold(summary, |v, key| v.get(key))?
        .as_f64()
}

/// A number for a table cell: thousands grouped above 1000, else up to `digits` decimals.
fn cell(x: Option<f64>, digits: usize) -> String {
    let Some(x) = x else {
        return "n/a".to_owned();
    };
    if x.abs() < 1000.0 {
        return format!("{x:.digits$}");
    }
    let digits = format!("{:.0}", x.abs());
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if x < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// Appends a table whose rows are `(label, path suffix, digits)` over `columns`.
fn table(
    out: &mut String,
    s: &Value,
    head: &str,
    columns: &[(&str, &str)],
    rows: &[(&str, &str, usize)],
) {
    let titles: Vec<&str> = columns.iter().map(|(title, _)| *title).collect();
    let _ = writeln!(out, "| {head} | {} |", titles.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(columns.len()));
    for (label, suffix, digits) in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, prefix)| cell(num(s, &format!("{prefix}/{suffix}")), *digits))
            .collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// The whole report in Markdown.
pub fn markdown(s: &Value) -> String {
    let mut out = String::new();
    let lib = [
        ("memory", "lib/memory"),
        ("strict (Redis)", "lib/strict"),
        ("cached (Redis)", "lib/cached"),
    ];
    let lib_rows = [
        ("protected calls/s, 1 task", "calls_per_s_c1", 0),
        ("protected calls/s, 16 tasks", "calls_per_s_c16", 0),
        ("protected calls/s, 256 tasks", "calls_per_s_c256", 0),
        ("added latency p50 (µs)", "added_us_p50", 1),
        ("added latency p99 (µs)", "added_us_p99", 1),
        ("Redis PING p50 during this mode (µs)", "ping_us_p50", 1),
        ("acquire alone p50 (µs)", "acquire_us_p50", 1),
        (
            "acquire + awaited record p50 (µs)",
            "record_awaited_us_p50",
            1,
        ),
        ("Redis commands sent per call", "redis_cmds_per_call", 3),
        (
            "Redis commands run per call (scripts' included)",
            "redis_cmds_executed_per_call",
            2,
        ),
        ("Redis CPU per call (µs)", "redis_us_per_call", 2),
        ("Redis CPU per call, 1 task (µs)", "redis_us_per_call_c1", 2),
        (
            "Redis CPU per call, 256 tasks (µs)",
            "redis_us_per_call_c256",
            2,
        ),
        ("scripts per call, 1 task", "scripts_per_call_c1", 3),
        ("scripts per call, 256 tasks", "scripts_per_call_c256", 3),
    ];
    table(&mut out, s, "library, no-op call", &lib, &lib_rows);
    let conns = num(s, "service_a/connections").unwrap_or(0.0);
    let service = [
        ("no breaker", "service_a/none"),
        ("in-process", "service_a/local"),
        ("shared (strict)", "service_a/shared"),
        ("shared (cached)", "service_a/shared_cached"),
    ];
    let service_rows = [
        ("requests/s", "rps", 0),
        ("p50 (ms)", "p50_ms", 2),
        ("p99 (ms)", "p99_ms", 2),
    ];
    let head = format!("Service A, {conns} connections");
    table(&mut out, s, &head, &service, &service_rows);
    let _ = writeln!(out, "| reference | value |\n|---|---:|");
    let refs = [
        ("Redis PING round trip p50 (µs)", "ping_rtt_us_p50", 1),
        (
            "EVALSHA `return 1` round trip p50 (µs)",
            "evalsha_rtt_us_p50",
            1,
        ),
        (
            "EVALSHA ceiling, 256 tasks on 1 connection (calls/s)",
            "evalsha_ceiling_per_s",
            0,
        ),
        (
            "Redis CPU per EVALSHA `return 1` (µs)",
            "evalsha_redis_us_per_call",
            2,
        ),
        (
            "floor: FCALL `return 1`, one at a time (Redis µs)",
            "floor_one_redis_us_c1",
            2,
        ),
        (
            "floor: FCALL TIME+HMGET, one at a time (Redis µs)",
            "floor_read_redis_us_c1",
            2,
        ),
        (
            "floor: FCALL TIME+HMGET+HSET, one at a time (Redis µs)",
            "floor_write_redis_us_c1",
            2,
        ),
        (
            "floor: FCALL `return 1`, 256 tasks on 1 connection (Redis µs)",
            "floor_one_redis_us_c256",
            2,
        ),
        (
            "floor: FCALL TIME+HMGET, 256 tasks on 1 connection (Redis µs)",
            "floor_read_redis_us_c256",
            2,
        ),
        (
            "floor: FCALL TIME+HMGET+HSET, 256 tasks on 1 connection (Redis µs)",
            "floor_write_redis_us_c256",
            2,
        ),
        (
            "pybreaker + CircuitRedisStorage, 1 task (calls/s)",
            "peers/pybreaker_redis/calls_per_s_c1",
            0,
        ),
        (
            "strict, 1 task, in turns with pybreaker (calls/s)",
            "peers/pybreaker_redis/strict_calls_per_s_c1",
            0,
        ),
        (
            "convergence p50 (ms), cached observer",
            "convergence_ms/p50",
            2,
        ),
        (
            "convergence p99 (ms), cached observer",
            "convergence_ms/p99",
            2,
        ),
        (
            "convergence p50 (ms), strict observer",
            "convergence_strict_ms/p50",
            2,
        ),
        (
            "convergence p99 (ms), strict observer",
            "convergence_strict_ms/p99",
            2,
        ),
        (
            "convergence p50 (ms), failure sent in the background",
            "convergence_background_ms/p50",
            2,
        ),
        (
            "convergence max (ms), failure sent in the background",
            "convergence_background_ms/max",
            2,
        ),
    ];
    for (label, path, digits) in refs {
        let _ = writeln!(out, "| {label} | {} |", cell(num(s, path), digits));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "| target | goal | measured | met |\n|---|---|---:|---|"
    );
    for t in s["targets"].as_array().into_iter().flatten() {
        let met = match t["met"].as_bool() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        let goal = t["goal"].as_str().unwrap_or("");
        let measured = cell(t["measured"].as_f64(), 3);
        let _ = writeln!(
            out,
            "| {} | {goal} | {measured} | {met} |",
            t["target"].as_str().unwrap_or("")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_group_thousands() {
        assert_eq!(cell(Some(185_123.4), 0), "185,123");
        assert_eq!(cell(Some(12.345), 2), "12.35");
        assert_eq!(cell(None, 2), "n/a");
    }
}
