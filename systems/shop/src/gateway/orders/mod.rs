//! `POST /api/orders`: an order read and checked ([`validate`]), run ([`flow`]) once per
//! `Idempotency-Key`.
//!
//! The flow runs in a task of its own, so that a client hanging up mid-order does not leave
//! it half done: the payment, the stock and the idempotency record reach their end together.

mod flow;
mod validate;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::State;
use super::idempotency::{self, Begin};
use super::proxy::read_json;
use super::upstream::Answer;
use crate::common::peer_ip;
use flow::{Context, Ended};
use service_kit::trace::TraceContext;
use validate::Order;

/// The 409 while the first request with a key runs.
pub(crate) const IN_PROGRESS: &str = "A request with this Idempotency-Key is already in progress";
/// The 422 for a key reused with a different request.
pub(crate) const MISMATCH: &str = "This Idempotency-Key was used with a different request";

/// What one order request carries to its task.
struct Job {
    order: Order,
    key: Option<(String, String)>,
    forwarded_for: String,
    trace: TraceContext,
}

/// The handler.
pub(crate) async fn create(state: Arc<State>, request: Request) -> Response {
    let job = match read(&state, request).await {
        Ok(job) => job,
        Err(answer) => return answer.into_response(),
    };
    let task = tokio::spawn(async move { run(&state, job).await });
    match task.await {
        Ok(answer) => answer.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the order task failed");
            Answer::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

async fn read(state: &State, request: Request) -> Result<Job, Answer> {
    let peer = peer_ip(request.extensions());
    let headers = request.headers().clone();
    let key = match headers.get(idempotency::HEADER).map(HeaderValue::to_str) {
        None => None,
        Some(Ok(key)) if idempotency::valid_key(key) => Some(key.to_owned()),
        Some(_) => {
            let message = "Idempotency-Key must be 1 to 255 visible ASCII characters";
            return Err(Answer::error(StatusCode::BAD_REQUEST, message));
        }
    };
    let body = read_json(request).await?;
    let body: Value = body
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let order = validate::order(&body)?;
    Ok(Job {
        order,
        key: key.map(|k| (k, idempotency::fingerprint(&body))),
        forwarded_for: state.trusted.forward(peer, &headers),
        trace: TraceContext::from_headers(&headers),
    })
}

async fn run(state: &State, job: Job) -> Answer {
    let cx = Context {
        forwarded_for: &job.forwarded_for,
        trace: &job.trace,
    };
    let fresh_id = state.order_ids.next(&state.shared).await;
    let Some((key, fingerprint)) = &job.key else {
        return flow::run(state, cx, &job.order, &fresh_id).await.answer;
    };
    let records = &state.idempotency;
    let order_id = match records
        .begin(&state.shared, key, fingerprint, &fresh_id)
        .await
    {
        Begin::Run(order_id) => order_id,
        Begin::Replay(answer) => return answer,
        Begin::InProgress => return Answer::error(StatusCode::CONFLICT, IN_PROGRESS),
        Begin::Mismatch => return Answer::error(StatusCode::UNPROCESSABLE_ENTITY, MISMATCH),
    };
    let Ended { answer, stands } = flow::run(state, cx, &job.order, &order_id).await;
    records
        .finish(&state.shared, key, fingerprint, &order_id, &answer, stands)
        .await;
    answer
}
