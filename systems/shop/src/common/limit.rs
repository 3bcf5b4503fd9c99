//! [`IpRateLimit`]: a rate limit per client IP, shared in Redis, as express-rate-limit answered.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use breaker_redis::RedisStore;
use resilience::rate_limit::ip_key;
use resilience::{RateLimitConfig, RateLimiter};
use service_kit::{AppError, ConfigError};

use super::client::{TrustedProxies, peer_ip};

/// The 429's `error`, the seed's words.
pub const RATE_LIMIT_MESSAGE: &str =
    "Too many requests from this IP, please try again after a minute";

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// `per_minute` requests a minute per client IP (all at once after a quiet minute), the budget
/// shared by every replica through Redis; the client found through `trusted` proxies.
#[derive(Debug, Clone)]
pub struct IpRateLimit {
    limiter: RateLimiter,
    trusted: TrustedProxies,
}

impl IpRateLimit {
    /// The limit `name` (its Redis keys are `rate-limit:{<name>:<ip>}`); without a store each
    /// replica limits on its own. `setting` names the variable in errors.
    ///
    /// # Errors
    ///
    /// `per_minute` is 0 or too large.
    pub fn new(
        name: &str,
        per_minute: u32,
        store: Option<RedisStore>,
        trusted: TrustedProxies,
        setting: &str,
    ) -> Result<Self, ConfigError> {
        let invalid = |e: resilience::ConfigError| ConfigError::invalid(setting, e);
        let config = RateLimitConfig::builder()
            .rate(per_minute, Duration::from_secs(60))
            .burst(per_minute)
            .build()
            .map_err(invalid)?;
        let builder = RateLimiter::builder(name).config(config);
        let builder = match store {
            Some(store) => builder.store(store),
            None => builder,
        };
        Ok(Self {
            limiter: builder.build().map_err(invalid)?,
            trusted,
        })
    }

    /// The underlying limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Takes one request of `client`'s budget: the `X-RateLimit-*` headers to answer with, or
    /// the 429.
    pub async fn check(&self, client: IpAddr) -> Result<HeaderMap, Response> {
        let limit = self.limiter.quota().count();
        match self.limiter.check(&ip_key(client)).await {
            Ok(allowance) => Ok(headers(limit, allowance.remaining, allowance.reset_after)),
            Err(limited) => {
                let mut response = AppError::new(
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    RATE_LIMIT_MESSAGE,
                )
                .with_retry_after(limited.retry_after)
                .into_response();
                let extra = headers(limit, 0, limited.retry_after);
                response.headers_mut().extend(extra);
                Err(response)
            }
        }
    }

    /// Middleware limiting every request it wraps by its client's IP.
    pub async fn middleware(State(limit): State<Self>, request: Request, next: Next) -> Response {
        let peer = peer_ip(request.extensions());
        let client = limit.trusted.client(peer, request.headers());
        match limit.check(client).await {
            Ok(headers) => {
                let mut response = next.run(request).await;
                response.headers_mut().extend(headers);
                response
            }
            Err(response) => response,
        }
    }
}

/// `X-RateLimit-Reset` is when the budget is full again, in Unix seconds.
fn headers(limit: u32, remaining: u32, reset_after: Duration) -> HeaderMap {
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(reset_after);
    let mut headers = HeaderMap::new();
    headers.insert(LIMIT, HeaderValue::from(limit));
    headers.insert(REMAINING, HeaderValue::from(remaining));
    let secs = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
    headers.insert(RESET, HeaderValue::from(secs));
    headers
}
