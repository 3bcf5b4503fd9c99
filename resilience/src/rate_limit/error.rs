//! [`RateLimited`]: the error a rate-limited call can see. Store failures are not among them: while Redis is
//! unreachable the per-replica limiter decides instead.

use std::time::Duration;

use thiserror::Error;

/// The client used up its quota; the call was not made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("rate limit {limiter} exceeded; retry after {retry_after:?}")]
pub struct RateLimited {
    /// The limiter's name.
    pub limiter: String,
    /// When the client will be admitted again (if nobody else uses its budget first); suits an
    /// HTTP `Retry-After` header, rounded up to whole seconds.
    pub retry_after: Duration,
}
