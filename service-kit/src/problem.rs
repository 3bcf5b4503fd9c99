//! RFC 9457 problem details for clients that ask for them.
//!
//! A request whose `Accept` names `application/problem+json` (with a non-zero `q`) gets any JSON
//! error answer (status 400 or above, `Content-Type: application/json`, an object body)
//! rewritten as `{"type", "title", "status", "detail", "code", ...the error's other fields}` with
//! `Content-Type: application/problem+json`. `type` is `urn:breaker-redis:error:<code>` (one type
//! per code), `title` the status's reason phrase, `detail` the error's `detail` field when it is
//! a string, else its `error` message. Headers (`Retry-After`, `Allow`, ...) are kept. Other
//! clients get the plain JSON error unchanged.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Error bodies larger than this are passed on unchanged (no error body of ours comes near).
const MAX_ERROR_BODY: usize = 256 * 1024;

/// Middleware: rewrites JSON errors as problem details when the client asked for them.
pub(crate) async fn negotiate(req: Request, next: Next) -> Response {
    let wants = wants_problem(req.headers());
    let response = next.run(req).await;
    if !wants || response.status().as_u16() < 400 || !is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let Ok(Value::Object(error)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let problem = to_problem(parts.status.as_u16(), error);
    let body = Value::Object(problem).to_string();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    Response::from_parts(parts, Body::from(body))
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
