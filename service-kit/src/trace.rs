//! Trace propagation: the headers a service passes on to every service it calls.
//!
//! [`TraceContext`] takes `traceparent` and `tracestate` (W3C Trace Context) and `x-request-id`
//! from the incoming request, as they came (the request id is always there: the
//! [`App`](crate::App) layers generate one when the client sent none), so that one request can
//! be followed across the services it went through.
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

    /// The headers to set on an outbound request: each one the incoming request had.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &HeaderValue)> {
        FORWARDED
            .into_iter()
            .zip(&self.values)
            .filter_map(|(name, value)| Some((name, value.as_ref()?)))
    }

    /// The request id, if the incoming request had one.
    pub fn request_id(&self) -> Option<&HeaderValue> {
        self.values[2].as_ref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TraceContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}
