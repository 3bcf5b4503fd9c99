//! The routes: `POST /api/shipping`, `GET /api/shipping/{orderId}`,
//! `PUT /api/shipping/{orderId}/status`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use serde_json::Value;
use service_kit::{AppError, Json};

use super::provider::Provider;
use crate::common::{Claimed, OnceStore};
use service_kit::time::{iso_timestamp, now_ms};

/// The statuses a shipment can be given.
pub const VALID_STATUSES: [&str; 5] =
    ["PROCESSING", "SHIPPED", "IN_TRANSIT", "DELIVERED", "FAILED"];

/// A shipment as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Shipment {
    order_id: String,
    address: Value,
    items: Value,
    status: String,
    created_at: String,
    tracking_number: String,
    estimated_delivery: String,
    carrier: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
}

struct Shared {
    provider: Provider,
    shipments: OnceStore<(), Shipment>,
}

/// The shipping routes, keeping at most `max_shipments` shipments.
pub(super) fn routes(provider: Provider, max_shipments: usize) -> Router {
    let shared = Arc::new(Shared {
        provider,
        shipments: OnceStore::new(max_shipments),
    });
    Router::new()
        .route("/api/shipping", post(create))
        .route("/api/shipping/{order_id}", get(find))
        .route("/api/shipping/{order_id}/status", put(set_status))
        .with_state(shared)
}

/// `orderId`, `address` and `items` of a valid body, or `None`.
fn parse(body: &Value) -> Option<(String, Value, Value)> {
    let order_id = body.get("orderId")?.as_str().filter(|id| !id.is_empty())?;
    let address = body.get("address").filter(|address| match address {
        Value::String(text) => !text.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
        _ => false,
    })?;
    let items = body
        .get("items")
        .filter(|items| items.as_array().is_some_and(|list| !list.is_empty()))?;
    Some((order_id.to_owned(), address.clone(), items.clone()))
}

async fn create(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let Some((order_id, address, items)) = parse(&body) else {
        return AppError::bad_request("Order ID, address, and items are required").into_response();
    };
    let work = async {
        let created_at = iso_timestamp(now_ms());
        let label = shared.provider.book().await;
        Shipment {
            order_id: order_id.clone(),
            address,
            items,
            status: VALID_STATUSES[0].to_owned(),
            created_at,
            tracking_number: label.tracking_number,
            estimated_delivery: label.estimated_delivery,
            carrier: label.carrier,
            updated_at: None,
        }
    };
    match shared.shipments.claim(&order_id, (), work).await {
        Claimed::Created(shipment) => (StatusCode::CREATED, Json(shipment)).into_response(),
        Claimed::Existing(shipment) => (StatusCode::OK, Json(shipment)).into_response(),
        // Every claim has the fingerprint `()`: there is no other shipment to conflict with.
        Claimed::Conflict => AppError::internal("conflicting shipment").into_response(),
    }
}

async fn find(
    State(shared): State<Arc<Shared>>,
    Path(order_id): Path<String>,
) -> Result<Json<Shipment>, AppError> {
    shared
        .shipments
        .get(&order_id)
        .map(Json)
        .ok_or_else(|| AppError::not_found("Shipment not found"))
}

async fn set_status(
    State(shared): State<Arc<Shared>>,
    Path(order_id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Shipment>, AppError> {
    let status = match body.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(other) => Some(other),
    }
    .ok_or_else(|| AppError::bad_request("Status is required"))?;
    if shared.shipments.get(&order_id).is_none() {
        return Err(AppError::not_found("Shipment not found"));
    }
    let status = status
        .as_str()
        .filter(|s| VALID_STATUSES.contains(s))
        .ok_or_else(|| {
            AppError::bad_request("Invalid status").with_field("validStatuses", VALID_STATUSES)
        })?;
    let updated_at = iso_timestamp(now_ms());
    shared
        .shipments
        .update(&order_id, |shipment| {
            shipment.status = status.to_owned();
            shipment.updated_at = Some(updated_at);
        })
        .map(Json)
        .ok_or_else(|| AppError::not_found("Shipment not found"))
}
