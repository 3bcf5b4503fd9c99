//! Trace propagation: the headers a service passes on to every service it calls.
//!
//! [`TraceContext`] takes `traceparent` and `tracestate` (W3C Trace Context) and `x-request-id`
//! from the incoming request, as they came (the request id is always there: the
//! [`App`](crate::App) layers generate one when the client sent none), so that one request can
//! be followed across the services it went through.
//!
//! When spans are exported ([`crate::otlp`]), `traceparent` and `tracestate` are instead those
//! of the current span (or, outside any, the request's), so that the callee's spans are its
//! children; [`TraceContext::outbound_span`] makes a span for one outbound call.
//!
//! ```
//! use axum::http::{HeaderMap, HeaderValue};
//! use service_kit::trace::TraceContext;
//!
//! let mut incoming = HeaderMap::new();
//! incoming.insert("traceparent", HeaderValue::from_static("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
//! incoming.insert("x-request-id", HeaderValue::from_static("req-1"));
//! let trace = TraceContext::from_headers(&incoming);
//! let names: Vec<&str> = trace.headers().map(|(name, _)| name).collect();
//! assert_eq!(names, ["traceparent", "x-request-id"]);
//! ```

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use tracing::Span;

use crate::http::REQUEST_ID;

/// The headers forwarded on every outbound call, in the order they are sent.
pub const FORWARDED: [&str; 3] = ["traceparent", "tracestate", REQUEST_ID];

/// The forwarded headers of one incoming request; an extractor that never rejects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceContext {
    values: [Option<HeaderValue>; 3],
}

impl TraceContext {
    /// The forwarded headers found in `headers` (the first value of each).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            values: FORWARDED.map(|name| headers.get(name).cloned()),
        }
    }

    /// The headers to set on an outbound request: each one the incoming request had, or, when
    /// spans are exported, the current span's trace context and the request id.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, HeaderValue)> {
        let current = Span::current();
        let values = if crate::otlp::enabled() && !current.is_disabled() {
            self.with_context_of(&current).values
        } else {
            self.values.clone()
        };
        FORWARDED
            .into_iter()
            .zip(values)
            .filter_map(|(name, value)| Some((name, value?)))
    }

    /// These headers with `span`'s trace context in place of the incoming one.
    fn with_context_of(&self, span: &Span) -> Self {
        let mut values = self.values.clone();
        let context = crate::otlp::context_headers(span);
        if !context.is_empty() {
            values[0] = None;
            values[1] = None;
        }
        for (name, value) in context {
            let slot = usize::from(name == "tracestate");
            values[slot] = Some(value);
        }
        Self { values }
    }

    /// An `info` span for one call to `upstream`, a child of the request's span even where the
    /// call runs in a task of its own; run the call in it (`.instrument(span)`) so that the
    /// callee's spans are its children.
    pub fn outbound_span(&self, upstream: &str) -> Span {
        let span = tracing::info_span!(
            "outbound",
            upstream,
            otel.name = tracing::field::Empty,
            otel.kind = tracing::field::Empty,
        );
        if crate::otlp::enabled() {
            span.record("otel.name", format!("call {upstream}"));
            span.record("otel.kind", "client");
            let parent: Vec<_> = FORWARDED[..2]
                .iter()
                .zip(&self.values)
                .filter_map(|(name, value)| Some((*name, value.clone()?)))
                .collect();
            crate::otlp::set_parent(&span, &parent);
        }
        span
    }

    /// The request id, if the incoming request had one.
    pub fn request_id(&self) -> Option<&HeaderValue> {
        self.values[2].as_ref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TraceContext {
    type Rejection = Infallible;

    /// When spans are exported, the trace context passed on is the request span's (current
    /// while the handler's arguments are extracted).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let incoming = Self::from_headers(&parts.headers);
        let current = Span::current();
        if crate::otlp::enabled() && !current.is_disabled() {
            return Ok(incoming.with_context_of(&current));
        }
        Ok(incoming)
    }
}
