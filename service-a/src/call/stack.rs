//! The `ServiceBuilder` stack of `/call-service-b`, from the caller inwards: rate limit,
//! bulkhead, fallback, retry, breaker, time limit, the call (see the crate docs' Resilience
//! section for why this order). Every pattern left off by the configuration is skipped.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use breaker_redis::Breaker;
use futures_util::future::BoxFuture;
use resilience::bulkhead::{Bulkhead, BulkheadLayer};
use resilience::fallback::{Fallback, FallbackLayer, LastGood};
use resilience::rate_limit::{ByIp, RateLimitLayer, RateLimiter};
use resilience::retry::{Predicate, Retry, RetryLayer, RetryPolicy};
use resilience::time_limit::TimeLimit;
use serde_json::Value;
use service_kit::trace::TraceContext;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder};
use tracing::debug;

use super::breaker::{AttemptError, BreakerStepLayer, Success};
use crate::upstream::{Upstream, UpstreamError};

/// The whole stack, built once and cloned per request.
pub(crate) type CallService = BoxCloneSyncService<CallRequest, Success, BoxError>;

/// One request to `/call-service-b`: cloned for every attempt.
#[derive(Debug, Clone)]
pub(crate) struct CallRequest {
    /// The peer's address, the key of its rate limit; `None` without connection info.
    pub(crate) client: Option<IpAddr>,
    /// The headers to pass on to service-b.
    pub(crate) trace: TraceContext,
    /// Attempts made for this request (every clone shares it), for `upstream_retries_total`.
    pub(crate) attempts: Arc<AtomicU32>,
}

/// The patterns the configuration turned on, and what the stack calls.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) rate_limit: Option<RateLimiter>,
    pub(crate) bulkhead: Option<Bulkhead>,
    pub(crate) last_good: Option<LastGood>,
    /// One attempt unless `RETRY__MAX_ATTEMPTS` says otherwise.
    pub(crate) retry: RetryPolicy,
    pub(crate) breaker: Option<Breaker>,
    pub(crate) upstream: Upstream,
    /// `SERVICE_B_TIMEOUT`: the limit on each attempt.
    pub(crate) timeout: Duration,
}

/// Builds the stack. The retry budget is shared by every request of this replica.
pub(crate) fn stack(parts: Parts) -> CallService {
    let upstream = parts.upstream;
    let call = tower::service_fn(move |req: CallRequest| {
        let upstream = upstream.clone();
        async move { upstream.hello(&req.trace).await.map_err(BoxError::from) }
    });
    let svc = ServiceBuilder::new()
        .option_layer(
            parts
                .rate_limit
                .map(|limiter| RateLimitLayer::new(limiter, ByIp(client_ip))),
        )
        .option_layer(parts.bulkhead.map(BulkheadLayer::new))
        .option_layer(
            parts
                .last_good
                .map(|l| FallbackLayer::new(LastGoodAnswer(l))),
        )
        .layer(RetryLayer::from(
            Retry::new(parts.retry).retry_if(Retryable),
        ))
        .map_request(count_attempt)
        .layer(BreakerStepLayer(parts.breaker))
        .layer(TimeLimit::new(parts.timeout))
        .service(call);
    BoxCloneSyncService::new(svc)
}

fn client_ip(req: &CallRequest) -> Option<IpAddr> {
    req.client
}

fn count_attempt(req: CallRequest) -> CallRequest {
    req.attempts.fetch_add(1, Ordering::Relaxed);
    req
}

/// Worth another attempt: B failed (5xx, 3xx, 408, 429, unreachable, unreadable) or timed out.
/// A refusal (another 4xx) would be refused again; a rejection is never retried (`retry_if`).
#[derive(Debug, Clone, Copy)]
struct Retryable;

impl Predicate<BoxError> for Retryable {
    fn is_retryable(&self, error: &BoxError) -> bool {
        matches!(
            error.downcast_ref::<AttemptError>(),
            Some(AttemptError::Answered {
                error: UpstreamError::Failed { .. } | UpstreamError::TimedOut,
                ..
            })
        )
    }
}

/// `FALLBACK=last-good`: B's last good body (remembered by any replica) in place of a failed or
/// rejected call. B refusing what A sent (a 4xx) is A's problem, not B's health, so it is
/// answered as it is.
#[derive(Debug, Clone)]
struct LastGoodAnswer(LastGood);

impl Fallback<Success, BoxError> for LastGoodAnswer {
    type Future = BoxFuture<'static, Result<Success, BoxError>>;

    fn fallback(&self, error: BoxError) -> Self::Future {
        let last_good = self.0.clone();
        Box::pin(async move {
            let info = match error.downcast_ref::<AttemptError>() {
                Some(AttemptError::Answered {
                    error: UpstreamError::Refused(_),
                    ..
                })
                | None => return Err(error),
                Some(attempt) => attempt.info(),
            };
            let Some(body) = last_good.recall::<Value>().await else {
                return Err(error);
            };
            metrics::counter!("upstream_fallbacks_total", "upstream" => super::UPSTREAM)
                .increment(1);
            debug!(failure = %error, "answered with service-b's last good answer");
            Ok(Success {
                body,
                info,
                fallback: true,
            })
        })
    }

    fn observe(&self, answer: &Success) {
        self.0.remember(&answer.body);
    }
}
