//! [`backend`]: the router of a service that only answers (no calls of its own): its API
//! refused while the faults say `down`, the `/faults` routes, and a `/health` reporting it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::{Extra, FaultControl, routes};
use crate::{App, AppError, HealthFields, ServerConfig};

/// The complete router of a backend service called `display` (`Payment`): `api` answering
/// 503 `{"error":"<display> service is down"}` while the faults say `down`, the `/faults`
/// routes, and service-kit's standard ones with `/health` saying
/// `{"status":"UP"|"DOWN","service":...}` (200 either way: the probe reports, the API refuses).
pub fn backend<X: Extra>(
    server: &ServerConfig,
    control: Arc<FaultControl<X>>,
    display: &'static str,
    api: Router,
) -> Router {
    let guard = (Arc::clone(&control), display);
    let api = api.layer(middleware::from_fn_with_state(guard, refuse_when_down::<X>));
    let health = Arc::clone(&control);
    let app = App::new(server).health_check(move || {
        let down = health.current().down;
        async move {
            let mut fields = HealthFields::new();
            fields.insert("status".to_owned(), if down { "DOWN" } else { "UP" }.into());
            fields
        }
    });
    app.build(api.merge(routes(control)))
}

async fn refuse_when_down<X: Extra>(
    State((control, display)): State<(Arc<FaultControl<X>>, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    if control.current().down {
        return AppError::unavailable(format!("{display} service is down")).into_response();
    }
    next.run(request).await
}
