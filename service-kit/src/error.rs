//! [`AppError`]: what a handler returns when it cannot answer normally.
//!
//! Clients get the status and a JSON body `{"error": "<message>", "code": "<code>", ...extra
//! fields}`; the cause (if any) is logged once, when the response is built, and is never sent to
//! the client: 500 at error level, other 5xx at warn, 4xx at debug.
//!
//! `code` is stable and machine-readable: [`AppError::with_code`] sets it, otherwise it follows
//! the status ([`default_code`]). A request whose `Accept` names `application/problem+json`
//! gets the same error as RFC 9457 problem details instead (see [`problem`](crate::problem)).

use std::time::Duration;

use axum::Json;
use axum::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

/// A boxed error, as kept in [`AppError::with_source`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error answer: status, message, extra JSON fields, headers and a logged cause.
#[derive(Debug)]
#[must_use]
pub struct AppError {
    status: StatusCode,
    body: Map<String, Value>,
    headers: HeaderMap,
    source: Option<BoxError>,
}

/// The `code` an error of `status` has unless [`AppError::with_code`] says otherwise.
pub fn default_code(status: StatusCode) -> &'static str {
    default_code_u16(status.as_u16())
}

pub(crate) fn default_code_u16(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "rate_limited",
        431 => "headers_too_large",
        502 => "upstream_failed",
        503 => "unavailable",
        504 => "upstream_timeout",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

impl AppError {
    /// An error answer with `status` and `{"error": message}`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let mut body = Map::new();
        body.insert("error".to_owned(), Value::String(message.into()));
        body.insert("code".to_owned(), Value::from(default_code(status)));
        Self {
            status,
            body,
            headers: HeaderMap::new(),
            source: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 Internal Server Error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 503 Service Unavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// Adds a field to the JSON body, e.g. `detail` or `request`. A value that cannot be
    /// serialized becomes `null`; the `error` and `code` fields cannot be replaced this way.
    pub fn with_field(mut self, key: &str, value: impl Serialize) -> Self {
        if key != "error" && key != "code" {
            let value = serde_json::to_value(value).unwrap_or(Value::Null);
            self.body.insert(key.to_owned(), value);
        }
        self
    }

    /// Sets the stable machine-readable `code` (e.g. `circuit_open`, `bulkhead_full`).
    pub fn with_code(mut self, code: &str) -> Self {
        self.body.insert("code".to_owned(), Value::from(code));
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sets `Retry-After` (whole seconds, rounded up) and the field `retry_after_ms`.
    pub fn with_retry_after(self, after: Duration) -> Self {
        let millis = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
        let secs = millis.div_ceil(1000);
        self.with_header(RETRY_AFTER, HeaderValue::from(secs))
            .with_field("retry_after_ms", millis)
    }

    /// Keeps the cause, to be logged (not sent) when the response is built.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` message.
    pub fn message(&self) -> &str {
        self.body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The `code`.
    pub fn code(&self) -> &str {
        self.body
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The JSON body as it is sent (without problem details).
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }

    fn log(&self) {
        let status = self.status.as_u16();
        let message = self.message();
        let cause = self.source.as_ref().map(|e| e.to_string());
        let cause = cause.as_deref().unwrap_or("");
        if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(status, cause, "{message}");
        } else if self.status.is_server_error() {
            tracing::warn!(status, cause, "{message}");
        } else {
            tracing::debug!(status, cause, "{message}");
        }
    }
}

/// Any error becomes a 500 `{"error": "internal error"}`, its cause logged.
impl<E: Into<BoxError>> From<E> for AppError {
    fn from(err: E) -> Self {
        Self::internal("internal error").with_source(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        (self.status, self.headers, Json(Value::Object(self.body))).into_response()
    }
}
