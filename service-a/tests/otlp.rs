//! OpenTelemetry export: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, a request through service-a to
//! service-b reaches a real OTLP/HTTP receiver on 127.0.0.1 as spans of both services in one
//! trace, sent when the services stop; a bad endpoint stops a service at start.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use common::procs;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;

/// One exported span: its service, trace id, span id, parent span id and name.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    trace: Vec<u8>,
    id: Vec<u8>,
    parent: Vec<u8>,
    name: String,
}

fn service_name(request: &opentelemetry_proto::tonic::trace::v1::ResourceSpans) -> String {
    let attributes = request.resource.iter().flat_map(|r| &r.attributes);
    attributes
        .filter(|kv| kv.key == "service.name")
        .find_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A receiver answering `POST /v1/traces` as a collector does, keeping every span it decodes.
async fn receiver() -> (service_kit::Spawned, Arc<Mutex<Vec<Exported>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&spans);
    let traces = move |body: Bytes| {
        let decoded = ExportTraceServiceRequest::decode(body);
        let mut spans = keep.lock().expect("lock");
        let status = match decoded {
            Ok(request) => {
                for resource in &request.resource_spans {
                    let service = service_name(resource);
                    for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                        spans.push(Exported {
                            service: service.clone(),
                            trace: span.trace_id.clone(),
                            id: span.span_id.clone(),
                            parent: span.parent_span_id.clone(),
                            name: span.name.clone(),
                        });
                    }
                }
                StatusCode::OK
            }
            Err(_) => StatusCode::BAD_REQUEST,
        };
        async move { status }
    };
    let router = Router::new().route("/v1/traces", post(traces));
    let spawned = service_kit::spawn(router).await.expect("receiver starts");
    (spawned, spans)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_through_a_and_b_is_one_trace_exported_when_they_stop() {
    let (collector, spans) = receiver().await;
    let endpoint = collector.url("");
    // Nothing is sent on a timer during the test: the spans arrive because stopping flushes.
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    ];
    let b = procs::start(&test_support::cargo_bin("service-b"), "b", &otel).await;
    let b_url = b.url("");
    let mut env = vec![
        ("SERVICE_B_URL", b_url.as_str()),
        ("BREAKER_BACKEND", "memory"),
    ];
    env.extend(otel);
    let a_bin = std::path::Path::new(env!("CARGO_BIN_EXE_service-a"));
    let a = procs::start(a_bin, "a", &env).await;
    let http = reqwest::Client::new();
    let (status, _, body) = procs::get(&http, &a.url("/call-service-b")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    for service in [&a, &b] {
        service.process.terminate().expect("SIGTERM");
        let exit = service.process.wait_exit(Duration::from_secs(10));
        assert!(
            exit.expect("stops").success(),
            "{}",
            service.process.output()
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let (inbound_a, inbound_b) = loop {
        let spans = spans.lock().expect("lock").clone();
        let find = |service: &str, name: &str| {
            let found = spans
                .iter()
                .find(|s| s.service == service && s.name == name);
            found.cloned()
        };
        let a = find("service-a", "GET /call-service-b");
        if let (Some(a), Some(b)) = (a, find("service-b", "GET /hello")) {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "spans received: {spans:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(inbound_a.trace, inbound_b.trace, "one trace id");
    assert_eq!(inbound_a.trace.len(), 16);
    let spans = spans.lock().expect("lock").clone();
    let outbound = spans
        .iter()
        .find(|s| s.service == "service-a" && s.name == "call service-b")
        .unwrap_or_else(|| panic!("an outbound span: {spans:#?}"));
    assert_eq!(outbound.trace, inbound_a.trace);
    assert_eq!(
        outbound.parent, inbound_a.id,
        "the call is part of A's request"
    );
    assert_eq!(
        inbound_b.parent, outbound.id,
        "B's request is the call's child"
    );
}

#[tokio::test]
async fn a_bad_endpoint_stops_the_service_at_start_naming_the_variable() {
    for bad in ["not a url", "ftp://collector:4318", "http://"] {
        let b = procs::spawn(
            &test_support::cargo_bin("service-b"),
            "b",
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", bad)],
        );
        let exit = b.wait_exit(Duration::from_secs(10)).expect("exits");
        assert!(!exit.success(), "{bad}: {}", b.output());
        assert!(
            b.output().contains("OTEL_EXPORTER_OTLP_ENDPOINT"),
            "{bad}: {}",
            b.output()
        );
        assert!(!b.output().contains("panicked"), "{}", b.output());
    }
}
