//! Whole HTTP/1.1 answers written straight to a socket, for refusals made before hyper has a
//! request: a head we refuse, a connection over a limit. Same JSON as [`AppError`](crate::AppError).

use axum::http::StatusCode;
use serde_json::json;

/// `HTTP/1.1 <status>` with `{"error": message, "code": <the status's code>}`, `Connection:
/// close` and `extra` headers.
pub fn json(status: u16, message: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let code = crate::error::default_code_u16(status);
    with_code(status, message, code, extra)
}

/// [`json`] with a code of its own.
pub fn with_code(status: u16, message: &str, code: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let body = json!({ "error": message, "code": code }).to_string();
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}
