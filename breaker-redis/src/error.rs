//! The errors a protected call can see. Store failures are not among them: the breaker
//! degrades instead (see [`DegradedMode`](crate::DegradedMode)).

use std::time::Duration;

use thiserror::Error;

use crate::protocol::{Forced, State};

/// The breaker did not admit the call: the circuit is open, forced open, or half-open with
/// every trial permit taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("circuit {breaker} is {state}{}", retry_hint(*.retry_after))]
pub struct CircuitOpen {
    /// The breaker's name.
    pub breaker: String,
    /// The state that rejected the call.
    pub state: State,
    /// The override in force, if any.
    pub forced: Forced,
    /// The circuit's generation when it rejected the call (0 when the degraded mode rejected).
    pub generation: u64,
    /// When trying again makes sense; `None` for a circuit forced open.
    ///
    /// Open: the time left until the open timeout ends, when trial calls are admitted.
    /// Half-open with every trial permit taken: a hint rather than a deadline, a tenth of the
    /// lease, at most the open timeout and no later than the first lease expires (at least
    /// 1 ms). The lease is sized for the slowest trial call, while most end well before it;
    /// by then the circuit is closed again, or open with a deadline of its own.
    pub retry_after: Option<Duration>,
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; retry after {d:?}"))
        .unwrap_or_default()
}

/// The error of [`Breaker::call`](crate::Breaker::call): rejected, or the call's own error.
#[derive(Debug, Error)]
pub enum CallError<E> {
    /// The breaker rejected the call; it was not made. It is also the error's `source()`, so a
    /// rejection boxed by other middleware is found by walking the source chain.
    #[error("{0}")]
    Open(#[from] CircuitOpen),
    /// The call was made and failed.
    #[error("{0}")]
    Inner(E),
}

impl<E> CallError<E> {
    /// The call's own error, if it was made.
    pub fn into_inner(self) -> Option<E> {
        match self {
            CallError::Inner(e) => Some(e),
            CallError::Open(_) => None,
        }
    }
}
