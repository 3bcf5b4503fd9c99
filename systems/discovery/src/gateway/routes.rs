//! The gateway's API: users, a user's orders, users with their orders; each call to a service
//! goes through its breaker, and the seed's fallback answers while it fails or is open.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use breaker_redis::Breaker;
use serde_json::{Value, json};
use service_kit::AppError;

use super::Shared;
use crate::common::{self, INVALID_USER_ID};
use service_kit::time::now_iso;

/// `meta.source` when the services answered.
pub const LIVE: &str = "service-discovery + circuit-breaker";
/// `meta.source` when a fallback answered.
pub const FALLBACK: &str = "fallback";

pub(super) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/users", get(users))
        .route("/orders/user/{user_id}", get(user_orders))
        .route("/users-with-orders", get(users_with_orders))
        .with_state(shared)
}

/// `GET <path>` on `service` through `breaker`: the answer's `field`, or `None` (the call
/// failed or the circuit is open; the breaker has counted it).
async fn protected(
    shared: &Shared,
    breaker: &Breaker,
    service: &str,
    path: &str,
    field: &str,
) -> Option<Value> {
    let answer = breaker
        .call(|| async {
            let body = shared.discovery.get_json(service, path).await?;
            match body.get(field) {
                Some(v) if v.is_array() => Ok(v.clone()),
                _ => Err(crate::client::CallError::Answer {
                    service: service.to_owned(),
                    detail: format!("a body without `{field}`"),
                }),
            }
        })
        .await;
    answer
        .inspect_err(|e| tracing::warn!(service, error = %e, "using the fallback"))
        .ok()
}

async fn fetch_users(shared: &Shared) -> (Value, &'static str) {
    let breaker = &shared.user_breaker;
    match protected(shared, breaker, "user-service", "/users", "users").await {
        Some(users) => (users, LIVE),
        None => (common::fallback_users(), FALLBACK),
    }
}

async fn fetch_orders(shared: &Shared, user_id: u64) -> (Value, &'static str) {
    let path = format!("/orders/user/{user_id}");
    let breaker = &shared.order_breaker;
    match protected(shared, breaker, "order-service", &path, "orders").await {
        Some(orders) => (orders, LIVE),
        None => (Value::Array(common::fallback_orders(user_id)), FALLBACK),
    }
}

async fn users(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let (users, source) = fetch_users(&shared).await;
    axum::Json(json!({
        "users": users,
        "meta": { "source": source, "instance": shared.instance, "timestamp": now_iso() },
    }))
}

async fn user_orders(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> Result<axum::Json<Value>, AppError> {
    let user_id =
        common::parse_user_id(&raw).ok_or_else(|| AppError::bad_request(INVALID_USER_ID))?;
    let (orders, source) = fetch_orders(&shared, user_id).await;
    Ok(axum::Json(json!({
        "orders": orders,
        "meta": {
            "userId": user_id,
            "source": source,
            "instance": shared.instance,
            "timestamp": now_iso(),
        },
    })))
}

async fn users_with_orders(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let (users, users_source) = fetch_users(&shared).await;
    let users = users.as_array().cloned().unwrap_or_default();
    let lookups = users.iter().map(|user| {
        let shared = &shared;
        async move {
            match user["id"].as_u64() {
                Some(id) => fetch_orders(shared, id).await,
                None => (json!([]), LIVE),
            }
        }
    });
    let orders = futures_util::future::join_all(lookups).await;
    let any_fallback =
        users_source == FALLBACK || orders.iter().any(|(_, source)| *source == FALLBACK);
    let mut total_orders = 0;
    let combined: Vec<Value> = users
        .into_iter()
        .zip(orders)
        .map(|(mut user, (orders, _))| {
            total_orders += orders.as_array().map_or(0, Vec::len);
            user["orders"] = orders;
            user
        })
        .collect();
    axum::Json(json!({
        "meta": {
            "totalUsers": combined.len(),
            "totalOrders": total_orders,
            "source": if any_fallback { FALLBACK } else { LIVE },
            "instance": shared.instance,
            "timestamp": now_iso(),
        },
        "users": combined,
    }))
}
