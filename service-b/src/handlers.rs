//! The routes: `/hello`, `/faults`, `/stats`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use service_kit::{AppError, Json};

use crate::faults::{Faults, FaultsUpdate, Outcome};

/// State shared by the handlers of one router.
#[derive(Debug)]
pub(crate) struct Shared {
    instance: String,
    defaults: Faults,
    faults: Mutex<Faults>,
    requests: AtomicU64,
    failures: AtomicU64,
}

impl Shared {
    pub(crate) fn new(instance: String, defaults: Faults) -> Self {
        Self {
            instance,
            defaults,
            faults: Mutex::new(defaults),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    fn faults(&self) -> Faults {
        *self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_faults(
        &self,
        update: impl FnOnce(Faults) -> Result<Faults, String>,
    ) -> Result<Faults, String> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        *faults = update(*faults)?;
        Ok(*faults)
    }
}

type AppState = State<Arc<Shared>>;

/// `GET /hello`: 200, or 500 on a simulated failure, or 503 when down; after `delay_ms`.
pub(crate) async fn hello(State(shared): AppState) -> Response {
    let request = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    // Settings are read on arrival: a request already waiting keeps the ones it came in with.
    let faults = shared.faults();
    if faults.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
    }
    let roll = if faults.failure_rate > 0.0 {
        rand::random::<f64>()
    } else {
        1.0
    };
    let outcome = faults.decide(request, roll);
    tracing::debug!(request, ?outcome, "hello");
    let instance = &shared.instance;
    let (status, body) = match outcome {
        Outcome::Hello => {
            let body = json!({"message": "Hello from Service B", "request": request, "instance": instance});
            return (StatusCode::OK, Json(body)).into_response();
        }
        Outcome::Failure => (StatusCode::INTERNAL_SERVER_ERROR, "Service B Error"),
        Outcome::Down => (StatusCode::SERVICE_UNAVAILABLE, "Service B is down"),
    };
    shared.failures.fetch_add(1, Ordering::Relaxed);
    tracing::info!(
        request,
        status = status.as_u16(),
        "simulated failure: {body}"
    );
    let body = json!({"error": body, "request": request, "instance": instance});
    (status, Json(body)).into_response()
}

/// `GET /faults`: the current settings.
pub(crate) async fn get_faults(State(shared): AppState) -> Json<Faults> {
    Json(shared.faults())
}

/// `PUT /faults`: a partial update; an invalid one changes nothing.
pub(crate) async fn put_faults(
    State(shared): AppState,
    Json(update): Json<FaultsUpdate>,
) -> Result<Json<Faults>, AppError> {
    let faults = shared
        .set_faults(|current| current.updated(&update))
        .map_err(|detail| {
            AppError::bad_request("invalid fault settings").with_field("detail", detail)
        })?;
    tracing::info!(?faults, "faults changed");
    Ok(Json(faults))
}

/// `DELETE /faults`: back to the configured defaults.
pub(crate) async fn reset_faults(State(shared): AppState) -> Json<Faults> {
    let defaults = shared.defaults;
    let faults = shared.set_faults(|_| Ok(defaults)).unwrap_or(defaults);
    tracing::info!(?faults, "faults reset");
    Json(faults)
}

/// `GET /stats`: `/hello` requests that arrived, and 5xx answers given.
pub(crate) async fn stats(State(shared): AppState) -> Json<serde_json::Value> {
    Json(json!({
        "requests": shared.requests.load(Ordering::Relaxed),
        "failures": shared.failures.load(Ordering::Relaxed),
    }))
}
