//! Prometheus metrics: the process-wide recorder, `GET /metrics`, and the standard HTTP metrics.
//!
//! Every router built by [`crate::http::App`] records, per request:
//!
//! - `http_requests_total{method, route, status}`: a counter;
//! - `http_request_duration_seconds{method, route}`: a histogram with buckets.
//!
//! Every process also shows:
//!
//! - `build_info{service, version}`: 1, set by [`run`](crate::run) (see [`build_info`]);
//! - the standard process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//!   `process_open_fds`, `process_threads`, `process_start_time_seconds`, ...), read from the
//!   operating system each time `/metrics` is rendered.
//!
//! Durations of breaker calls (`breaker_call_duration_seconds`) get the same buckets as HTTP
//! requests.
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
/// The histograms rendered with [`BUCKETS`] (the others would be summaries).
const HISTOGRAMS: [&str; 2] = [DURATION, "breaker_call_duration_seconds"];
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
    recorder().0
}

/// The handle and the process metrics collector, installed together.
fn recorder() -> (
    &'static PrometheusHandle,
    &'static metrics_process::Collector,
) {
    static RECORDER: OnceLock<(PrometheusHandle, metrics_process::Collector)> = OnceLock::new();
    let (handle, process) = RECORDER.get_or_init(|| {
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
        let process = metrics_process::Collector::default();
        process.describe();
        process.collect();
        (handle, process)
    });
    (handle, process)
}

/// Sets `build_info{service, version} 1`, the series that tells which build a process runs
/// (`version` is the binary's, as `--version` prints it).
pub fn build_info(service: &str, version: &str) {
    metrics::describe_gauge!(
        "build_info",
        "Always 1; its labels name the service and the version of the running build."
    );
    metrics::gauge!("build_info", "service" => service.to_owned(), "version" => version.to_owned())
        .set(1.0);
}

fn install() -> PrometheusHandle {
    let builder = HISTOGRAMS
        .iter()
        .try_fold(PrometheusBuilder::new(), |builder, name| {
            builder.set_buckets_for_metric(Matcher::Full((*name).to_owned()), BUCKETS)
        })
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

/// `GET /metrics`: the Prometheus text format, with the process metrics read now.
pub async fn render() -> Response {
    let (handle, process) = recorder();
    process.collect();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
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
