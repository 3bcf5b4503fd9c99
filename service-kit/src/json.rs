//! [`Json`]: axum's JSON extractor and response, with rejections as JSON [`AppError`]s.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON request body or response.
///
/// As an extractor, a bad request answers:
///
/// | problem | status | `error` |
/// |---|---|---|
/// | malformed JSON | 400 | `malformed JSON body` |
/// | wrong type, missing or unknown field | 400 | `invalid request body` |
/// | missing or other `Content-Type` | 415 | `expected Content-Type: application/json` |
/// | body over the limit | 413 | `request body too large` |
///
/// with serde's message (naming the field, line and column) in `detail`.
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(&rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn rejected(rejection: &JsonRejection) -> AppError {
    let detail = rejection.body_text();
    let error = match rejection {
        JsonRejection::JsonSyntaxError(_) => AppError::bad_request("malformed JSON body"),
        JsonRejection::JsonDataError(_) => AppError::bad_request("invalid request body"),
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        }
        _ => AppError::new(rejection.status(), "cannot read request body"),
    };
    error.with_field("detail", detail)
}
