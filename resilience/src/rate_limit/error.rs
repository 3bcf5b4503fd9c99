//! The errors a rate-limited call can see. Store failures are not among them: while Redis is
//! unreachable the per-replica limiter decides instead.

use std::time::Duration;

use thiserror::Error;

use super::key::InvalidKey;

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

/// The error of a [`RateLimitService`](super::RateLimitService).
#[derive(Debug, Error)]
pub enum RateLimitError<E> {
    /// The client is over its quota; the inner service was not called.
    #[error(transparent)]
    Limited(#[from] RateLimited),
    /// The key extractor produced an invalid key; the inner service was not called.
    #[error(transparent)]
    InvalidKey(#[from] InvalidKey),
    /// The inner service's own error.
    #[error("{0}")]
    Inner(E),
}

impl<E> RateLimitError<E> {
    /// The inner service's error, if it was called.
    pub fn into_inner(self) -> Option<E> {
        match self {
            RateLimitError::Inner(e) => Some(e),
            _ => None,
        }
    }
}
