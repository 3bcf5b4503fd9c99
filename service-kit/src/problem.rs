//! Every error answer as JSON with a `code`, and RFC 9457 problem details for clients that ask
//! for them.
//!
//! A middleware (`negotiate`) looks at every answer of status 400 or more:
//!
//! - a body that is not JSON (axum's own rejections, e.g. a `Path` that does not decode as
//!   UTF-8, answer plain text) becomes `{"error": <reason phrase>, "code": <the status's code>,
//!   "detail": <the text>}`;
//! - a JSON object without `code` gets the status's code ([`default_code`]);
//! - when the request's `Accept` names `application/problem+json` (with a non-zero `q`), the
//!   error is rewritten as `{"type", "title", "status", "detail", "code", ...the error's other
//!   fields}` with `Content-Type: application/problem+json`. `type` is
//!   `urn:breaker-redis:error:<code>` (one type per code), `title` the status's reason phrase,
//!   `detail` the error's `detail` field when it is a string, else its `error` message.
//!
//! Headers (`Retry-After`, `Allow`, ...) are kept. Answers to `HEAD` have no body to rewrite.

use axum::body::Bytes;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::error::default_code;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Error bodies larger than this are passed on unchanged (no error body of ours comes near).
const MAX_ERROR_BODY: usize = 256 * 1024;

/// Middleware: every error answer as JSON with a `code`, as problem details when asked for.
pub(crate) async fn negotiate(req: Request, next: Next) -> Response {
    let wants = wants_problem(req.headers());
    let head = req.method() == Method::HEAD;
    let response = next.run(req).await;
    if head || response.status().as_u16() < 400 {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => Bytes::new(),
    };
    let status = parts.status;
    let mut error = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(error)) if is_json(&parts.headers) => error,
        // A JSON body that is not an object is a contract of its own: left alone.
        Ok(_) if is_json(&parts.headers) => return Response::from_parts(parts, Body::from(bytes)),
        _ => from_text(status, &bytes),
    };
    if !error.contains_key("code") {
        error.insert("code".to_owned(), default_code(status).into());
    }
    let (media, body) = if wants {
        (PROBLEM_JSON, to_problem(status.as_u16(), error))
    } else {
        ("application/json", error)
    };
    let body = Value::Object(body).to_string();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(media));
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    Response::from_parts(parts, Body::from(body))
}

/// The JSON error for a body that is not JSON: its text becomes the detail.
fn from_text(status: StatusCode, bytes: &[u8]) -> Map<String, Value> {
    let mut error = Map::new();
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    error.insert("error".to_owned(), reason.into());
    let text = String::from_utf8_lossy(bytes).trim().to_owned();
    if !text.is_empty() {
        error.insert("detail".to_owned(), text.into());
    }
    error
}

/// The problem details of a JSON error body answered with `status`.
pub fn to_problem(status: u16, error: Map<String, Value>) -> Map<String, Value> {
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_else(|| crate::error::default_code_u16(status))
        .to_owned();
    let detail = error
        .get("detail")
        .and_then(Value::as_str)
        .or_else(|| error.get("error").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let title = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut problem = Map::new();
    problem.insert(
        "type".to_owned(),
        format!("urn:breaker-redis:error:{code}").into(),
    );
    problem.insert("title".to_owned(), title.into());
    problem.insert("status".to_owned(), status.into());
    problem.insert("detail".to_owned(), detail.into());
    problem.insert("code".to_owned(), code.into());
    for (key, value) in error {
        problem.entry(key).or_insert(value);
    }
    problem
}

/// Whether `Accept` names problem details without refusing them (`q=0`, RFC 9110 12.4.2).
fn wants_problem(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value.split(',').any(|range| {
                let mut params = range.split(';').map(str::trim);
                let media = params.next().unwrap_or_default();
                let refused = params.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                media.eq_ignore_ascii_case(PROBLEM_JSON) && !refused
            })
        })
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}
