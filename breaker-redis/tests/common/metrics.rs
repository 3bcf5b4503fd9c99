//! Reading what code under test reported through the `metrics` facade.

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The metrics recorded so far. A debugging snapshot drains what it reads: each `read` holds
/// the changes since the previous one (counters' increments, gauges' deltas).
pub struct Probe(Snapshotter);

/// One metric: name, labels, value.
#[derive(Debug)]
pub struct Metric {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Probe {
    pub fn read(&self) -> Vec<Metric> {
        let snapshot = self.0.snapshot().into_vec();
        snapshot
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let value = match value {
                    DebugValue::Counter(c) => c as f64,
                    DebugValue::Gauge(g) => g.into_inner(),
                    DebugValue::Histogram(h) => h.len() as f64,
                };
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                Metric {
                    name: key.name().to_owned(),
                    labels,
                    value,
                }
            })
            .collect()
    }
}

/// The value of metric `name` carrying label `key=value`, if it was recorded.
pub fn value(metrics: &[Metric], name: &str, (key, val): (&str, &str)) -> Option<f64> {
    metrics
        .iter()
        .find(|m| m.name == name && m.labels.iter().any(|(k, v)| k == key && v == val))
        .map(|m| m.value)
}

/// Runs `f` on a current-thread runtime with a recorder of its own, and returns a probe of
/// what it recorded; `f` gets the probe too, to read metrics while it runs.
pub fn recorded(f: impl AsyncFnOnce(&Probe)) -> Probe {
    let recorder = DebuggingRecorder::new();
    let probe = Probe(recorder.snapshotter());
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(f(&probe));
    });
    probe
}
