//! [`Upstream`]: one backend service behind its breaker and the call time limit, and
//! [`Answer`], the JSON the gateway answers with when a call does not give the service's own.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use breaker_redis::{Breaker, CircuitOpen, Outcome};
use reqwest::Url;
use serde_json::{Value, json};
use service_kit::trace::TraceContext;
use tracing::{debug, warn};

use crate::common::FORWARDED_FOR;

/// A JSON answer of the gateway's own: status, body, and `Retry-After` when it helps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<Duration>,
}

impl Answer {
    /// `status` with `body`.
    pub(crate) fn new(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            retry_after: None,
        }
    }

    /// `status` with `{"error": message}`.
    pub(crate) fn error(status: StatusCode, message: &str) -> Self {
        Self::new(status, json!({ "error": message }))
    }
}

impl IntoResponse for Answer {
    fn into_response(mut self) -> Response {
        // Every error carries a stable code; the status gives it unless the answer set one.
        if self.status.as_u16() >= 400
            && let Some(body) = self.body.as_object_mut()
        {
            body.entry("code")
                .or_insert_with(|| service_kit::default_code(self.status).into());
        }
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(after) = self.retry_after {
            let secs = u64::try_from(after.as_millis().div_ceil(1000)).unwrap_or(u64::MAX);
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Why a call gave no answer of the service's.
#[derive(Debug)]
pub(crate) enum CallFailure {
    /// The circuit is open: the service was not called.
    Open(CircuitOpen),
    /// No answer within the time limit.
    TimedOut,
    /// The service could not be reached, or its answer could not be read.
    Unreachable(String),
}

/// The service's answer, whatever its status.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    /// The headers worth passing on: `Content-Type` and `Retry-After`.
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    /// The body as JSON (`null` when it is not).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// One request to a service.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// The path and query, e.g. `/api/inventory?x=1`.
    pub(crate) path: &'a str,
    /// A JSON body, if any.
    pub(crate) body: Option<Bytes>,
    /// The `X-Forwarded-For` to send.
    pub(crate) forwarded_for: &'a str,
    /// The incoming request's trace headers, passed on.
    pub(crate) trace: &'a TraceContext,
}

/// A backend service: its breaker, address and time limit.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    /// The service's (and its breaker's) name, e.g. `payment-service`.
    pub(crate) name: &'static str,
    /// How answers name it, e.g. `Payment`.
    pub(crate) label: &'static str,
    pub(crate) breaker: Breaker,
    base: Url,
    http: reqwest::Client,
    timeout: Duration,
}

impl Upstream {
    /// The service `name` (answers say `label`) at `base`.
    pub(crate) fn new(
        name: &'static str,
        label: &'static str,
        base: Url,
        breaker: Breaker,
        http: reqwest::Client,
        timeout: Duration,
    ) -> Self {
        Self {
            name,
            label,
            breaker,
            base,
            http,
            timeout,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// Makes `call` if the breaker admits it. A 5xx, a network error or the time limit counts
    /// as a failure; any other answer, a 4xx included, as a success: a refusal is the caller's
    /// problem, not the service's.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply, CallFailure> {
        let permit = self.breaker.acquire().await.map_err(|open| {
            debug!(service = self.name, %open, "call rejected by the breaker");
            CallFailure::Open(open)
        })?;
        let result = match tokio::time::timeout(self.timeout, self.exchange(call)).await {
            Ok(result) => result,
            Err(_) => Err(CallFailure::TimedOut),
        };
        let outcome = match &result {
            Ok(reply) if reply.status.is_server_error() => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        };
        permit.finish(outcome).await;
        result
    }

    async fn exchange(&self, call: Call<'_>) -> Result<Reply, CallFailure> {
        let mut request = self
            .http
            .request(call.method, self.url(call.path))
            .header(FORWARDED_FOR, call.forwarded_for);
        for (name, value) in call.trace.headers() {
            request = request.header(name, value);
        }
        if let Some(body) = call.body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let mut headers = HeaderMap::new();
        for name in [CONTENT_TYPE, RETRY_AFTER] {
            if let Some(value) = response.headers().get(&name) {
                headers.insert(name, value.clone());
            }
        }
        let body = response.bytes().await.map_err(unreachable)?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// The answer for a call that gave no answer of the service's.
    pub(crate) fn failed(&self, failure: &CallFailure) -> Answer {
        let unavailable = format!("{} service is currently unavailable", self.label);
        match failure {
            CallFailure::Open(open) => {
                let message = format!(
                    "Circuit Breaker activated: {} service calls are suspended",
                    self.label
                );
                let mut body =
                    json!({ "error": unavailable, "code": "circuit_open", "message": message });
                if let Some(after) = open.retry_after {
                    body["retry_after_ms"] = json!(u64::try_from(after.as_millis()).unwrap_or(0));
                }
                Answer {
                    retry_after: open.retry_after,
                    ..Answer::new(StatusCode::SERVICE_UNAVAILABLE, body)
                }
            }
            CallFailure::TimedOut => {
                warn!(service = self.name, timeout = ?self.timeout, "service call timed out");
                Answer::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    json!({
                        "error": format!("{} service error", self.label),
                        "message": "Service request timed out",
                    }),
                )
            }
            CallFailure::Unreachable(cause) => {
                warn!(service = self.name, cause, "service unreachable");
                Answer::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "error": unavailable, "message": cause }),
                )
            }
        }
    }

    /// The answer for a service's 5xx inside the order flow: the service is unavailable, in its
    /// own words where it gave some.
    pub(crate) fn server_error(&self, reply: &Reply) -> Answer {
        let body = reply.json();
        let cause = body
            .get("error")
            .and_then(Value::as_str)
            .map_or_else(|| format!("answered {}", reply.status), str::to_owned);
        warn!(service = self.name, status = %reply.status, cause, "service failed");
        Answer::new(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "error": format!("{} service is currently unavailable", self.label),
                "message": cause,
            }),
        )
    }

    /// Whether the service answers `GET /health` with a 2xx, not saying `"status":"DOWN"`,
    /// within `timeout`. Not through the breaker: a probe must see the service even while the
    /// circuit is open.
    pub(crate) async fn probe(&self, timeout: Duration) -> bool {
        let probe = async {
            let response = self.http.get(self.url("/health")).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let body: Value = response.json().await.unwrap_or(Value::Null);
            Some(body["status"] != "DOWN")
        };
        matches!(tokio::time::timeout(timeout, probe).await, Ok(Some(true)))
    }
}

/// The error and its causes, as one line.
fn unreachable(error: reqwest::Error) -> CallFailure {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    CallFailure::Unreachable(message)
}
