//! [`asset`]: a file compiled into the binary (a dashboard's page, script, stylesheet or icon),
//! served under the page's Content-Security-Policy.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// `body` as `content_type`, with `Content-Security-Policy: policy` and `Cache-Control:
/// no-cache` (small files, and a rebuilt binary must not be shadowed by a cached script).
pub fn asset(policy: &'static str, content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_SECURITY_POLICY, policy),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
