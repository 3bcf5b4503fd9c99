//! The patterns around a circuit breaker: retry, rate limit, time limit, bulkhead and
//! fallback, each a plain API and a tower layer. Where a pattern keeps state beyond one
//! process (the rate limiter's budgets, the last good response), it keeps it in the same Redis
//! as [`breaker_redis`], through the store's connection and its health tracker, and falls back
//! to this process while Redis is unreachable.
//!
//! Layer errors follow tower's convention where the layer adds an error of its own: the
//! service's error is a [`BoxError`](tower::BoxError), and the concrete cause ([`RateLimited`],
//! [`BulkheadFull`], [`Elapsed`], or breaker-redis's
//! [`CircuitOpen`](breaker_redis::CircuitOpen)) is found by downcasting. Every builder and
//! settings type fails with the one [`ConfigError`]; every settings type leaves its pattern off
//! where that makes sense (no retry, no bulkhead) until a value turns it on.
//!
//! # Layout
//!
//! - `error`: [`ConfigError`].
//! - [`retry`]: [`Retry`], [`RetryLayer`], [`Backoff`], the retry predicates; its docs give the
//!   composition order.
//! - [`rate_limit`]: [`RateLimiter`], a GCRA rate limiter shared by every replica through Redis
//!   (`lua/rate_limit.lua`), [`RateLimitLayer`] and its [`KeyExtractor`].
//! - [`time_limit`](mod@time_limit): [`TimeLimit`], [`call_with_timeout`]: a slow call
//!   cancelled, counted as a failure.
//! - [`bulkhead`]: [`Bulkhead`], [`BulkheadLayer`]: at most N concurrent calls per replica.
//! - [`fallback`]: [`Fallback`], [`with_fallback`], [`LastGood`] (the last good response, in
//!   Redis).

pub mod bulkhead;
mod error;
pub mod fallback;
pub mod rate_limit;
pub mod retry;
pub mod time_limit;

pub use bulkhead::{Bulkhead, BulkheadFull, BulkheadLayer, BulkheadSettings};
pub use error::ConfigError;
pub use fallback::{Fallback, FallbackLayer, LastGood, with_fallback};
pub use rate_limit::{
    Allowance, ClientKey, KeyExtractor, RateLimitConfig, RateLimitLayer, RateLimitSettings,
    RateLimited, RateLimiter,
};
pub use retry::{Backoff, Retry, RetryLayer, RetryPolicy, RetrySettings};
pub use time_limit::{Elapsed, TimeLimit, TimeLimitError, call_with_timeout, time_limit};
