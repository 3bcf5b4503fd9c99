//! [`RetryLayer`]: tower's [`Retry`](tower::retry::Retry) driven by a [`Retry`] policy.

use tokio::time::Sleep;
use tower::Layer;

use super::{Backoff, NotOpen, Predicate, Retry, RetryPolicy};

/// The service made by [`RetryLayer`]: tower's retry middleware with an [`Attempts`] policy.
pub type RetryService<P, S> = tower::retry::Retry<Attempts<P>, S>;

/// Retries failed requests of the wrapped service; requests must be `Clone`.
///
/// Put it outside a [`BreakerLayer`](breaker_redis::BreakerLayer): every attempt then asks the
/// breaker, and with the default predicate ([`NotOpen`]) a rejection ends the retries.
/// Every service made by one layer shares its retry budget.
///
/// [`BreakerLayer`](breaker_redis::BreakerLayer) counts a failure before it returns, so the next
/// attempt already sees it: a circuit that trips on the `n`-th failure sees exactly `n` calls
/// through this stack.
#[derive(Debug, Clone)]
pub struct RetryLayer<P = NotOpen> {
    retry: Retry<P>,
}

impl RetryLayer {
    /// Retries every error except a circuit's rejection, as `policy` allows.
    pub fn new(policy: RetryPolicy) -> Self {
        Retry::new(policy).layer()
    }
}

impl<P> From<Retry<P>> for RetryLayer<P> {
    /// A layer sharing `retry`'s predicate and budget.
    fn from(retry: Retry<P>) -> Self {
        RetryLayer { retry }
    }
}

impl<S, P: Clone> Layer<S> for RetryLayer<P> {
    type Service = RetryService<P, S>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::retry::Retry::new(Attempts::new(self.retry.clone()), inner)
    }
}

/// tower's [`Policy`](tower::retry::Policy) for one request: tower clones it per request, so
/// the attempt count and the backoff start afresh for each.
#[derive(Debug, Clone)]
pub struct Attempts<P> {
    retry: Retry<P>,
    attempt: u32,
    backoff: Option<Backoff>,
}

impl<P> Attempts<P> {
    fn new(retry: Retry<P>) -> Self {
        Attempts {
            retry,
            attempt: 1,
            backoff: None,
        }
    }
}

impl<Req, Res, E, P> tower::retry::Policy<Req, Res, E> for Attempts<P>
where
    Req: Clone,
    P: Predicate<E>,
{
    type Future = Sleep;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, E>) -> Option<Sleep> {
        if self.attempt == 1 {
            self.retry.deposit();
        }
        let Err(error) = result else {
            return None;
        };
        // Drawn lazily: an unseeded backoff gets its own random seed per request.
        let backoff = self
            .backoff
            .get_or_insert_with(|| self.retry.policy().backoff());
        let delay = self.retry.next_delay(self.attempt, error, backoff)?;
        self.attempt += 1;
        Some(tokio::time::sleep(delay))
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(req.clone())
    }
}
