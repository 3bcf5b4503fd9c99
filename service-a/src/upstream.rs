//! The call to Service B, and what its answer says about B's health.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode, Url};
use serde_json::Value;
use service_kit::trace::TraceContext;
use tracing::{Instrument, debug};

/// The largest body accepted from B; B's answers are a few dozen bytes.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Service B's `/hello`, through one client (one connection pool) built at start.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    client: Client,
    hello: Url,
}

/// How much longer than `SERVICE_B_TIMEOUT` the HTTP client waits on its own.
const BACKSTOP: Duration = Duration::from_secs(1);

/// How a call to B failed. What it tells the breaker is decided in `call::breaker`.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum UpstreamError {
    /// A 4xx other than 408 and 429: B is healthy but refused what A sent, which says nothing
    /// about B's health (it is A's bug or misconfiguration).
    #[error("service-b answered {0}")]
    Refused(StatusCode),
    /// B failed: 5xx, 3xx, 408, 429, unreachable, or an unreadable 2xx body.
    #[error("{detail}")]
    Failed {
        /// B's status, when it answered one.
        status: Option<StatusCode>,
        /// For A's client: what went wrong, without internal addresses.
        detail: String,
    },
    /// No complete answer within `SERVICE_B_TIMEOUT`.
    #[error("service-b timed out")]
    TimedOut,
}

impl UpstreamError {
    /// A short label for logs and the `upstream_calls_total` metric.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            UpstreamError::Refused(_) => "refused",
            UpstreamError::Failed { .. } => "failed",
            UpstreamError::TimedOut => "timeout",
        }
    }
}

impl Upstream {
    /// A client for `hello`. Redirects are not followed: A calls exactly the configured
    /// address. The stack's time limit bounds each call; the client's own timeout, a little
    /// longer, only backs it up.
    pub(crate) fn new(hello: Url, timeout: Duration) -> reqwest::Result<Self> {
        let client = Client::builder()
            .timeout(timeout.saturating_add(BACKSTOP))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, hello })
    }

    /// Calls `GET /hello` once, passing on the incoming request's `trace` headers.
    pub(crate) async fn hello(&self, trace: &TraceContext) -> Result<Value, UpstreamError> {
        let span = trace.outbound_span("service-b");
        self.send_hello(trace).instrument(span).await
    }

    async fn send_hello(&self, trace: &TraceContext) -> Result<Value, UpstreamError> {
        let mut request = self.client.get(self.hello.clone());
        for (name, value) in trace.headers() {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return request_failed(&e),
        };
        let status = response.status();
        if status.is_success() {
            return json_body(response).await;
        }
        debug!(%status, "service-b answered an error status");
        if status.is_client_error()
            && !matches!(
                status,
                StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
            )
        {
            return Err(UpstreamError::Refused(status));
        }
        Err(UpstreamError::Failed {
            status: Some(status),
            detail: format!("service-b answered {status}"),
        })
    }
}

fn request_failed(e: &reqwest::Error) -> Result<Value, UpstreamError> {
    debug!(error = %chain(e), "request to service-b failed");
    if e.is_timeout() {
        return Err(UpstreamError::TimedOut);
    }
    let detail = if e.is_connect() {
        "service-b could not be reached"
    } else {
        "the request to service-b failed"
    };
    Err(UpstreamError::Failed {
        status: None,
        detail: detail.to_owned(),
    })
}

/// Reads a 2xx body as JSON, at most [`MAX_BODY_BYTES`].
async fn json_body(mut response: Response) -> Result<Value, UpstreamError> {
    let status = response.status();
    let failed = |detail: &str| {
        Err(UpstreamError::Failed {
            status: Some(status),
            detail: detail.to_owned(),
        })
    };
    let too_large = "service-b sent a body over 1 MiB";
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return failed(too_large);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_BODY_BYTES => {
                return failed(too_large);
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(UpstreamError::TimedOut),
            Err(e) => {
                debug!(error = %chain(&e), "reading service-b's body failed");
                return failed("service-b's answer broke off");
            }
        }
    }
    match serde_json::from_slice(&body) {
        Ok(value) => Ok(value),
        Err(e) => {
            debug!(error = %e, "service-b's body is not JSON");
            failed("service-b sent a body that is not JSON")
        }
    }
}

/// An error and its causes on one line (reqwest's own message names only the outermost).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
