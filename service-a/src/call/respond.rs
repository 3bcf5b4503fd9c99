//! The answers of `GET /call-service-b`, each JSON.

use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use resilience::RateLimited;
use serde_json::{Value, json};

use super::breaker::{AttemptError, BreakerInfo, Success};
use crate::state::AppState;
use crate::upstream::UpstreamError;

/// 200 with B's body; B's last good body in place of a failure adds `"fallback":true`.
pub(super) fn success(app: &AppState, success: Success) -> Response {
    let mut body =
        json!({"instance": app.instance, "upstream": success.body, "breaker": success.info});
    if success.fallback {
        body["fallback"] = true.into();
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// The error a failed call answers: 502, 504, or 503 when the circuit rejected it.
pub(super) fn failure(app: &AppState, failure: AttemptError) -> Response {
    let (status, body) = match failure {
        AttemptError::Rejected { open, info } => return rejected(open.retry_after, info),
        AttemptError::Answered { error, info } => match error {
            UpstreamError::Refused(status) => {
                bad_gateway(&format!("service-b answered {status}"), Some(status), info)
            }
            UpstreamError::Failed { status, detail } => bad_gateway(&detail, status, info),
            UpstreamError::TimedOut => {
                let timeout_ms = millis(app.call_timeout);
                let body = json!({"error": "service-b timed out", "code": "upstream_timeout", "timeout_ms": timeout_ms, "breaker": info});
                (StatusCode::GATEWAY_TIMEOUT, body)
            }
        },
    };
    (status, axum::Json(body)).into_response()
}

/// 502 for an error no layer of the stack should produce.
pub(super) fn unexpected(error: &tower::BoxError) -> Response {
    let detail = format!("the call to service-b failed: {error}");
    let (status, body) = bad_gateway(&detail, None, None);
    (status, axum::Json(body)).into_response()
}

fn bad_gateway(
    detail: &str,
    status: Option<StatusCode>,
    info: Option<BreakerInfo>,
) -> (StatusCode, Value) {
    let mut body = json!({"error": "service-b call failed", "code": "upstream_failed", "detail": detail, "breaker": info});
    if let Some(status) = status {
        body["upstream_status"] = status.as_u16().into();
    }
    (StatusCode::BAD_GATEWAY, body)
}

/// 503 without calling B. A circuit forced open has no deadline, so neither `Retry-After` nor
/// a number.
fn rejected(retry_after: Option<Duration>, info: BreakerInfo) -> Response {
    let retry_after_ms = retry_after.map(millis);
    let body = json!({"error": "circuit open", "code": "circuit_open", "retry_after_ms": retry_after_ms, "breaker": info});
    with_retry_after(StatusCode::SERVICE_UNAVAILABLE, body, retry_after)
}

/// 429 `{"error":"rate limited","retry_after_ms":N}` with `Retry-After`.
pub(super) fn rate_limited(limited: &RateLimited) -> Response {
    let body = json!({"error": "rate limited", "code": "rate_limited", "retry_after_ms": millis(limited.retry_after)});
    with_retry_after(
        StatusCode::TOO_MANY_REQUESTS,
        body,
        Some(limited.retry_after),
    )
}

/// 503 `{"error":"bulkhead full","code":"bulkhead_full","retry_after_ms":N}` with `Retry-After`:
/// this replica already has its limit of calls in flight. A slot is freed at the latest when an
/// attempt in flight times out, so that is the wait suggested.
pub(super) fn bulkhead_full(attempt_timeout: Duration) -> Response {
    let body = json!({"error": "bulkhead full", "code": "bulkhead_full", "retry_after_ms": millis(attempt_timeout)});
    with_retry_after(StatusCode::SERVICE_UNAVAILABLE, body, Some(attempt_timeout))
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
