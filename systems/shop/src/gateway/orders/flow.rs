//! The order flow: check stock, pay, take the stock, ship; each step through its service's
//! breaker. An [`Ended`] order either stands (its answer is replayed for its idempotency key) or
//! may be tried again under the same order id, which the payment and the stock update are keyed
//! by, so a retry never applies either twice.

use std::time::SystemTime;

use axum::http::{Method, StatusCode};
use humantime_serde::re::humantime;
use serde_json::{Value, json};
use service_kit::trace::TraceContext;

use super::validate::Order;
use crate::gateway::State;
use crate::gateway::upstream::{Answer, Call, CallFailure, Reply, Upstream};

/// The contract's 400 for items out of stock.
pub(crate) const UNAVAILABLE: &str = "Some items are not available in the requested quantity";

/// Who asked: passed on to every service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) forwarded_for: &'a str,
    pub(crate) trace: &'a TraceContext,
}

/// How an order ended.
#[derive(Debug, Clone)]
pub(crate) struct Ended {
    pub(crate) answer: Answer,
    /// True when the answer is final (a 201, or a 400 about the order itself); false when the
    /// same order may be tried again (a service unavailable or refusing for now).
    pub(crate) stands: bool,
}

fn stands(answer: Answer) -> Ended {
    Ended {
        answer,
        stands: true,
    }
}

fn retryable(answer: Answer) -> Ended {
    Ended {
        answer,
        stands: false,
    }
}

/// Runs the order `order_id`.
pub(crate) async fn run(state: &State, cx: Context<'_>, order: &Order, order_id: &str) -> Ended {
    match steps(state, cx, order, order_id).await {
        Ok(answer) => stands(answer),
        Err(ended) => ended,
    }
}

async fn steps(
    state: &State,
    cx: Context<'_>,
    order: &Order,
    order_id: &str,
) -> Result<Answer, Ended> {
    let amount = check(state, cx, order).await?;
    let payment = pay(state, cx, order, order_id, &amount).await?;
    take(state, cx, order, order_id).await?;
    let shipping = ship(state, cx, order, order_id).await?;
    let timestamp = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    Ok(Answer::new(
        StatusCode::CREATED,
        json!({
            "orderId": order_id,
            "status": "CREATED",
            "timestamp": timestamp,
            "items": order.items_json(),
            "amount": amount,
            "payment": payment,
            "shipping": shipping,
        }),
    ))
}

/// The amount to pay: Σ quantity × price from the stock check.
async fn check(state: &State, cx: Context<'_>, order: &Order) -> Result<Value, Ended> {
    let inventory = &state.inventory;
    let body = json!({ "items": order.items_json() });
    let reply = post(inventory, cx, "/api/inventory/check", &body, false).await?;
    let answer = reply.json();
    if !reply.status.is_success() {
        return Err(stands(Answer::new(StatusCode::BAD_REQUEST, answer)));
    }
    let lines = answer["items"].as_array().cloned().unwrap_or_default();
    if answer["available"] != Value::Bool(true) {
        let missing: Vec<Value> = lines
            .into_iter()
            .filter(|line| line["inStock"] != Value::Bool(true))
            .collect();
        let body = json!({ "error": UNAVAILABLE, "details": missing });
        return Err(stands(Answer::new(StatusCode::BAD_REQUEST, body)));
    }
    let mut total = 0.0;
    for item in &order.items {
        let line = lines
            .iter()
            .find(|l| l["productId"] == item.product_id.as_str());
        let Some(price) = line.and_then(|l| l["price"].as_f64()) else {
            let message = format!("The stock check gave no price for {}", item.product_id);
            let body = json!({ "error": "Inventory service error", "message": message });
            return Err(retryable(Answer::new(StatusCode::BAD_GATEWAY, body)));
        };
        let quantity = item.quantity as f64;
        total += price * quantity;
    }
    Ok(number(total))
}

/// A whole amount as an integer (`2800`, not `2800.0`); the range check makes the cast exact.
fn number(amount: f64) -> Value {
    if amount.fract() == 0.0 && (0.0..9.0e15).contains(&amount) {
        return json!(amount as u64);
    }
    json!(amount)
}

async fn pay(
    state: &State,
    cx: Context<'_>,
    order: &Order,
    order_id: &str,
    amount: &Value,
) -> Result<Value, Ended> {
    let body = json!({
        "orderId": order_id,
        "amount": amount,
        "currency": order.currency,
        "method": order.method,
    });
    let reply = post(&state.payment, cx, "/api/payments", &body, true).await?;
    let payment = reply.json();
    let accepted = matches!(payment["status"].as_str(), Some("success" | "pending"));
    if !reply.status.is_success() || !accepted {
        let body = json!({ "error": "Payment failed", "details": payment });
        return Err(stands(Answer::new(StatusCode::BAD_REQUEST, body)));
    }
    Ok(payment)
}

async fn take(state: &State, cx: Context<'_>, order: &Order, order_id: &str) -> Result<(), Ended> {
    let body = json!({ "orderId": order_id, "items": order.items_json() });
    let reply = post(&state.inventory, cx, "/api/inventory/update", &body, true).await?;
    if reply.status.is_success() {
        return Ok(());
    }
    let answer = reply.json();
    let details = match answer.get("details") {
        Some(details) => details.clone(),
        None => answer,
    };
    let body = json!({ "error": UNAVAILABLE, "details": details });
    Err(stands(Answer::new(StatusCode::BAD_REQUEST, body)))
}

async fn ship(
    state: &State,
    cx: Context<'_>,
    order: &Order,
    order_id: &str,
) -> Result<Value, Ended> {
    let body = json!({
        "orderId": order_id,
        "address": order.address,
        "items": order.items_json(),
    });
    let reply = post(&state.shipping, cx, "/api/shipping", &body, true).await?;
    if reply.status.is_success() {
        return Ok(reply.json());
    }
    // Refused for now (a rate limit): the client may try the order again later.
    let retry_after = reply
        .headers
        .get(axum::http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_secs);
    Err(retryable(Answer {
        retry_after,
        ..Answer::new(reply.status, reply.json())
    }))
}

/// POSTs `body` to `upstream`; `again` tries once more after a failure that may not have
/// reached the service (unreachable, or a 5xx), for steps the service dedupes by order id
/// (payment, stock update, shipment). A
/// failure that remains is the service's unavailability, to be tried again later.
async fn post(
    upstream: &Upstream,
    cx: Context<'_>,
    path: &str,
    body: &Value,
    again: bool,
) -> Result<Reply, Ended> {
    let attempts = if again { 2 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let call = Call {
            method: Method::POST,
            path,
            body: Some(body.to_string().into()),
            forwarded_for: cx.forwarded_for,
            trace: cx.trace,
        };
        match upstream.send(call).await {
            Ok(reply) if !reply.status.is_server_error() => return Ok(reply),
            Ok(reply) => last = Some(upstream.server_error(&reply)),
            Err(failure @ (CallFailure::Open(_) | CallFailure::TimedOut)) => {
                return Err(retryable(upstream.failed(&failure)));
            }
            Err(failure) => last = Some(upstream.failed(&failure)),
        }
    }
    let answer = last.unwrap_or_else(|| upstream.failed(&CallFailure::TimedOut));
    Err(retryable(answer))
}
