//! Optional OpenTelemetry export: every `tracing` span (the inbound request's, an outbound
//! call's, a service's own) goes to an OTLP/HTTP collector as protobuf.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | the collector's base URL (`http://collector:4318`); spans go to `<base>/v1/traces` | unset: nothing is exported |
//! | `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, ... | the batch processor's standard settings | the SDK's |
//!
//! The resource names the service (`service.name`) and the instance (`service.instance.id`).
//! An inbound request's span continues the caller's trace (its `traceparent`), and
//! [`TraceContext`](crate::trace::TraceContext) passes the current span's context on, so one
//! request through several services is one trace. Spans still queued are sent when the service
//! stops ([`shutdown`]).
//!
//! The exporter uses reqwest's blocking client: the SDK's batch processor exports from a thread
//! of its own, where the async client would find no Tokio runtime.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::{HeaderMap, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Span;
use tracing::Subscriber;
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};
use tracing_subscriber::registry::LookupSpan;

use crate::config::ConfigError;

/// The variable that turns export on.
pub const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

static ENABLED: AtomicBool = AtomicBool::new(false);
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// True once export is on in this process.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The layer exporting spans when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else `None`.
///
/// # Errors
///
/// The endpoint is not an `http` or `https` URL with a host, or the exporter cannot be built;
/// the error names the variable.
pub(crate) fn layer<S>(
    service: &str,
    instance: &str,
) -> Result<Option<OpenTelemetryLayer<S, SdkTracer>>, ConfigError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(endpoint) = std::env::var(ENDPOINT).ok().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    check_endpoint(&endpoint)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| ConfigError::invalid(ENDPOINT, e))?;
    let resource = Resource::builder()
        .with_service_name(service.to_owned())
        .with_attribute(KeyValue::new("service.instance.id", instance.to_owned()))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer(service.to_owned());
    let _ = PROVIDER.set(provider);
    ENABLED.store(true, Ordering::Relaxed);
    Ok(Some(tracing_opentelemetry::layer().with_tracer(tracer)))
}

/// `raw` as a collector's base URL: `http` or `https`, with a host.
fn check_endpoint(raw: &str) -> Result<(), ConfigError> {
    let url = url::Url::parse(raw).map_err(|e| ConfigError::invalid(ENDPOINT, e))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::invalid(
            ENDPOINT,
            format!(
                "expected an http(s) URL with a host, such as http://collector:4318, found {raw:?}"
            ),
        ));
    }
    Ok(())
}

/// Sends the spans still queued and stops exporting; waits at most the SDK's shutdown timeout.
/// Does nothing when export is off.
pub async fn shutdown() {
    let Some(provider) = PROVIDER.get() else {
        return;
    };
    let provider = provider.clone();
    // The SDK waits on its exporting thread: not on a runtime worker.
    let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    if let Ok(Err(e)) = flushed {
        tracing::warn!(error = %e, "spans could not all be exported at shutdown");
    }
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.to_str().ok()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct Collect(Vec<(&'static str, HeaderValue)>);

impl Injector for Collect {
    fn set(&mut self, key: &str, value: String) {
        let name = match key {
            "traceparent" => "traceparent",
            "tracestate" => "tracestate",
            _ => return,
        };
        if let Ok(value) = HeaderValue::from_str(&value) {
            self.0.push((name, value));
        }
    }
}

/// Makes `span` continue the trace whose context `headers` carry (`traceparent`,
/// `tracestate`); without one, `span` starts a trace.
pub(crate) fn continue_trace(span: &Span, headers: &HeaderMap) {
    let cx = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(cx);
}

/// The `traceparent` and `tracestate` that make a callee's spans children of `span`.
pub(crate) fn context_headers(span: &Span) -> Vec<(&'static str, HeaderValue)> {
    let mut out = Collect(Vec::new());
    TraceContextPropagator::new().inject_context(&span.context(), &mut out);
    out.0
}

/// Makes `span` a child of the span whose context `traceparent`/`tracestate` describe.
pub(crate) fn set_parent(span: &Span, headers: &[(&'static str, HeaderValue)]) {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, value.clone());
    }
    let cx: Context = TraceContextPropagator::new().extract(&Headers(&map));
    let _ = span.set_parent(cx);
}
