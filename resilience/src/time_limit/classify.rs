//! [`ElapsedClassifier`]: tells a [`BreakerLayer`](breaker_redis::BreakerLayer) what a timeout means.

use tower::BoxError;

use super::Elapsed;
use breaker_redis::Outcome;
use breaker_redis::layer::{Classify, ErrorIsFailure};

/// A classifier for a breaker wrapping tower's [`Timeout`](tower::timeout::Timeout) (whose
/// error is a [`BoxError`]): an [`Elapsed`] counts as the outcome it was made with (a failure
/// by default), every other result as the `otherwise` classifier says (by default `Ok` is a
/// success and `Err` a failure).
///
/// Made by [`TimeLimit::classifier`](super::TimeLimit::classifier), which honours its
/// [`OnElapsed`](super::OnElapsed).
#[derive(Debug, Clone, Copy)]
pub struct ElapsedClassifier<C = ErrorIsFailure> {
    elapsed: Outcome,
    otherwise: C,
}

impl ElapsedClassifier {
    /// Counts a timeout as `elapsed`.
    pub fn new(elapsed: Outcome) -> Self {
        ElapsedClassifier {
            elapsed,
            otherwise: ErrorIsFailure,
        }
    }
}

impl Default for ElapsedClassifier {
    /// Counts a timeout as a failure.
    fn default() -> Self {
        ElapsedClassifier::new(Outcome::Failure)
    }
}

impl<C> ElapsedClassifier<C> {
    /// Asks `otherwise` about every result that is not a timeout.
    pub fn otherwise<C2>(self, otherwise: C2) -> ElapsedClassifier<C2> {
        ElapsedClassifier {
            elapsed: self.elapsed,
            otherwise,
        }
    }
}

impl<R, C: Classify<R, BoxError>> Classify<R, BoxError> for ElapsedClassifier<C> {
    fn classify(&self, result: &Result<R, BoxError>) -> Outcome {
        match result {
            Err(e) if e.is::<Elapsed>() => self.elapsed,
            _ => self.otherwise.classify(result),
        }
    }
}
