use tower::Layer;

use super::{BreakerService, ErrorIsFailure};
use crate::Breaker;

/// Wraps services in a [`Breaker`].
#[derive(Debug, Clone)]
pub struct BreakerLayer<C = ErrorIsFailure> {
    breaker: Breaker,
    classify: C,
}

impl BreakerLayer {
    /// Counts `Ok` as success and `Err` as failure.
    pub fn new(breaker: Breaker) -> Self {
        BreakerLayer {
            breaker,
            classify: ErrorIsFailure,
        }
    }
}

impl<C> BreakerLayer<C> {
    /// Asks `classify` what each result means (for example: an HTTP 5xx is a failure).
    pub fn with_classifier<C2>(self, classify: C2) -> BreakerLayer<C2> {
        BreakerLayer {
            breaker: self.breaker,
            classify,
        }
    }
}

impl<S, C: Clone> Layer<S> for BreakerLayer<C> {
    type Service = BreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService::new(inner, self.breaker.clone(), self.classify.clone())
    }
}
