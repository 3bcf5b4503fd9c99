//! The JSON API: the breakers, one breaker, its history, and the overrides.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use breaker_redis::admin::{BreakerDetail, BreakerSummary, TransitionRecord};
use serde::{Deserialize, Serialize};
use service_kit::admin::Admin;
use service_kit::{AppError, Json};

use crate::admin::{Action, Applied};
use crate::app::{AppState, check_name};
use crate::fleet::HISTORY_MAX;

/// Transitions `GET /api/breakers/{name}` includes.
const RECENT: usize = 20;

/// Transitions `GET /api/breakers/{name}/history` answers without `limit`.
const DEFAULT_LIMIT: usize = 50;

/// `GET /api/breakers`'s answer.
#[derive(Debug, Serialize)]
pub(crate) struct Listing {
    breakers: Vec<BreakerSummary>,
    /// More breakers than `MAX_BREAKERS` are in Redis; the first ones by name are listed.
    truncated: bool,
}

/// `GET /api/breakers`.
pub(crate) async fn list(State(app): State<Arc<AppState>>) -> Result<Json<Listing>, AppError> {
    let mut breakers = app.breakers.list().await?;
    let truncated = breakers.len() > app.limits.max_breakers;
    breakers.truncate(app.limits.max_breakers);
    Ok(Json(Listing {
        breakers,
        truncated,
    }))
}

/// `GET /api/breakers/{name}`'s answer.
#[derive(Debug, Serialize)]
pub(crate) struct Detail {
    #[serde(flatten)]
    breaker: BreakerDetail,
    /// The latest transitions, newest first.
    history: Vec<TransitionRecord>,
}

/// `GET /api/breakers/{name}`.
pub(crate) async fn show(
    State(app): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Detail>, AppError> {
    let name = path_name(name)?;
    let breaker = app.breakers.show(&name).await?;
    let history = app.breakers.history(&name, RECENT).await?;
    Ok(Json(Detail { breaker, history }))
}

/// `?limit=N`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    limit: Option<usize>,
}

/// `GET /api/breakers/{name}/history`'s answer.
#[derive(Debug, Serialize)]
pub(crate) struct History {
    name: String,
    /// Newest first.
    history: Vec<TransitionRecord>,
}

/// `GET /api/breakers/{name}/history?limit=N`.
pub(crate) async fn history(
    State(app): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<History>, AppError> {
    let name = path_name(name)?;
    let Query(query) = query
        .map_err(|e| AppError::bad_request("invalid query").with_field("detail", e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=HISTORY_MAX).contains(&limit) {
        return Err(AppError::bad_request("invalid limit")
            .with_field("detail", format!("must be 1 to {HISTORY_MAX}")));
    }
    let history = app.breakers.history(&name, limit).await?;
    Ok(Json(History { name, history }))
}

/// `POST /api/breakers/{name}/{open|close|disable|reset}`, behind the token.
pub(crate) async fn apply(
    _: Admin,
    State(app): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Applied>, AppError> {
    let Path((name, action)) = path.map_err(|e| AppError::bad_request(e.body_text()))?;
    check_name(&name)?;
    let action: Action = action.parse()?;
    Ok(Json(app.breakers.apply(&name, action).await?))
}

#[allow(
    clippy::result_large_err,
    reason = "AppError is what every handler answers with; these helpers hand it on"
)]
fn path_name(name: Result<Path<String>, PathRejection>) -> Result<String, AppError> {
    let Path(name) = name.map_err(|e| AppError::bad_request(e.body_text()))?;
    check_name(&name)?;
    Ok(name)
}
