//! [`Admin`]: the extractor that guards the admin endpoints with `ADMIN_TOKEN`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use service_kit::AppError;

use crate::state::AppState;

/// Proof that the request carries `Authorization: Bearer <ADMIN_TOKEN>`.
///
/// Rejections: 404 when `ADMIN_TOKEN` is not set (the endpoints are off), 401 with
/// `WWW-Authenticate: Bearer` when the header is missing, not a bearer token, or wrong.
#[derive(Debug)]
pub(crate) struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState>) -> Result<Self, AppError> {
        let Some(expected) = app.admin_token.as_deref() else {
            return Err(AppError::not_found("admin endpoints are disabled")
                .with_field("detail", "set ADMIN_TOKEN to enable them"));
        };
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| bearer(v.as_bytes()));
        match presented {
            Some(token) if constant_time_eq(token, expected.as_bytes()) => Ok(Admin),
            Some(_) => Err(unauthorized("wrong token")),
            None => Err(unauthorized("expected Authorization: Bearer <ADMIN_TOKEN>")),
        }
    }
}

fn unauthorized(detail: &str) -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "unauthorized")
        .with_field("detail", detail)
        .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}

/// The token of a `Bearer <token>` credential (the scheme is case-insensitive, RFC 7235).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case(b"bearer ") && !token.is_empty()).then_some(token)
}

/// Compares in time that depends only on `expected`'s length, so response times do not reveal
/// how much of a guess was right.
fn constant_time_eq(presented: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(presented.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= e ^ presented.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"bEaReR abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"Bearer "), None);
        assert_eq!(bearer(b"Basic abc"), None);
        assert_eq!(bearer(b"Bearer"), None);
        assert_eq!(bearer(b""), None);
    }

    #[test]
    fn tokens_compare_by_whole_value() {
        assert!(constant_time_eq(b"secret", b"secret"));
        for wrong in [&b"secreT"[..], b"secret2", b"secre", b"", b"s\0\0\0\0\0"] {
            assert!(!constant_time_eq(wrong, b"secret"), "{wrong:?}");
        }
    }
}
