//! The routes: `GET /`, `GET /orders`, `POST /create_order`, `GET /breaker`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use breaker_redis::Snapshot;
use serde::Serialize;
use serde_json::Value;
use service_kit::{AppError, Json};

use super::lookup::{Found, LookupError, UserLookup};

/// An order as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Order {
    id: u64,
    user_id: i64,
    product: String,
}

/// The orders, oldest first, at most `cap`, and the next id.
struct Orders {
    list: VecDeque<Order>,
    next_id: u64,
    cap: usize,
}

impl Orders {
    /// The seed's two orders.
    fn seeded(cap: usize) -> Self {
        let seed = [(1, 1, "Laptop"), (2, 2, "Phone")].map(|(id, user_id, product)| Order {
            id,
            user_id,
            product: product.to_owned(),
        });
        Self {
            list: seed.into_iter().collect(),
            next_id: 3,
            cap,
        }
    }

    fn add(&mut self, user_id: i64, product: String) -> Order {
        let order = Order {
            id: self.next_id,
            user_id,
            product,
        };
        self.next_id += 1;
        if self.list.len() >= self.cap {
            self.list.pop_front();
        }
        self.list.push_back(order.clone());
        order
    }
}

struct Shared {
    lookup: UserLookup,
    orders: Mutex<Orders>,
}

impl Shared {
    fn orders(&self) -> std::sync::MutexGuard<'_, Orders> {
        self.orders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The order routes, keeping at most `max_orders` orders.
pub(super) fn routes(lookup: UserLookup, max_orders: usize) -> Router {
    let shared = Arc::new(Shared {
        lookup,
        orders: Mutex::new(Orders::seeded(max_orders)),
    });
    Router::new()
        .route("/", get(async || "Order Service is running!"))
        .route("/orders", get(list))
        .route("/create_order", post(create))
        .route("/breaker", get(breaker))
        .with_state(shared)
}

async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<Order>> {
    Json(shared.orders().list.iter().cloned().collect())
}

/// A valid `POST /create_order` body: `(user_id, product)`, or the 400's message.
fn parse(body: &Value) -> Result<(i64, String), &'static str> {
    let user_id = body
        .get("user_id")
        .and_then(Value::as_i64)
        .ok_or("user_id must be an integer")?;
    let product = body
        .get("product")
        .and_then(Value::as_str)
        .filter(|p| !p.trim().is_empty())
        .ok_or("product must be a non-empty string")?;
    Ok((user_id, product.to_owned()))
}

async fn create(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let (user_id, product) = match parse(&body) {
        Ok(request) => request,
        Err(message) => return AppError::bad_request(message).into_response(),
    };
    match shared.lookup.find(user_id).await {
        Ok(Found::User(_)) => {
            let order = shared.orders().add(user_id, product);
            (StatusCode::CREATED, Json(order)).into_response()
        }
        Ok(Found::NotFound) => AppError::not_found("User not found").into_response(),
        Err(error) => failed(error).into_response(),
    }
}

/// The answer for a lookup that gave no user.
fn failed(error: LookupError) -> AppError {
    const UNAVAILABLE: &str = "User service unavailable";
    match error {
        LookupError::Open(open) => {
            let error = AppError::unavailable(UNAVAILABLE)
                .with_code("circuit_open")
                .with_field("message", "circuit open");
            error.with_retry_after(open.retry_after.unwrap_or_default())
        }
        LookupError::ServerError(status) => {
            AppError::new(StatusCode::BAD_GATEWAY, "User service error")
                .with_source(format!("the user service answered {status}"))
        }
        LookupError::Unavailable(cause) => AppError::unavailable(UNAVAILABLE).with_source(cause),
    }
}

/// `GET /breaker`'s answer: the shared state, and how long until a trial call.
#[derive(Debug, Serialize)]
struct BreakerView {
    name: String,
    #[serde(flatten)]
    snapshot: Snapshot,
    retry_after_ms: u64,
}

async fn breaker(State(shared): State<Arc<Shared>>) -> Result<Json<BreakerView>, AppError> {
    let breaker = shared.lookup.breaker();
    let snapshot = breaker.snapshot().await.map_err(|e| {
        AppError::unavailable("Breaker state unavailable").with_source(e.to_string())
    })?;
    let retry_after_ms = u64::try_from(snapshot.retry_after().as_millis()).unwrap_or(u64::MAX);
    Ok(Json(BreakerView {
        name: breaker.name().to_owned(),
        snapshot,
        retry_after_ms,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_follow_the_seed_and_the_oldest_go_first() {
        let mut orders = Orders::seeded(3);
        assert_eq!(orders.add(1, "Pen".to_owned()).id, 3);
        assert_eq!(orders.add(2, "Ink".to_owned()).id, 4);
        let ids: Vec<u64> = orders.list.iter().map(|o| o.id).collect();
        assert_eq!(ids, [2, 3, 4]);
    }

    #[test]
    fn bad_bodies_name_the_field() {
        assert_eq!(
            parse(&json!({"product": "x"})),
            Err("user_id must be an integer")
        );
        assert_eq!(
            parse(&json!({"user_id": "1", "product": "x"})),
            Err("user_id must be an integer")
        );
        assert_eq!(
            parse(&json!({"user_id": 1.5, "product": "x"})),
            Err("user_id must be an integer")
        );
        assert_eq!(
            parse(&json!({"user_id": 1})),
            Err("product must be a non-empty string")
        );
        assert_eq!(
            parse(&json!({"user_id": 1, "product": " "})),
            Err("product must be a non-empty string")
        );
        assert_eq!(parse(&json!([1])), Err("user_id must be an integer"));
        assert_eq!(
            parse(&json!({"user_id": 1, "product": "x"})),
            Ok((1, "x".to_owned()))
        );
    }
}
