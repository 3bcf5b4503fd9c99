//! Retries with exponential backoff, full jitter and a retry budget, outside the breaker.
//!
//! [`Retry`] runs a call up to [`RetryPolicy::max_attempts`] times, sleeping a [`Backoff`]
//! delay between attempts, while the [`Predicate`] says the error is worth retrying and the
//! budget (see [`BudgetPolicy`]) allows it. [`RetryLayer`] does the same as tower middleware.
//! A circuit's rejection ([`CallError::Open`]) is never retried by the default predicates.
//!
//! # Composition order
//!
//! From the caller inwards: **rate limit → bulkhead → fallback → retry → breaker → time limit
//! → call**.
//!
//! - *Rate limit* first: excess is shed before it costs anything, and its rejections are not
//!   retried.
//! - *Bulkhead* outside retry: a logical call holds one slot through all its attempts, so
//!   retries cannot multiply the concurrency a replica sends to the dependency.
//! - *Fallback* outside retry: it answers what all the attempts came to (a rejection too),
//!   once, instead of hiding a failure the next attempt could have fixed.
//! - *Retry* outside the breaker: every attempt asks the breaker and is counted by it, and a
//!   rejection ends the retries at once instead of hammering an open circuit.
//! - *Breaker* outside the time limit: a call cut by its limit is reported as one failure
//!   (see [`time_limit`](mod@crate::time_limit)), and the permit is always recorded.
//! - *Time limit* innermost: it bounds one attempt. A deadline for the whole logical call goes
//!   outside retry; if it fires mid-attempt the breaker's permit is dropped, which frees a
//!   half-open lease and counts nothing.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use resilience::bulkhead::{Bulkhead, BulkheadLayer};
//! use resilience::retry::{RetryLayer, RetryPolicy};
//! use resilience::time_limit::TimeLimit;
//! use breaker_redis::{Breaker, BreakerLayer};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! let breaker = Breaker::builder("inventory").build().unwrap();
//! let limit = TimeLimit::new(Duration::from_millis(500));
//! let svc = ServiceBuilder::new()
//!     .layer(BulkheadLayer::new(Bulkhead::builder("inventory").max_concurrent(32).build().unwrap()))
//!     .layer(RetryLayer::new(RetryPolicy::builder().max_attempts(3).build().unwrap()))
//!     .layer(BreakerLayer::new(breaker.clone()).with_classifier(limit.classifier(&breaker)))
//!     .layer(limit)
//!     .service_fn(|sku: u32| async move { Ok::<_, std::io::Error>(sku * 2) });
//! assert_eq!(svc.oneshot(21).await.unwrap(), 42);
//! # }
//! ```

mod backoff;
mod layer;
mod policy;
mod predicate;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use tower::retry::budget::{Budget, TpsBudget};
use tracing::debug;

pub use self::backoff::Backoff;
pub use self::layer::{Attempts, RetryLayer, RetryService};
pub use self::policy::{BudgetPolicy, RetryPolicy, RetryPolicyBuilder};
pub use self::predicate::{AnyError, NotOpen, Predicate, Rejection, UnlessOpen, circuit_open};
pub use self::settings::RetrySettings;
use breaker_redis::{Breaker, CallError, Outcome};

/// A retry policy with its budget and predicate. Clones share the budget.
///
/// The default predicate, [`NotOpen`], retries every error except a circuit's rejection; it
/// needs an error type that can tell ([`Rejection`]: [`CallError`], `TimeLimitError`,
/// [`CircuitOpen`](breaker_redis::CircuitOpen), a boxed error). [`retry_if`](Self::retry_if) narrows
/// it; for a call made without a breaker, [`with_predicate`](Self::with_predicate) (for
/// example with [`AnyError`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::io::ErrorKind;
/// use resilience::retry::{Retry, RetryPolicy};
/// use breaker_redis::{Breaker, CallError};
///
/// let breaker = Breaker::builder("search").build().unwrap();
/// let retry = Retry::new(RetryPolicy::builder().max_attempts(3).build().unwrap())
///     .retry_if(|e: &CallError<std::io::Error>| {
///         matches!(e, CallError::Inner(e) if e.kind() != ErrorKind::InvalidInput)
///     });
/// let hits = retry.call(&breaker, || async { Ok::<_, std::io::Error>(3) }).await.unwrap();
/// assert_eq!(hits, 3);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Retry<P = NotOpen> {
    policy: RetryPolicy,
    budget: Option<Arc<TpsBudget>>,
    predicate: P,
}

impl Retry {
    /// Retries every error except a circuit's rejection, as `policy` allows, with a fresh budget.
    pub fn new(policy: RetryPolicy) -> Self {
        let budget = policy
            .budget()
            .map(|b| Arc::new(TpsBudget::new(b.window, b.min_per_sec, b.ratio)));
        Retry {
            policy,
            budget,
            predicate: NotOpen,
        }
    }
}

impl<P> Retry<P> {
    /// Retries only errors `predicate` accepts; a circuit's rejection never.
    pub fn retry_if<Q>(self, predicate: Q) -> Retry<UnlessOpen<Q>> {
        self.with_predicate(UnlessOpen(predicate))
    }

    /// Lets `predicate` alone decide, for errors that never carry a circuit's rejection (a
    /// call made without a breaker). Prefer [`retry_if`](Self::retry_if) otherwise.
    pub fn with_predicate<Q>(self, predicate: Q) -> Retry<Q> {
        Retry {
            policy: self.policy,
            budget: self.budget,
            predicate,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// A tower layer sharing this predicate and budget.
    pub fn layer(&self) -> RetryLayer<P>
    where
        P: Clone,
    {
        RetryLayer::from(self.clone())
    }

    /// Runs `f` until it succeeds, its error is not retryable, the attempts are used up or the
    /// budget is; returns the last error.
    pub async fn run<T, E, F, Fut>(&self, mut f: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: Predicate<E>,
    {
        self.deposit();
        let mut backoff = self.policy.backoff();
        let mut attempt = 1;
        loop {
            let error = match f().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let Some(delay) = self.next_delay(attempt, &error, &mut backoff) else {
                return Err(error);
            };
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// [`run`](Self::run) with each attempt through `breaker` (counting `Err` as a failure).
    /// A rejection ends the retries unless the predicate was set with
    /// [`with_predicate`](Self::with_predicate) and accepts it.
    ///
    /// A failure is counted before the next attempt asks the breaker (unlike
    /// [`Breaker::call`], which records in the background), so retries cannot slip past the
    /// failure that trips the circuit; a success is recorded in the background.
    pub async fn call<T, E, F, Fut>(&self, breaker: &Breaker, mut f: F) -> Result<T, CallError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: Predicate<CallError<E>>,
    {
        self.deposit();
        let mut backoff = self.policy.backoff();
        let mut attempt = 1;
        loop {
            let error = match attempt_through(breaker, &mut f).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let Some(delay) = self.next_delay(attempt, &error, &mut backoff) else {
                return Err(error);
            };
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// A first attempt: it earns the budget a fraction of a retry.
    pub(crate) fn deposit(&self) {
        if let Some(budget) = &self.budget {
            budget.deposit();
        }
    }

    /// The delay before the attempt after `attempt`, or `None` when there is none to make.
    /// Withdraws from the budget only when every other check allows a retry.
    pub(crate) fn next_delay<E>(
        &self,
        attempt: u32,
        error: &E,
        backoff: &mut Backoff,
    ) -> Option<Duration>
    where
        P: Predicate<E>,
    {
        if attempt >= self.policy.max_attempts() || !self.predicate.is_retryable(error) {
            return None;
        }
        if let Some(budget) = &self.budget
            && !budget.withdraw()
        {
            debug!(attempt, "retry budget exhausted; giving up");
            return None;
        }
        let delay = backoff.next()?;
        debug!(attempt, ?delay, "retrying");
        Some(delay)
    }
}

/// One attempt through `breaker`: a failure is recorded before returning, a success in the
/// background.
async fn attempt_through<T, E, F, Fut>(breaker: &Breaker, f: F) -> Result<T, CallError<E>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let permit = breaker.acquire().await?;
    match f().await {
        Ok(value) => {
            permit.record_in_background(Outcome::Success);
            Ok(value)
        }
        Err(error) => {
            permit.failure().await;
            Err(CallError::Inner(error))
        }
    }
}
