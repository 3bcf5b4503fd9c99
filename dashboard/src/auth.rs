//! [`Admin`]: the bearer-token check of the override routes, with service-a's behaviour: 404
//! when `ADMIN_TOKEN` is unset (the routes are off), 401 with `WWW-Authenticate: Bearer`
//! when the header is missing, not a bearer token, or wrong. Kept in this one module so that a
//! shared extractor can replace it.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use service_kit::AppError;

use crate::app::AppState;

/// Proof that the request carries `Authorization: Bearer <ADMIN_TOKEN>`.
#[derive(Debug)]
pub(crate) struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState>) -> Result<Self, AppError> {
        let Some(expected) = app.admin_token.as_deref() else {
            return Err(AppError::not_found("overrides are disabled")
                .with_field("detail", "set ADMIN_TOKEN to enable them"));
        };
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| bearer(v.as_bytes()));
        match presented {
            Some(token) if same(token, expected.as_bytes()) => Ok(Admin),
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

/// The token of a `Bearer <token>` credential; the scheme is case-insensitive (RFC 7235).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case(b"bearer ") && !token.is_empty()).then_some(token)
}

/// Equality whose time depends only on the expected token's length, so that the answer time
/// says nothing about how much of a guess matched.
fn same(presented: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(presented.len() != expected.len());
    for (i, byte) in expected.iter().enumerate() {
        diff |= byte ^ presented.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_credential_with_a_token_counts() {
        assert_eq!(bearer(b"Bearer t0k"), Some(&b"t0k"[..]));
        assert_eq!(bearer(b"BEARER t0k"), Some(&b"t0k"[..]));
        for none in [&b"Bearer "[..], b"Basic dXNlcg==", b"Bearer", b""] {
            assert_eq!(bearer(none), None, "{none:?}");
        }
    }

    #[test]
    fn tokens_match_only_whole() {
        assert!(same(b"secret", b"secret"));
        for wrong in [&b"Secret"[..], b"secret!", b"secre", b""] {
            assert!(!same(wrong, b"secret"), "{wrong:?}");
        }
    }
}
