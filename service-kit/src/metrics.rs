//! Prometheus metrics: the process-wide recorder, `GET /metrics`, and the standard HTTP metrics.
//!
//! Every router built by [`crate::http::App`] records, per request:
//!
//! - `http_requests_total{method, route, status}`: a counter;
//! - `http_request_duration_seconds{method, route}`: a histogram with buckets.
//!
//! `route` is the matched route pattern (`/users/{id}`, not the path) or `unmatched`, and `method`
//! is one of the nine standard methods or `other`, so clients cannot create series at will. Services add their own metrics with the `metrics` macros.

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const DURATION: &str = "http_request_duration_seconds";
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// How often histograms are drained; without upkeep they grow without bound.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The handle of the process-wide recorder, installing it on first use.
///
/// Installed once per process (tests build many routers in one process); upkeep runs on its own
/// thread, so it outlives any one Tokio runtime. If another recorder was installed first, this
/// logs a warning and returns a handle whose output stays empty.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let handle = install();
        let upkeep = handle.clone();
        let spawned = thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the metrics upkeep thread");
        }
        handle
    })
}

fn install() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), BUCKETS)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "histogram buckets rejected; durations become summaries");
            PrometheusBuilder::new()
        });
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if let Err(e) = metrics::set_global_recorder(recorder) {
        tracing::warn!(error = %e, "another metrics recorder is installed; /metrics stays empty");
    }
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, matched route and status."
    );
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method and matched route."
    );
    handle
}

/// `GET /metrics`: the Prometheus text format.
pub async fn render() -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle().render(),
    )
        .into_response()
}

/// Middleware recording the standard HTTP metrics.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A standard method's name, or `other` for an extension method (`FOOBAR`, `get`): HTTP allows
/// any token as a method, so the raw name would give every client a new series.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}
