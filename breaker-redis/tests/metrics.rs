//! The metrics a breaker reports through the `metrics` facade.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use breaker_redis::{Breaker, Config, TripPolicy};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

/// A metric's name, labels and value.
type Entry = (String, Vec<(String, String)>, DebugValue);

fn value(snapshot: &[Entry], name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    snapshot.iter().find_map(|(n, labels, v)| {
        let matches = n == name
            && label.is_none_or(|(k, val)| labels.iter().any(|(lk, lv)| lk == k && lv == val));
        matches.then(|| match v {
            DebugValue::Counter(c) => *c as f64,
            DebugValue::Gauge(g) => g.into_inner(),
            DebugValue::Histogram(h) => h.len() as f64,
        })
    })
}

#[test]
fn calls_rejections_transitions_and_state_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
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
    });
    let snapshot: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, v)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, v)
        })
        .collect();
    assert_eq!(
        value(
            &snapshot,
            "breaker_calls_total",
            Some(("outcome", "success"))
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &snapshot,
            "breaker_calls_total",
            Some(("outcome", "failure"))
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &snapshot,
            "breaker_rejections_total",
            Some(("breaker", "metered"))
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&snapshot, "breaker_transitions_total", Some(("to", "open"))),
        Some(1.0)
    );
    assert_eq!(
        value(&snapshot, "breaker_state", None),
        Some(1.0),
        "1 = open"
    );
}
