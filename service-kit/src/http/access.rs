//! The access log: one `info` event per request, target `access`.
//!
//! Fields: `method` (as in the metrics: a standard method or `other`), `route` (the matched
//! pattern or `unmatched`), `status`, `latency_ms` (a number, fractional), `request_id` and
//! `client` (the peer's IP address). `RUST_LOG=access=off` silences it.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use super::REQUEST_ID;
use crate::metrics::method_label;

/// Middleware writing the access log line once the response is ready.
pub(crate) async fn log(req: Request, next: Next) -> Response {
    if !tracing::enabled!(target: "access", tracing::Level::INFO) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().cloned();
    let request_id = req.headers().get(REQUEST_ID).cloned();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let response = next.run(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "access",
        method,
        route = route.as_ref().map_or("unmatched", MatchedPath::as_str),
        status = response.status().as_u16(),
        latency_ms,
        request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default(),
        client = client.map(tracing::field::display),
        "request"
    );
    response
}
