//! The metrics a breaker reports through the `metrics` facade.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use breaker_redis::{Breaker, Config, TripPolicy};
use common::metrics::{Metric, recorded, value};

/// The value of `name` with every label of `labels`.
fn find(m: &[Metric], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    m.iter()
        .find(|m| {
            m.name == name
                && labels
                    .iter()
                    .all(|(k, v)| m.labels.iter().any(|(mk, mv)| mk == k && mv == v))
        })
        .map(|m| m.value)
}

/// The `state` label whose `breaker_state` gauge reads 1, and how many do.
fn shown(m: &[Metric]) -> Vec<String> {
    m.iter()
        .filter(|m| m.name == "breaker_state" && m.value == 1.0)
        .flat_map(|m| m.labels.iter().filter(|(k, _)| k == "state"))
        .map(|(_, v)| v.clone())
        .collect()
}

#[test]
fn calls_rejections_transitions_and_state_are_counted() {
    let probe = recorded(async |_| {
        let cfg = Config::builder()
            .trip(TripPolicy::consecutive_failures(2))
            .build()
            .unwrap();
        let b = Breaker::builder("metered").config(cfg).build().unwrap();
        b.acquire().await.unwrap().success().await;
        b.acquire().await.unwrap().failure().await;
        b.acquire().await.unwrap().failure().await;
        assert!(b.acquire().await.is_err());
    });
    let m = probe.read();
    assert_eq!(
        value(&m, "breaker_calls_total", ("outcome", "success")),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "breaker_calls_total", ("outcome", "failure")),
        Some(2.0)
    );
    assert_eq!(
        value(&m, "breaker_rejections_total", ("breaker", "metered")),
        Some(1.0)
    );
    let opened = [("from", "closed"), ("to", "open"), ("origin", "local")];
    assert_eq!(find(&m, "breaker_transitions_total", &opened), Some(1.0));
    assert_eq!(shown(&m), ["open"]);
    let failures = [("breaker", "metered"), ("outcome", "failure")];
    assert_eq!(
        find(&m, "breaker_call_duration_seconds", &failures),
        Some(2.0),
        "two durations recorded"
    );
    assert_eq!(
        find(&m, "breaker_failure_rate_threshold", &[]),
        None,
        "no ratio threshold for a consecutive-failures policy"
    );
}

#[test]
fn every_series_starts_at_zero() {
    let probe = recorded(async |_| {
        let cfg = Config::builder()
            .trip(TripPolicy::failure_ratio(0.5, 4))
            .build()
            .unwrap();
        Breaker::builder("fresh").config(cfg).build().unwrap();
    });
    let m = probe.read();
    assert_eq!(shown(&m), ["closed"]);
    for state in [
        "open",
        "half-open",
        "forced-open",
        "forced-closed",
        "disabled",
    ] {
        let labels = [("breaker", "fresh"), ("state", state)];
        assert_eq!(find(&m, "breaker_state", &labels), Some(0.0), "{state}");
    }
    for (from, to) in [
        ("closed", "open"),
        ("open", "half-open"),
        ("half-open", "open"),
        ("half-open", "closed"),
    ] {
        for origin in ["local", "remote", "degraded"] {
            let labels = [("from", from), ("to", to), ("origin", origin)];
            let series = find(&m, "breaker_transitions_total", &labels);
            assert_eq!(series, Some(0.0), "{from} -> {to} {origin}");
        }
    }
    let errors = m
        .iter()
        .filter(|m| m.name == "breaker_store_errors_total" && m.value == 0.0)
        .count();
    assert_eq!(errors, 20, "5 operations x 4 classes");
    assert_eq!(find(&m, "breaker_failure_rate", &[]), Some(0.0));
    assert_eq!(find(&m, "breaker_failure_rate_threshold", &[]), Some(0.5));
    assert_eq!(find(&m, "breaker_degraded", &[]), Some(0.0));
    for outcome in ["success", "failure", "ignored"] {
        let labels = [("outcome", outcome)];
        assert_eq!(find(&m, "breaker_calls_total", &labels), Some(0.0));
    }
}

#[test]
fn the_failure_rate_follows_the_window_and_overrides_show_as_states() {
    let probe = recorded(async |probe| {
        let cfg = Config::builder()
            .trip(TripPolicy::failure_ratio(0.5, 4))
            .build()
            .unwrap();
        let b = Breaker::builder("rated").config(cfg).build().unwrap();
        b.acquire().await.unwrap().success().await;
        b.acquire().await.unwrap().failure().await;
        b.acquire().await.unwrap().success().await;
        let m = probe.read();
        let rate = find(&m, "breaker_failure_rate", &[]).expect("a rate");
        assert!((rate - 1.0 / 3.0).abs() < 1e-9, "{rate}");
        b.force_open().await.unwrap();
        assert_eq!(shown(&probe.read()), ["forced-open"]);
        b.disable().await.unwrap();
        assert_eq!(shown(&probe.read()), ["disabled"]);
        b.force_closed().await.unwrap();
        assert_eq!(shown(&probe.read()), ["forced-closed"]);
        b.reset().await.unwrap();
        let m = probe.read();
        assert_eq!(shown(&m), ["closed"]);
        let reset = [("from", "closed"), ("to", "closed"), ("origin", "local")];
        assert_eq!(find(&m, "breaker_transitions_total", &reset), Some(1.0));
    });
    drop(probe);
}
