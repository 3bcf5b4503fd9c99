//! The routes: the list, a product, a check and an update of the stock.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use resilience::{Retry, time_limit};
use serde_json::Value;
use service_kit::{AppError, Json};

use super::database::{Access, Database, DbError};
use super::stock::{Item, Shortage, Stock};
use service_kit::time::{iso_timestamp, now_ms};

/// Why a retried step did not answer; only the database's own failures are retried.
#[derive(Debug)]
enum Failure {
    Db(DbError),
    NotFound,
    Short(Shortage),
}

/// The retry predicate: a missing product or a shortage will not change on a second try.
fn transient(failure: &Failure) -> bool {
    matches!(failure, Failure::Db(_))
}

type Retried = Retry<fn(&Failure) -> bool>;

/// What the handlers share.
pub(super) struct Shared {
    db: Database,
    stock: Mutex<Stock>,
    retry: Retried,
    list_timeout: Duration,
}

impl Shared {
    pub(super) fn new(db: Database, stock: Stock, retry: Retry, list_timeout: Duration) -> Self {
        Self {
            db,
            stock: Mutex::new(stock),
            retry: retry.with_predicate(transient as fn(&Failure) -> bool),
            list_timeout,
        }
    }

    fn stock(&self) -> MutexGuard<'_, Stock> {
        // Every change is made whole under the lock, so a poisoned stock is still consistent.
        self.stock.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The inventory routes.
pub(super) fn routes(shared: Shared) -> Router {
    Router::new()
        .route("/api/inventory", get(list))
        .route("/api/inventory/check", post(check))
        .route("/api/inventory/update", post(update))
        .route("/api/inventory/{product_id}", get(product))
        .with_state(Arc::new(shared))
}

type AppState = State<Arc<Shared>>;

fn failed(error: &str, cause: &DbError) -> AppError {
    AppError::internal(error).with_field("message", cause.to_string())
}

async fn list(State(shared): AppState) -> Result<Response, AppError> {
    match time_limit(shared.list_timeout, shared.db.access(Access::List)).await {
        Err(_) => Err(AppError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "Inventory service timed out",
        )),
        Ok(Err(cause)) => Err(failed("Failed to fetch inventory", &cause)),
        Ok(Ok(())) => Ok(Json(shared.stock().list()).into_response()),
    }
}

async fn product(State(shared): AppState, Path(id): Path<String>) -> Result<Response, AppError> {
    let found = shared
        .retry
        .run(|| async {
            shared
                .db
                .access(Access::Product)
                .await
                .map_err(Failure::Db)?;
            shared
                .stock()
                .product(&id)
                .cloned()
                .ok_or(Failure::NotFound)
        })
        .await;
    match found {
        Ok(product) => Ok(Json(product).into_response()),
        Err(Failure::Db(cause)) => Err(failed("Failed to fetch product", &cause)),
        Err(_) => Err(AppError::not_found("Product not found")),
    }
}

/// Why a list of items was refused.
enum BadItems {
    /// `items` is missing, not an array, or empty.
    Missing,
    /// A line lacks a non-empty `productId` or a positive integer `quantity`.
    BadLine,
}

const BAD_LINE: &str = "Product ID and quantity are required for each item";

fn items(body: &Value) -> Result<Vec<Item>, BadItems> {
    let lines = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|lines| !lines.is_empty())
        .ok_or(BadItems::Missing)?;
    lines
        .iter()
        .map(|line| {
            let product_id = line.get("productId").and_then(Value::as_str);
            let quantity = line.get("quantity").and_then(Value::as_u64);
            match (product_id, quantity) {
                (Some(id), Some(quantity)) if !id.is_empty() && quantity > 0 => Ok(Item {
                    product_id: id.to_owned(),
                    quantity,
                }),
                _ => Err(BadItems::BadLine),
            }
        })
        .collect()
}

async fn check(State(shared): AppState, Json(body): Json<Value>) -> Result<Response, AppError> {
    let items = items(&body).map_err(|bad| match bad {
        BadItems::Missing => AppError::bad_request("Items array is required"),
        BadItems::BadLine => AppError::bad_request(BAD_LINE),
    })?;
    let report = shared
        .retry
        .run(|| async {
            shared.db.access(Access::Check).await.map_err(Failure::Db)?;
            Ok(shared.stock().check(&items))
        })
        .await;
    match report {
        Ok(report) => Ok(Json(report).into_response()),
        Err(Failure::Db(cause)) => Err(failed("Failed to check inventory", &cause)),
        Err(other) => Err(AppError::internal("internal error").with_source(format!("{other:?}"))),
    }
}

async fn update(State(shared): AppState, Json(body): Json<Value>) -> Result<Response, AppError> {
    let required = || AppError::bad_request("Items array and order ID are required");
    let order_id = body
        .get("orderId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(required)?;
    let items = items(&body).map_err(|bad| match bad {
        BadItems::Missing => required(),
        BadItems::BadLine => AppError::bad_request(BAD_LINE),
    })?;
    let taken = shared
        .retry
        .run(|| async {
            shared
                .db
                .access(Access::Update)
                .await
                .map_err(Failure::Db)?;
            let timestamp = iso_timestamp(now_ms());
            let mut stock = shared.stock();
            stock
                .take(order_id, &items, timestamp)
                .map_err(Failure::Short)
        })
        .await;
    match taken {
        Ok((taken, _replay)) => Ok(Json(taken).into_response()),
        Err(Failure::Short(details)) => {
            Err(AppError::new(StatusCode::CONFLICT, "Insufficient stock")
                .with_field("details", details))
        }
        Err(Failure::Db(cause)) => Err(failed("Failed to update inventory", &cause)),
        Err(Failure::NotFound) => Err(AppError::not_found("Product not found")),
    }
}
