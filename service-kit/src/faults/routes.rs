//! The three `/faults` routes.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::{Extra, FaultControl, Faults, FaultsUpdate};
use crate::{AppError, Json};

/// `GET /faults` (the current settings), `PUT /faults` (a partial update, answering the new
/// settings) and `DELETE /faults` (back to the defaults), for merging into a service's routes.
///
/// A body that is not a valid update answers 400, 413 or 415 with a JSON error and changes
/// nothing; a value out of range answers 400 `{"error":"invalid fault settings","detail":...}`.
pub fn routes<X: Extra>(control: Arc<FaultControl<X>>) -> Router {
    Router::new()
        .route(
            "/faults",
            get(current::<X>).put(update::<X>).delete(reset::<X>),
        )
        .with_state(control)
}

async fn current<X: Extra>(State(control): State<Arc<FaultControl<X>>>) -> Json<Faults<X>> {
    Json(control.current())
}

async fn update<X: Extra>(
    State(control): State<Arc<FaultControl<X>>>,
    Json(update): Json<FaultsUpdate<X::Update>>,
) -> Result<Json<Faults<X>>, AppError> {
    let faults = control.update(&update).map_err(|invalid| {
        AppError::bad_request("invalid fault settings").with_field("detail", invalid.to_string())
    })?;
    tracing::info!(?faults, "faults changed");
    Ok(Json(faults))
}

async fn reset<X: Extra>(State(control): State<Arc<FaultControl<X>>>) -> Json<Faults<X>> {
    let faults = control.reset();
    tracing::info!(?faults, "faults reset");
    Json(faults)
}
