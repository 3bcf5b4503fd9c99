//! `GET /call-service-b`: one call to B's `/hello` through the shared breaker.
//!
//! The answers are built here rather than as [`service_kit::AppError`]s: a 502 or a 503 is this
//! endpoint's normal work, logged at debug like every call, while `AppError` logs each 5xx at
//! warn, which under an open circuit would be one warning per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use breaker_redis::{Breaker, CircuitOpen, Forced, Permit, State as CircuitState};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::debug;

use crate::app::AppState;
use crate::upstream::Answer;

/// The `breaker` object of every answer: the circuit as the call saw it.
#[derive(Debug, Serialize)]
struct BreakerInfo<'a> {
    name: &'a str,
    state: CircuitState,
    /// The generation the call was admitted or rejected under.
    generation: u64,
    /// `none`, or the operator's override (`open`, `closed`, `disabled`).
    forced: Forced,
}

/// The handler.
pub(crate) async fn call_service_b(State(app): State<Arc<AppState>>) -> Response {
    let Some(breaker) = &app.breaker else {
        return unprotected(&app).await;
    };
    let permit = match breaker.acquire().await {
        Ok(permit) => permit,
        Err(open) => return rejected(breaker, &open),
    };
    let started = Instant::now();
    let answer = app.upstream.hello().await;
    let elapsed = started.elapsed();
    let info = admitted(breaker, &permit);
    permit.record(answer.outcome()).await;
    count(answer.label());
    debug!(
        result = answer.label(),
        outcome = ?answer.outcome(),
        state = %info.state,
        generation = info.generation,
        ?elapsed,
        "called service-b"
    );
    respond(&app, answer, Some(&info))
}

/// `BREAKER_BACKEND=none`: B is called whatever happened before, and `breaker` is `null`.
async fn unprotected(app: &AppState) -> Response {
    let answer = app.upstream.hello().await;
    count(answer.label());
    debug!(
        result = answer.label(),
        "called service-b without a breaker"
    );
    respond(app, answer, None)
}

fn admitted<'a>(breaker: &'a Breaker, permit: &Permit) -> BreakerInfo<'a> {
    BreakerInfo {
        name: breaker.name(),
        state: permit.state(),
        generation: permit.generation(),
        forced: permit.forced(),
    }
}

fn respond(app: &AppState, answer: Answer, info: Option<&BreakerInfo<'_>>) -> Response {
    let (status, body) = match answer {
        Answer::Ok(upstream) => {
            let body = json!({"instance": app.instance, "upstream": upstream, "breaker": info});
            (StatusCode::OK, body)
        }
        Answer::Refused(status) => {
            bad_gateway(&format!("service-b answered {status}"), Some(status), info)
        }
        Answer::Failed { status, detail } => bad_gateway(&detail, status, info),
        Answer::TimedOut => {
            let timeout_ms = millis(app.upstream.timeout());
            let body =
                json!({"error": "service-b timed out", "timeout_ms": timeout_ms, "breaker": info});
            (StatusCode::GATEWAY_TIMEOUT, body)
        }
    };
    (status, axum::Json(body)).into_response()
}

fn bad_gateway(
    detail: &str,
    status: Option<StatusCode>,
    info: Option<&BreakerInfo<'_>>,
) -> (StatusCode, Value) {
    let mut body = json!({"error": "service-b call failed", "detail": detail, "breaker": info});
    if let Some(status) = status {
        body["upstream_status"] = status.as_u16().into();
    }
    (StatusCode::BAD_GATEWAY, body)
}

/// 503 without calling B. `Retry-After` is in whole seconds, rounded up and at least 1; a
/// circuit forced open has no deadline, so neither the header nor a number.
fn rejected(breaker: &Breaker, open: &CircuitOpen) -> Response {
    count("rejected");
    debug!(state = %open.state, forced = open.forced.as_str(), retry_after = ?open.retry_after, "call rejected by the breaker");
    let info = BreakerInfo {
        name: breaker.name(),
        state: open.state,
        generation: open.generation,
        forced: open.forced,
    };
    let retry_after_ms = open.retry_after.map(millis);
    let body = json!({"error": "circuit open", "retry_after_ms": retry_after_ms, "breaker": info});
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    if let Some(after) = open.retry_after {
        let secs = millis(after).div_ceil(1000).max(1);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn count(result: &'static str) {
    metrics::counter!("service_b_calls_total", "result" => result).increment(1);
}
