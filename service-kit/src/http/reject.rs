//! JSON answers for requests no handler takes: unknown route, wrong method, oversized body.

use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// The router's fallback: JSON 404.
pub(super) async fn not_found(uri: Uri) -> AppError {
    AppError::not_found("no such route").with_field("path", uri.path())
}

/// The fallback for a known route and an unsupported method: JSON 405 (axum adds `Allow`).
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    AppError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        .with_field("method", method.as_str())
        .with_field("path", uri.path())
}

/// A `HEAD` handler for a `GET` route whose handler has effects (a call to another service):
/// 405 `method_not_allowed` with `Allow: GET`, where axum would otherwise run the `GET` handler
/// and drop its body.
pub async fn get_only(uri: Uri) -> AppError {
    AppError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        .with_field("method", "HEAD")
        .with_field("path", uri.path())
        .with_field("detail", "HEAD would have the effects of GET here; use GET")
        .with_header(ALLOW, HeaderValue::from_static("GET"))
}

/// Answers 413 before the handler runs when `Content-Length` is over the limit. Bodies without
/// a length (chunked) are cut off by `DefaultBodyLimit` while the extractor reads them.
pub(super) async fn check_content_length(
    State(limit): State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > u64::try_from(limit).unwrap_or(u64::MAX) => too_large(limit),
        _ => next.run(req).await,
    }
}

fn too_large(limit: usize) -> Response {
    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        .with_field("limit_bytes", limit)
        .into_response()
}
