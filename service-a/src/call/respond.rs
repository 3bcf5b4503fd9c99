//! The answers of `GET /call-service-b`, each JSON.

use std::time::Duration;

use ::resilience::rate_limit::RateLimited;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::attempt::{BreakerInfo, Failure};
use crate::app::AppState;
use crate::upstream::Answer;

/// 200 with B's body.
pub(super) fn success(app: &AppState, upstream: Value, info: Option<BreakerInfo<'_>>) -> Response {
    let body = json!({"instance": app.instance, "upstream": upstream, "breaker": info});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// 200 with B's last good body in place of a failure: a success's shape plus `"fallback":true`.
pub(super) fn fallback(app: &AppState, upstream: Value, info: Option<BreakerInfo<'_>>) -> Response {
    let body =
        json!({"instance": app.instance, "upstream": upstream, "breaker": info, "fallback": true});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// The error a failed call answers: 502, 504, or 503 when the circuit rejected it.
pub(super) fn failure(app: &AppState, failure: Failure<'_>) -> Response {
    let (status, body) = match failure {
        Failure::Rejected { open, info } => return rejected(open.retry_after, info),
        Failure::Answered { answer, info } => match answer {
            // `attempt` never makes a failure of a good answer; answered as one all the same.
            Answer::Ok(upstream) => return success(app, upstream, info),
            Answer::Refused(status) => {
                bad_gateway(&format!("service-b answered {status}"), Some(status), info)
            }
            Answer::Failed { status, detail } => bad_gateway(&detail, status, info),
            Answer::TimedOut => {
                let timeout_ms = millis(app.upstream.timeout());
                let body = json!({"error": "service-b timed out", "timeout_ms": timeout_ms, "breaker": info});
                (StatusCode::GATEWAY_TIMEOUT, body)
            }
        },
    };
    (status, axum::Json(body)).into_response()
}

fn bad_gateway(
    detail: &str,
    status: Option<StatusCode>,
    info: Option<BreakerInfo<'_>>,
) -> (StatusCode, Value) {
    let mut body = json!({"error": "service-b call failed", "detail": detail, "breaker": info});
    if let Some(status) = status {
        body["upstream_status"] = status.as_u16().into();
    }
    (StatusCode::BAD_GATEWAY, body)
}

/// 503 without calling B. A circuit forced open has no deadline, so neither `Retry-After` nor
/// a number.
fn rejected(retry_after: Option<Duration>, info: BreakerInfo<'_>) -> Response {
    let retry_after_ms = retry_after.map(millis);
    let body = json!({"error": "circuit open", "retry_after_ms": retry_after_ms, "breaker": info});
    with_retry_after(StatusCode::SERVICE_UNAVAILABLE, body, retry_after)
}

/// 429 `{"error":"rate limited","retry_after_ms":N}` with `Retry-After`.
pub(super) fn rate_limited(limited: &RateLimited) -> Response {
    let body = json!({"error": "rate limited", "retry_after_ms": millis(limited.retry_after)});
    with_retry_after(
        StatusCode::TOO_MANY_REQUESTS,
        body,
        Some(limited.retry_after),
    )
}

/// 503 `{"error":"bulkhead full"}`: this replica already has its limit of calls in flight.
pub(super) fn bulkhead_full() -> Response {
    let body = json!({"error": "bulkhead full"});
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
}

/// `Retry-After` in whole seconds, rounded up and at least 1.
fn with_retry_after(status: StatusCode, body: Value, after: Option<Duration>) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(after) = after {
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
