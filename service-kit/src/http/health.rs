//! `GET /health`: 200 `{"status":"ok","service":NAME,"instance":ID}`, plus what a hook adds.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};

/// Extra fields for the health answer (e.g. `{"redis": "down", "status": "degraded"}`).
pub type HealthFields = Map<String, Value>;

type BoxFuture = Pin<Box<dyn Future<Output = HealthFields> + Send>>;

/// A service's health hook: returns fields merged over the standard ones.
#[derive(Clone)]
pub(super) struct HealthHook(Arc<dyn Fn() -> BoxFuture + Send + Sync>);

impl HealthHook {
    pub(super) fn new<F, Fut>(check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HealthFields> + Send + 'static,
    {
        Self(Arc::new(move || Box::pin(check())))
    }
}

/// What the handler needs.
#[derive(Clone)]
pub(super) struct Health {
    pub(super) service: String,
    pub(super) instance: String,
    pub(super) hook: Option<HealthHook>,
}

/// Always 200: a degraded dependency is reported in the body, not by failing the probe.
pub(super) async fn health(State(health): State<Arc<Health>>) -> Json<Value> {
    let mut body = Map::new();
    body.insert("status".to_owned(), "ok".into());
    body.insert("service".to_owned(), health.service.clone().into());
    body.insert("instance".to_owned(), health.instance.clone().into());
    if let Some(hook) = &health.hook {
        body.extend((hook.0)().await);
    }
    Json(Value::Object(body))
}
