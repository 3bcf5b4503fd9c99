//! `GET /breaker` and the operator's overrides `POST /breaker/{open,close,reset}`.
//!
//! All of them read or write the shared state in Redis, so unlike protected calls they fail
//! (503) when Redis cannot be reached: the local breaker of the degraded mode is this replica's
//! alone, and an override applied to it would silently not reach the other replicas.

use std::sync::Arc;

use axum::extract::State;
use breaker_redis::{Forced, Snapshot, State as CircuitState, StoreError};
use serde::Serialize;
use service_kit::admin::Admin;
use service_kit::{AppError, Json};
use tracing::debug;

use crate::state::AppState;

/// `GET /breaker`'s answer: the snapshot's fields plus who answered.
#[derive(Debug, Serialize)]
pub(crate) struct BreakerView {
    name: String,
    instance: String,
    /// Whether this replica's protected calls currently use the local breaker: set by the first
    /// call that finds Redis unreachable (or refusing writes), cleared once Redis answers again,
    /// which the breaker checks after each back-off period even without calls.
    degraded: bool,
    #[serde(flatten)]
    snapshot: Snapshot,
    retry_after_ms: u64,
}

/// `POST /breaker/*`'s answer: the state after the override.
#[derive(Debug, Serialize)]
pub(crate) struct Applied {
    name: String,
    instance: String,
    action: &'static str,
    state: CircuitState,
    forced: Forced,
    generation: u64,
}

/// What the breaker routes answer with `BREAKER_BACKEND=none`: 404, there is no breaker.
fn no_breaker(app: &AppState) -> AppError {
    AppError::not_found("no breaker: BREAKER_BACKEND is none").with_field("instance", &app.instance)
}

/// `GET /breaker`.
pub(crate) async fn show(State(app): State<Arc<AppState>>) -> Result<Json<BreakerView>, AppError> {
    let breaker = app.breaker.as_ref().ok_or_else(|| no_breaker(&app))?;
    let snapshot = breaker.snapshot().await.map_err(|e| unavailable(&app, e))?;
    let retry_after_ms = u64::try_from(snapshot.retry_after().as_millis()).unwrap_or(u64::MAX);
    Ok(Json(BreakerView {
        name: breaker.name().to_owned(),
        instance: app.instance.clone(),
        degraded: breaker.is_degraded(),
        snapshot,
        retry_after_ms,
    }))
}

/// `POST /breaker/open`: every replica rejects every call until `reset`.
pub(crate) async fn open(
    _: Admin,
    State(app): State<Arc<AppState>>,
) -> Result<Json<Applied>, AppError> {
    let breaker = app.breaker.as_ref().ok_or_else(|| no_breaker(&app))?;
    let reply = breaker
        .force_open()
        .await
        .map_err(|e| unavailable(&app, e))?;
    Ok(applied(&app, "open", &reply))
}

/// `POST /breaker/close`: every replica admits every call, and the circuit never trips, until
/// `reset`.
pub(crate) async fn close(
    _: Admin,
    State(app): State<Arc<AppState>>,
) -> Result<Json<Applied>, AppError> {
    let breaker = app.breaker.as_ref().ok_or_else(|| no_breaker(&app))?;
    let reply = breaker
        .force_closed()
        .await
        .map_err(|e| unavailable(&app, e))?;
    Ok(applied(&app, "close", &reply))
}

/// `POST /breaker/reset`: no override, a fresh closed circuit with empty counts.
pub(crate) async fn reset(
    _: Admin,
    State(app): State<Arc<AppState>>,
) -> Result<Json<Applied>, AppError> {
    let breaker = app.breaker.as_ref().ok_or_else(|| no_breaker(&app))?;
    let reply = breaker.reset().await.map_err(|e| unavailable(&app, e))?;
    Ok(applied(&app, "reset", &reply))
}

fn applied(app: &AppState, action: &'static str, reply: &Snapshot) -> Json<Applied> {
    debug!(action, state = %reply.state, forced = reply.forced.as_str(), generation = reply.generation, "operator override");
    Json(Applied {
        name: crate::BREAKER_NAME.to_owned(),
        instance: app.instance.clone(),
        action,
        state: reply.state,
        forced: reply.forced,
        generation: reply.generation,
    })
}

fn unavailable(app: &AppState, e: StoreError) -> AppError {
    AppError::unavailable("breaker state unavailable")
        .with_field("name", crate::BREAKER_NAME)
        .with_field("instance", &app.instance)
        .with_field("degraded", true)
        .with_source(e)
}
