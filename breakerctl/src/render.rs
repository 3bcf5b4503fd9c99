//! Human output: aligned tables, `key: value` blocks and one line per live transition.

use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use breaker_redis::admin::{
    BreakerDetail, BreakerSummary, OverrideResult, StoredSettings, TransitionRecord,
};
use breaker_redis::{Settings, TripKind};

/// Columns padded to their widest cell, two spaces apart; the last one is not padded.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            rows: vec![headers.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                let cells = self.rows.iter().filter_map(|r| r.get(c));
                cells.map(|s| s.chars().count()).max().unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            writeln!(out, "{}", line(row, &widths))?;
        }
        Ok(())
    }
}

fn line(cells: &[String], widths: &[usize]) -> String {
    let last = cells.len().saturating_sub(1);
    let padded: Vec<String> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == last {
                c.clone()
            } else {
                format!("{c:<w$}", w = widths[i])
            }
        })
        .collect();
    padded.join("  ")
}

/// A store time (ms since the epoch) as RFC 3339 UTC; `-` for none.
pub fn time(ms: u64) -> String {
    if ms == 0 {
        return "-".into();
    }
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// A TTL in whole seconds; `never` for a key without one.
pub fn ttl(ms: Option<u64>) -> String {
    match ms {
        None => "never".into(),
        Some(ms) => humantime::format_duration(Duration::from_secs(ms.div_ceil(1000))).to_string(),
    }
}

fn duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The trip policy in a few characters: `>=60% of 3`, `3 in a row`, `3 in window`.
pub fn trip(s: &Settings) -> String {
    let pct = s.failure_ratio * 100.0;
    match s.trip {
        TripKind::FailureRatio => format!(">={pct}% of {}", s.min_requests),
        TripKind::FailureRatioAbove => format!(">{pct}% of {}", s.min_requests),
        TripKind::ConsecutiveFailures => format!("{} in a row", s.failures),
        TripKind::FailureCount => format!("{} in window", s.failures),
    }
}

/// The closed-state window: `fixed 5s` or `rolling 10s/10`.
pub fn window(s: &Settings) -> String {
    match s.rolling_window {
        Some(length) => format!("rolling {}/{}", duration(length), s.buckets),
        None => format!("fixed {}", duration(s.interval)),
    }
}

/// `list`'s table.
pub fn list(breakers: &[BreakerSummary]) -> Table {
    let mut table = Table::new(&[
        "NAME",
        "STATE",
        "FORCED",
        "GENERATION",
        "REQUESTS",
        "FAILURES",
        "TTL",
        "TRIP",
        "WINDOW",
        "OPEN FOR",
        "REPLICA",
    ]);
    for b in breakers {
        let settings = b.settings.as_ref();
        let of = |f: fn(&StoredSettings) -> String| settings.map_or("-".to_owned(), f);
        table.row(vec![
            b.name.clone(),
            if b.stored {
                b.state.to_string()
            } else {
                "(no state)".into()
            },
            b.forced.as_str().into(),
            b.generation.to_string(),
            b.requests.to_string(),
            b.failures.to_string(),
            ttl(b.ttl_ms),
            of(|s| trip(&s.settings)),
            of(|s| window(&s.settings)),
            of(|s| duration(s.settings.timeout)),
            of(|s| s.replica.clone()),
        ]);
    }
    table
}

/// `show`'s `key: value` block.
pub fn show(d: &BreakerDetail) -> Table {
    let b = &d.summary;
    let mut rows: Vec<(&str, String)> = vec![
        ("name:", b.name.clone()),
        (
            "state:",
            if b.stored {
                b.state.to_string()
            } else {
                "closed (no state stored)".into()
            },
        ),
        ("forced:", b.forced.as_str().into()),
        ("generation:", b.generation.to_string()),
        ("requests:", b.requests.to_string()),
        ("failures:", b.failures.to_string()),
        ("consecutive failures:", b.consecutive_failures.to_string()),
        ("half-open successes:", b.half_open_successes.to_string()),
        ("trial calls in flight:", d.in_flight.to_string()),
        ("window start:", time(d.window_start_ms)),
        ("open until:", time(b.open_until_ms)),
        ("updated at:", time(b.updated_at_ms)),
        ("ttl:", ttl(b.ttl_ms)),
        ("history entries:", d.history_len.to_string()),
    ];
    match &b.settings {
        None => rows.push(("settings:", "none in redis".into())),
        Some(s) => rows.extend(settings_rows(s)),
    }
    let mut table = Table { rows: Vec::new() };
    for (k, v) in rows {
        table.row(vec![k.to_owned(), v]);
    }
    table
}

fn settings_rows(s: &StoredSettings) -> Vec<(&'static str, String)> {
    let c = &s.settings;
    let optional = |d: Option<Duration>| d.map_or("-".to_owned(), duration);
    vec![
        ("trip:", trip(c)),
        ("window:", window(c)),
        ("open timeout:", duration(c.timeout)),
        ("half-open permits:", c.max_requests.to_string()),
        (
            "successes to close:",
            c.success_threshold.map_or("-".into(), |n| n.to_string()),
        ),
        ("lease:", optional(c.lease)),
        ("slow call threshold:", optional(c.slow_call_threshold)),
        ("key ttl:", duration(c.key_ttl)),
        ("store timeout:", duration(c.store_timeout)),
        ("degraded mode:", json_word(&c.degraded_mode)),
        ("admission:", json_word(&c.admission)),
        (
            "settings written by:",
            format!("{} at {}", s.replica, time(s.written_at_ms)),
        ),
    ]
}

/// An enum's serde name (`fail-open`, `cached`).
fn json_word(v: &impl serde::Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "-".into(),
    }
}

/// `history`'s table.
pub fn history(records: &[TransitionRecord]) -> Table {
    let mut table = Table::new(&HISTORY_HEADERS);
    for r in records {
        table.row(history_cells(r));
    }
    table
}

const HISTORY_HEADERS: [&str; 8] = [
    "ID",
    "AT",
    "BREAKER",
    "FROM",
    "TO",
    "FORCED",
    "GENERATION",
    "REASON (ORIGIN)",
];

fn history_cells(r: &TransitionRecord) -> Vec<String> {
    vec![
        r.id.clone(),
        time(r.at_ms),
        r.breaker.clone(),
        r.from.to_string(),
        r.to.to_string(),
        r.forced.as_str().into(),
        r.generation.to_string(),
        format!("{} ({})", r.reason, r.origin),
    ]
}

/// Fixed widths for `watch`, which prints lines as they come and cannot measure them first.
const WATCH_WIDTHS: [usize; 8] = [15, 24, 16, 9, 9, 8, 13, 0];

/// `watch`'s header line.
pub fn watch_header() -> String {
    let headers: Vec<String> = HISTORY_HEADERS.iter().map(|h| (*h).to_owned()).collect();
    line(&headers, &WATCH_WIDTHS).trim_end().to_owned()
}

/// One `watch` line.
pub fn watch_line(r: &TransitionRecord) -> String {
    line(&history_cells(r), &WATCH_WIDTHS)
}

/// What an override did, in one line.
pub fn overridden(r: &OverrideResult) -> String {
    format!(
        "{}: {} -> {} (forced: {}), generation {}",
        r.breaker,
        r.from,
        r.to,
        r.forced.as_str(),
        r.generation
    )
}
