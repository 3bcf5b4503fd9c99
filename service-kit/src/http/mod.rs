//! The standard routes and layers every service's router gets, through [`App`].
//!
//! Routes: `GET /health`, `GET /ready`, `GET /metrics`; unknown routes answer JSON 404, wrong
//! methods JSON 405.
//!
//! | route | answers | while Redis is down |
//! |---|---|---|
//! | `/health` | liveness: 200 while the process serves; the body names degraded dependencies (`"status": "degraded"`) | 200, `"status": "degraded"` in services that report Redis |
//! | `/ready` | readiness: 200 `"ready"` once the service serves, 503 `"not-ready"` with a `reason` while its [`App::ready_check`] says so | 200: breakers and limiters protect locally, so the replica can take traffic |
//!
//! Layers, outermost first:
//!
//! 1. request id: `x-request-id` taken from the request or generated (UUID v4), recorded in the
//!    request's tracing span and echoed on the response;
//! 2. tracing: an `info` span per request (`method`, `path`, `request_id`; exported spans continue
//!    the caller's `traceparent`, see [`crate::otlp`]), a start event at
//!    `debug` (errors are logged by [`AppError`](crate::AppError), once);
//! 3. problem details ([`crate::problem`]): JSON errors rewritten as RFC 9457 problem details
//!    for clients that ask for them;
//! 4. the access log (`access`): one `info` line per request with `method`, `route`, `status`,
//!    `latency_ms`, `request_id` and `client`;
//! 5. the HTTP metrics of [`crate::metrics`];
//! 6. the body limit ([`ServerConfig::max_body_bytes`]), answering JSON 413.

mod access;
mod asset;
mod health;
mod reject;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::middleware;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

pub use asset::asset;
pub use health::HealthFields;
pub use reject::get_only;

use crate::config::ServerConfig;
use health::{Health, HealthHook, ReadyHook};

/// The header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// Wraps a service's routes with the standard routes and layers.
///
/// ```
/// use axum::{Router, routing::get};
/// use service_kit::{App, ServerConfig};
///
/// let server = ServerConfig::new("demo", 0);
/// let router: Router = App::new(&server)
///     .health_check(|| async {
///         let mut fields = service_kit::HealthFields::new();
///         fields.insert("redis".into(), "up".into());
///         fields
///     })
///     .build(Router::new().route("/hello", get(|| async { "hi" })));
/// ```
#[derive(Clone)]
#[must_use]
pub struct App {
    health: Health,
    max_body_bytes: usize,
}

impl App {
    /// The standard routes and layers for the service `server` describes.
    pub fn new(server: &ServerConfig) -> Self {
        Self {
            health: Health {
                service: server.service.clone(),
                instance: server.instance_id.clone(),
                hook: None,
                ready: None,
            },
            max_body_bytes: server.max_body_bytes,
        }
    }

    /// Adds fields to `/health`, e.g. a dependency's status. The answer stays 200: report a
    /// degraded dependency in a field (and `"status": "degraded"`, which replaces `"ok"`).
    pub fn health_check<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HealthFields> + Send + 'static,
    {
        self.health.hook = Some(HealthHook::new(check));
        self
    }

    /// Makes `/ready` answer 503 `{"status":"not-ready","reason":...}` while `check` returns
    /// `Err(reason)`: for a service that cannot take traffic yet (or any more). Without a check,
    /// a service is ready as soon as it serves.
    pub fn ready_check<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.health.ready = Some(ReadyHook::new(check));
        self
    }

    /// The finished router: `routes` (which must not set their own fallback) plus the standard
    /// routes, fallbacks and layers.
    pub fn build(self, routes: Router) -> Router {
        crate::metrics::handle();
        let limit = self.max_body_bytes;
        let standard = Router::new()
            .route("/health", get(health::health))
            .route("/ready", get(health::ready))
            .with_state(Arc::new(self.health))
            .route("/metrics", get(crate::metrics::render));
        let layers = ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span as fn(&Request<Body>) -> Span)
                    .on_response(())
                    .on_failure(()),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(middleware::from_fn(crate::problem::negotiate))
            .layer(middleware::from_fn(access::log))
            .layer(middleware::from_fn(crate::metrics::track))
            .layer(middleware::from_fn_with_state(
                limit,
                reject::check_content_length,
            ))
            .layer(DefaultBodyLimit::max(limit));
        routes
            .merge(standard)
            .fallback(reject::not_found)
            .method_not_allowed_fallback(reject::method_not_allowed)
            .layer(layers)
    }
}

fn request_span(req: &Request<Body>) -> Span {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id,
        otel.name = tracing::field::Empty,
        otel.kind = tracing::field::Empty,
    );
    if crate::otlp::enabled() {
        span.record(
            "otel.name",
            format!("{} {}", req.method(), req.uri().path()),
        );
        span.record("otel.kind", "server");
        crate::otlp::continue_trace(&span, req.headers());
    }
    span
}
