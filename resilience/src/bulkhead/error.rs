//! [`BulkheadFull`]: the error of a call a [`Bulkhead`](super::Bulkhead) had no slot for.

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
