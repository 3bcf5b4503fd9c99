//! The errors of a [`Bulkhead`](super::Bulkhead): full, or the call's own.

use std::time::Duration;

use thiserror::Error;

/// Every slot of the bulkhead was taken (and stayed taken for its `max_wait`, if any): the
/// call was not made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("bulkhead {bulkhead} is full ({max_concurrent} calls in flight)")]
pub struct BulkheadFull {
    /// The bulkhead's name.
    pub bulkhead: String,
    /// Its number of slots.
    pub max_concurrent: usize,
    /// How long the call waited for a slot.
    pub waited: Duration,
}

/// The error of a [`BulkheadService`](super::BulkheadService): rejected, or the service's own.
#[derive(Debug, Error)]
pub enum BulkheadError<E> {
    /// The bulkhead rejected the request; the inner service was not called.
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    /// The inner service's error.
    #[error("{0}")]
    Inner(E),
}

impl<E> BulkheadError<E> {
    /// The inner service's error, if it was called.
    pub fn into_inner(self) -> Option<E> {
        match self {
            BulkheadError::Inner(e) => Some(e),
            BulkheadError::Full(_) => None,
        }
    }
}
