//! [`TimeLimitError`]: what a time-limited call through a breaker can fail with.

use thiserror::Error;
pub use tower::timeout::error::Elapsed;

use crate::retry::Rejection;
use breaker_redis::CircuitOpen;

/// The error of [`call_with_timeout`](super::call_with_timeout) and
/// [`TimeLimit::call`](super::TimeLimit::call).
#[derive(Debug, Error)]
pub enum TimeLimitError<E> {
    /// The call took longer than its limit and was cancelled.
    #[error(transparent)]
    Elapsed(#[from] Elapsed),
    /// The breaker rejected the call; it was not made. Also the error's `source()`, so that
    /// [`circuit_open`](crate::retry::circuit_open) finds it when this error is boxed.
    #[error("{0}")]
    Open(#[from] CircuitOpen),
    /// The call was made in time and failed.
    #[error("{0}")]
    Inner(E),
}

impl<E> TimeLimitError<E> {
    /// The call's own error, if it was made and finished in time.
    pub fn into_inner(self) -> Option<E> {
        match self {
            TimeLimitError::Inner(e) => Some(e),
            TimeLimitError::Elapsed(_) | TimeLimitError::Open(_) => None,
        }
    }
}

impl<E> Rejection for TimeLimitError<E> {
    fn circuit_open(&self) -> Option<&CircuitOpen> {
        match self {
            TimeLimitError::Open(open) => Some(open),
            TimeLimitError::Elapsed(_) | TimeLimitError::Inner(_) => None,
        }
    }
}
