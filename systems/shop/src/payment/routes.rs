//! The routes: `POST /api/payments`, `GET /api/payments/{orderId}`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Number, Value};
use service_kit::{AppError, Json};

use super::processor::Processor;
use crate::common::{Claimed, OnceStore};
use service_kit::time::{iso_timestamp, now_ms};

/// A payment as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Payment {
    order_id: String,
    /// As the client wrote it (`2800` stays `2800`, not `2800.0`).
    amount: Number,
    currency: String,
    method: String,
    timestamp: String,
    transaction_id: String,
    status: &'static str,
}

/// What makes two requests for one orderId the same payment: the amount and the currency.
type Fingerprint = (f64, String);

struct Shared {
    processor: Processor,
    payments: OnceStore<Fingerprint, Payment>,
}

/// The payment routes, keeping at most `max_payments` payments.
pub(super) fn routes(processor: Processor, max_payments: usize) -> Router {
    let shared = Arc::new(Shared {
        processor,
        payments: OnceStore::new(max_payments),
    });
    Router::new()
        .route("/api/payments", post(create))
        .route("/api/payments/{order_id}", get(find))
        .with_state(shared)
}

/// A valid `POST /api/payments` body.
#[derive(Debug)]
struct PaymentRequest {
    order_id: String,
    amount: Number,
    currency: String,
    method: String,
}

const REQUIRED: &str = "Order ID and amount are required";

impl PaymentRequest {
    /// The request, or the 400's message.
    fn parse(body: &Value) -> Result<Self, &'static str> {
        let order_id = body
            .get("orderId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or(REQUIRED)?;
        let amount = match body.get("amount") {
            Some(Value::Number(n)) if n.as_f64().is_some_and(|a| a > 0.0 && a.is_finite()) => {
                n.clone()
            }
            _ => return Err(REQUIRED),
        };
        Ok(Self {
            order_id: order_id.to_owned(),
            amount,
            currency: text_or(body, "currency", "USD")?,
            method: text_or(body, "method", "credit_card")?,
        })
    }
}

/// The non-empty string field `name`, or `default` when it is absent or null.
fn text_or(body: &Value, name: &str, default: &str) -> Result<String, &'static str> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(default.to_owned()),
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(_) => Err("Currency and method must be non-empty strings"),
    }
}

async fn create(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let request = match PaymentRequest::parse(&body) {
        Ok(request) => request,
        Err(message) => return AppError::bad_request(message).into_response(),
    };
    let fingerprint = (
        request.amount.as_f64().unwrap_or_default(),
        request.currency.clone(),
    );
    let order_id = request.order_id.clone();
    let work = async {
        let timestamp = iso_timestamp(now_ms());
        let charge = shared.processor.charge().await;
        Payment {
            order_id: request.order_id,
            amount: request.amount,
            currency: request.currency,
            method: request.method,
            timestamp,
            transaction_id: charge.transaction_id,
            status: charge.status,
        }
    };
    match shared.payments.claim(&order_id, fingerprint, work).await {
        Claimed::Created(payment) => (StatusCode::CREATED, Json(payment)).into_response(),
        Claimed::Existing(payment) => (StatusCode::OK, Json(payment)).into_response(),
        Claimed::Conflict => AppError::new(
            StatusCode::CONFLICT,
            "Order ID already used for a different payment",
        )
        .into_response(),
    }
}

async fn find(
    State(shared): State<Arc<Shared>>,
    Path(order_id): Path<String>,
) -> Result<Json<Payment>, AppError> {
    shared
        .payments
        .get(&order_id)
        .map(Json)
        .ok_or_else(|| AppError::not_found("Payment not found"))
}
