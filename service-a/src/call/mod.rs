//! `GET /call-service-b`: B's `/hello` through a tower stack of, from the caller inwards, the
//! rate limit, the bulkhead, the fallback, retries, the shared breaker and the call's time
//! limit.
//!
//! - this file: the handler, and what each error of the stack answers.
//! - `stack`: the `ServiceBuilder` stack, its retry predicate and its fallback.
//! - `breaker`: the breaker step, which reports the circuit as each attempt saw it.
//! - `respond`: every answer.
//!
//! The answers are built here rather than as [`service_kit::AppError`]s: a 502 or a 503 is this
//! endpoint's normal work, logged at debug like every call, while `AppError` logs each 5xx at
//! warn, which under an open circuit would be one warning per request.

mod breaker;
mod respond;
mod stack;

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use axum::extract::State;
use axum::response::Response;
use resilience::{BulkheadFull, RateLimited};
use service_kit::trace::TraceContext;
use tower::{BoxError, ServiceExt};
use tracing::{debug, warn};

use self::breaker::AttemptError;
use self::stack::CallRequest;
pub(crate) use self::stack::{CallService, Parts, stack};
use crate::client::ClientIp;
use crate::state::AppState;

/// The handler.
pub(crate) async fn call_service_b(
    State(app): State<Arc<AppState>>,
    ClientIp(client): ClientIp,
    trace: TraceContext,
) -> Response {
    let attempts = Arc::new(AtomicU32::new(0));
    let request = CallRequest {
        client,
        trace,
        attempts: attempts.clone(),
    };
    let result = app.call.clone().oneshot(request).await;
    let retries = Arc::into_inner(attempts)
        .map_or(0, AtomicU32::into_inner)
        .saturating_sub(1);
    if retries > 0 {
        metrics::counter!("upstream_retries_total", "upstream" => UPSTREAM)
            .increment(u64::from(retries));
        debug!(retries, ok = result.is_ok(), "retried service-b");
    }
    match result {
        Ok(success) => respond::success(&app, success),
        Err(error) => failure(&app, error),
    }
}

/// The answer to what the stack failed with: shed before any attempt (rate limit, bulkhead),
/// or the last attempt's failure.
fn failure(app: &AppState, error: BoxError) -> Response {
    if let Some(limited) = error.downcast_ref::<RateLimited>() {
        count("rate_limited");
        debug!(retry_after = ?limited.retry_after, "rate limited");
        return respond::rate_limited(limited);
    }
    if let Some(full) = error.downcast_ref::<BulkheadFull>() {
        count("bulkhead_full");
        debug!(max_concurrent = full.max_concurrent, "bulkhead full");
        return respond::bulkhead_full(app.call_timeout);
    }
    match error.downcast::<AttemptError>() {
        Ok(attempt) => respond::failure(app, *attempt),
        Err(error) => {
            // Every layer's own error is handled above; anything else is a bug, answered as B
            // failing rather than hidden.
            warn!(%error, "unexpected error from the call stack");
            respond::unexpected(&error)
        }
    }
}

/// The `upstream` label of this service's call metrics.
pub(crate) const UPSTREAM: &str = "service-b";

/// Every result of [`count`], for creating the series at 0.
const RESULTS: [&str; 7] = [
    "ok",
    "failed",
    "refused",
    "timeout",
    "rejected",
    "rate_limited",
    "bulkhead_full",
];

/// Describes the call metrics and creates their series at 0, so that a fresh replica exposes
/// them (with HELP text) before the first call.
pub(crate) fn register_metrics() {
    metrics::describe_counter!(
        "upstream_calls_total",
        "Attempts at calling an upstream by result, and requests shed before any attempt (rate_limited, bulkhead_full)."
    );
    metrics::describe_counter!(
        "upstream_retries_total",
        "Attempts at calling an upstream after the first."
    );
    metrics::describe_counter!(
        "upstream_fallbacks_total",
        "Requests answered with an upstream's last good answer."
    );
    for result in RESULTS {
        metrics::counter!("upstream_calls_total", "upstream" => UPSTREAM, "result" => result)
            .increment(0);
    }
    metrics::counter!("upstream_retries_total", "upstream" => UPSTREAM).increment(0);
    metrics::counter!("upstream_fallbacks_total", "upstream" => UPSTREAM).increment(0);
}

/// Counts one attempt (`ok`, `failed`, `refused`, `timeout`, `rejected`) or one request shed
/// before any attempt (`rate_limited`, `bulkhead_full`).
fn count(result: &'static str) {
    metrics::counter!("upstream_calls_total", "upstream" => UPSTREAM, "result" => result)
        .increment(1);
}
