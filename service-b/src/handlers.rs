//! The routes: `/hello`, `/stats` (`/faults` comes from [`service_kit::faults::routes`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use service_kit::Json;
use service_kit::faults::{FaultControl, Outcome};

use crate::faults::{self, FailEvery};

/// State shared by the handlers of one router.
#[derive(Debug)]
pub(crate) struct Shared {
    instance: String,
    faults: Arc<FaultControl<FailEvery>>,
    requests: AtomicU64,
    failures: AtomicU64,
}

impl Shared {
    pub(crate) fn new(instance: String, faults: Arc<FaultControl<FailEvery>>) -> Self {
        Self {
            instance,
            faults,
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }
}

type AppState = State<Arc<Shared>>;

/// `GET /hello`: 200, or 500 on a simulated failure, or 503 when down; after `delay_ms`.
pub(crate) async fn hello(State(shared): AppState) -> Response {
    let request = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let decision = shared.faults.check().await;
    let outcome = faults::outcome(&decision, request);
    tracing::debug!(request, ?outcome, "hello");
    let instance = &shared.instance;
    let (body, code) = match outcome {
        Outcome::Pass => {
            let body = json!({"message": "Hello from Service B", "request": request, "instance": instance});
            return (StatusCode::OK, Json(body)).into_response();
        }
        Outcome::Failure => ("Service B Error", "simulated_failure"),
        Outcome::Down => ("Service B is down", "service_down"),
    };
    let status = outcome.status();
    shared.failures.fetch_add(1, Ordering::Relaxed);
    tracing::info!(
        request,
        status = status.as_u16(),
        "simulated failure: {body}"
    );
    let body = json!({"error": body, "code": code, "request": request, "instance": instance});
    (status, Json(body)).into_response()
}

/// `GET /stats`: `/hello` requests that arrived, and 5xx answers given.
pub(crate) async fn stats(State(shared): AppState) -> Json<serde_json::Value> {
    Json(json!({
        "requests": shared.requests.load(Ordering::Relaxed),
        "failures": shared.failures.load(Ordering::Relaxed),
    }))
}
