//! Trace propagation: service-a passes `traceparent`, `tracestate` and `x-request-id` on to
//! service-b, as received, on every attempt; a request without an id gets a generated one, the
//! same as the one service-a answers with.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use common::Env;
use service_a::Config;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "vendor=opaque-value";

/// A real upstream on 127.0.0.1 answering `/hello` and keeping the headers of every request.
async fn recording_upstream() -> (service_kit::Spawned, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let hello = move |headers: HeaderMap| {
        record.lock().expect("lock").push(headers);
        async { r#"{"message":"Hello from Service B"}"# }
    };
    let router = Router::new().route("/hello", get(hello));
    let upstream = service_kit::spawn(router).await.expect("upstream starts");
    (upstream, seen)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_headers_reach_service_b() {
    let env = Env::start().await;
    let (upstream, seen) = recording_upstream().await;
    let config = Config {
        service_b_url: upstream.url(""),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;

    let response = env
        .http
        .get(a.url("/call-service-b"))
        .header("traceparent", TRACEPARENT)
        .header("tracestate", TRACESTATE)
        .header("x-request-id", "trace-a-1")
        .send()
        .await
        .expect("GET /call-service-b");
    assert_eq!(response.status(), StatusCode::OK);
    let untraced = env.http.get(a.url("/call-service-b")).send().await;
    let untraced = untraced.expect("GET /call-service-b");
    assert_eq!(untraced.status(), StatusCode::OK);
    let generated = header(untraced.headers(), "x-request-id").map(str::to_owned);

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(header(&seen[0], "traceparent"), Some(TRACEPARENT));
    assert_eq!(header(&seen[0], "tracestate"), Some(TRACESTATE));
    assert_eq!(header(&seen[0], "x-request-id"), Some("trace-a-1"));
    assert_eq!(header(&seen[1], "traceparent"), None, "none is made up");
    assert_eq!(header(&seen[1], "tracestate"), None);
    assert!(generated.is_some(), "service-a answers with an id");
    assert_eq!(
        header(&seen[1], "x-request-id").map(str::to_owned),
        generated,
        "the generated id is the one passed on"
    );
}
