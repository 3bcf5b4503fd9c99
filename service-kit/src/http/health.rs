//! `GET /health`: 200 `{"status":"ok","service":NAME,"instance":ID}`, plus what a hook adds.
//! `GET /ready`: 200 `{"status":"ready",...}`, or 503 `{"status":"not-ready","reason":...}`
//! when the service's readiness hook says it cannot take traffic.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
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

type ReadyFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A service's readiness hook: `Err(reason)` while it cannot take traffic.
#[derive(Clone)]
pub(super) struct ReadyHook(Arc<dyn Fn() -> ReadyFuture + Send + Sync>);

impl ReadyHook {
    pub(super) fn new<F, Fut>(check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self(Arc::new(move || Box::pin(check())))
    }
}

/// What the handlers need.
#[derive(Clone)]
pub(super) struct Health {
    pub(super) service: String,
    pub(super) instance: String,
    pub(super) hook: Option<HealthHook>,
    pub(super) ready: Option<ReadyHook>,
}

impl Health {
    fn body(&self, status: &str) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("status".to_owned(), status.into());
        body.insert("service".to_owned(), self.service.clone().into());
        body.insert("instance".to_owned(), self.instance.clone().into());
        body
    }
}

/// Always 200: a degraded dependency is reported in the body, not by failing the probe.
pub(super) async fn health(State(health): State<Arc<Health>>) -> Json<Value> {
    let mut body = health.body("ok");
    if let Some(hook) = &health.hook {
        body.extend((hook.0)().await);
    }
    Json(Value::Object(body))
}

/// 200 once the service serves (its configuration loaded, its router built), unless its
/// readiness hook says otherwise. A dependency that is only degraded (Redis down while breakers
/// protect locally) does not make a service unready: taking every replica out of rotation for
/// it would turn a degraded fleet into a down one.
pub(super) async fn ready(State(health): State<Arc<Health>>) -> (StatusCode, Json<Value>) {
    let verdict = match &health.ready {
        Some(hook) => (hook.0)().await,
        None => Ok(()),
    };
    match verdict {
        Ok(()) => (StatusCode::OK, Json(Value::Object(health.body("ready")))),
        Err(reason) => {
            let mut body = health.body("not-ready");
            body.insert("reason".to_owned(), reason.into());
            (StatusCode::SERVICE_UNAVAILABLE, Json(Value::Object(body)))
        }
    }
}
