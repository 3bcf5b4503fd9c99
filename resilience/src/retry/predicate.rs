//! What is worth retrying: [`Predicate`], and the rule that an open circuit never is.

use std::error::Error;

use breaker_redis::{CallError, CircuitOpen};
use tower::BoxError;

/// Decides whether an error is worth another attempt. Any `Fn(&E) -> bool` is one.
pub trait Predicate<E> {
    /// True when another attempt may succeed.
    fn is_retryable(&self, error: &E) -> bool;
}

impl<E, F> Predicate<E> for F
where
    F: Fn(&E) -> bool,
{
    fn is_retryable(&self, error: &E) -> bool {
        self(error)
    }
}

/// An error that may be a circuit breaker's rejection. Retrying a rejection only hammers the
/// breaker (and, through it, Redis) until the open timeout: [`NotOpen`] and [`UnlessOpen`]
/// never do.
pub trait Rejection {
    /// The rejection, when this error is one.
    fn circuit_open(&self) -> Option<&CircuitOpen>;
}

impl Rejection for CircuitOpen {
    fn circuit_open(&self) -> Option<&CircuitOpen> {
        Some(self)
    }
}

impl<E> Rejection for CallError<E> {
    fn circuit_open(&self) -> Option<&CircuitOpen> {
        match self {
            CallError::Open(open) => Some(open),
            CallError::Inner(_) => None,
        }
    }
}

/// A boxed error is a rejection when a [`CircuitOpen`] is in its source chain (see
/// [`circuit_open`]): middleware between the retry and the breaker, such as tower's `Timeout`
/// or `Buffer`, boxes the breaker's [`CallError`].
impl Rejection for BoxError {
    fn circuit_open(&self) -> Option<&CircuitOpen> {
        circuit_open(&**self)
    }
}

/// The circuit's rejection inside `error`: `error` itself or any error of its `source()`
/// chain (a boxed error is unboxed by its holder's `source()`, as tower's `ServiceError`
/// does). [`CallError::Open`] gives its
/// [`CircuitOpen`] as its source, so a rejection is found however it was wrapped.
pub fn circuit_open<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a CircuitOpen> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(open) = error.downcast_ref::<CircuitOpen>() {
            return Some(open);
        }
        next = error.source();
    }
    None
}

/// The default predicate: every error is retryable except a circuit's rejection.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotOpen;

impl<E: Rejection> Predicate<E> for NotOpen {
    fn is_retryable(&self, error: &E) -> bool {
        error.circuit_open().is_none()
    }
}

/// A predicate consulted only for errors that are not a circuit's rejection.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnlessOpen<P>(pub P);

impl<E: Rejection, P: Predicate<E>> Predicate<E> for UnlessOpen<P> {
    fn is_retryable(&self, error: &E) -> bool {
        error.circuit_open().is_none() && self.0.is_retryable(error)
    }
}

/// Every error is retryable; for calls that do not go through a breaker.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyError;

impl<E> Predicate<E> for AnyError {
    fn is_retryable(&self, _: &E) -> bool {
        true
    }
}
