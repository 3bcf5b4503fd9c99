//! `GET /call-service-b`: B's `/hello` through, from the caller inwards, the rate limit, the
//! bulkhead, the fallback, retries, the shared breaker and the call's time limit.
//!
//! - this file: the handler, in that order, and the fallback.
//! - `attempt`: retry → breaker → time limit → call.
//! - `respond`: every answer.
//!
//! The answers are built here rather than as [`service_kit::AppError`]s: a 502 or a 503 is this
//! endpoint's normal work, logged at debug like every call, while `AppError` logs each 5xx at
//! warn, which under an open circuit would be one warning per request.

mod attempt;
mod respond;

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;
use tracing::{debug, warn};

use self::attempt::Failure;
pub(crate) use self::attempt::{CallRetry, retry};
use crate::app::AppState;
use crate::client::{ClientIp, client_key};
use crate::upstream::Answer;

/// The handler.
pub(crate) async fn call_service_b(
    State(app): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
) -> Response {
    if let Some(limiter) = &app.rate_limit {
        match client_key(ip) {
            Ok(key) => {
                if let Err(limited) = limiter.check(&key).await {
                    count("rate_limited");
                    debug!(client = %key, retry_after = ?limited.retry_after, "rate limited");
                    return respond::rate_limited(&limited);
                }
            }
            // An IP address is always a valid key; should that change, serve rather than fail.
            Err(e) => warn!(error = %e, "no rate-limit key for the client; not limited"),
        }
    }
    // Held through every attempt, so that retries cannot multiply the calls in flight.
    let _slot = match &app.bulkhead {
        Some(bulkhead) => match bulkhead.acquire().await {
            Ok(slot) => Some(slot),
            Err(full) => {
                count("bulkhead_full");
                debug!(max_concurrent = full.max_concurrent, "bulkhead full");
                return respond::bulkhead_full();
            }
        },
        None => None,
    };
    match attempt::call(&app).await {
        Ok(success) => {
            if let Some(last_good) = &app.last_good {
                last_good.remember(&success.body);
            }
            respond::success(&app, success.body, success.info)
        }
        Err(failure) => fall_back(&app, failure).await,
    }
}

/// With `FALLBACK=last-good`, B's last good body (remembered by any replica) in place of the
/// failure; otherwise, or when none is remembered, the failure's own answer. B refusing what A
/// sent (a 4xx) is A's problem, not B's health, so it is answered as it is.
async fn fall_back(app: &AppState, failure: Failure<'_>) -> Response {
    let refused = matches!(
        failure,
        Failure::Answered {
            answer: Answer::Refused(_),
            ..
        }
    );
    if let Some(last_good) = &app.last_good
        && !refused
        && let Some(upstream) = last_good.recall::<Value>().await
    {
        metrics::counter!("service_b_fallbacks_total").increment(1);
        debug!(failure = ?failure, "answered with service-b's last good answer");
        return respond::fallback(app, upstream, failure.info());
    }
    respond::failure(app, failure)
}

/// Counts one attempt (`ok`, `failed`, `refused`, `timeout`, `rejected`) or one request shed
/// before any attempt (`rate_limited`, `bulkhead_full`).
fn count(result: &'static str) {
    metrics::counter!("service_b_calls_total", "result" => result).increment(1);
}
