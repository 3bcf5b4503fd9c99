//! Time limits: a call slower than its limit is cancelled and reported to the breaker.
//!
//! Inside a breaker (the order described in [`retry`](crate::retry#composition-order)), a
//! call cut by its limit is recorded as [`OnElapsed`] says: a failure by default. The
//! breaker's permit is always settled: recorded when the limit is inside the breaker,
//! dropped (which frees a half-open lease and counts nothing) when a limit outside it cancels
//! the whole call.
//!
//! - [`time_limit`]: a future with a limit, nothing more.
//! - [`call_with_timeout`] and [`TimeLimit::call`]: a call through a [`Breaker`] with a limit.
//! - [`TimeLimit`] is also a tower [`Layer`] making tower's [`Timeout`]; put it inside a
//!   [`BreakerLayer`](breaker_redis::BreakerLayer) classified by [`TimeLimit::classifier`].

mod classify;
mod error;

use std::time::Duration;

use tower::Layer;
pub use tower::timeout::Timeout;
use tracing::debug;

pub use self::classify::ElapsedClassifier;
pub use self::error::{Elapsed, TimeLimitError};
use breaker_redis::{Breaker, Outcome};

/// What a call cut by its time limit tells the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnElapsed {
    /// A failure (the default): a dependency that does not answer in time is unhealthy.
    #[default]
    Failure,
    /// A slow call: a failure when the breaker counts calls as slow as the limit as failures
    /// (its `slow_call_threshold` is set and no longer than the limit), otherwise nothing.
    SlowCall,
    /// Nothing: the permit is freed (a half-open lease too) and no count changes.
    Ignored,
}

impl OnElapsed {
    /// The outcome to record for a call through `breaker` cut at `limit`.
    pub fn outcome(self, breaker: &Breaker, limit: Duration) -> Outcome {
        match self {
            OnElapsed::Failure => Outcome::Failure,
            OnElapsed::Ignored => Outcome::Ignored,
            OnElapsed::SlowCall => match breaker.config().slow_call_threshold() {
                Some(threshold) if limit >= threshold => Outcome::Failure,
                _ => Outcome::Ignored,
            },
        }
    }
}

/// A time limit for one call, and what a timeout counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit {
    limit: Duration,
    on_elapsed: OnElapsed,
}

impl TimeLimit {
    /// Cancels calls slower than `limit`; a timeout counts as a failure.
    pub fn new(limit: Duration) -> Self {
        TimeLimit {
            limit,
            on_elapsed: OnElapsed::Failure,
        }
    }

    /// What a timeout counts as.
    pub fn on_elapsed(mut self, on_elapsed: OnElapsed) -> Self {
        self.on_elapsed = on_elapsed;
        self
    }

    /// The limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// A classifier for a [`BreakerLayer`](breaker_redis::BreakerLayer) around this layer, counting
    /// a timeout as this limit's [`OnElapsed`] says for `breaker`.
    pub fn classifier(&self, breaker: &Breaker) -> ElapsedClassifier {
        ElapsedClassifier::new(self.on_elapsed.outcome(breaker, self.limit))
    }

    /// [`time_limit`] with this limit.
    pub async fn run<F: Future>(&self, fut: F) -> Result<F::Output, Elapsed> {
        time_limit(self.limit, fut).await
    }

    /// Runs `f` if `breaker` admits it, cancelling it at the limit. `Ok` counts as a success,
    /// `Err` as a failure, a timeout as [`OnElapsed`] says. A failure or timeout is recorded
    /// before the error is returned (so a retry right after sees it); a success is recorded
    /// in the background, as [`Breaker::call`] does.
    pub async fn call<T, E, F, Fut>(&self, breaker: &Breaker, f: F) -> Result<T, TimeLimitError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = breaker.acquire().await?;
        let (outcome, error) = match tokio::time::timeout(self.limit, f()).await {
            Ok(Ok(value)) => {
                permit.record_in_background(Outcome::Success);
                return Ok(value);
            }
            Ok(Err(error)) => (Outcome::Failure, TimeLimitError::Inner(error)),
            Err(_) => {
                let outcome = self.on_elapsed.outcome(breaker, self.limit);
                debug!(breaker = breaker.name(), limit = ?self.limit, ?outcome, "call exceeded its time limit");
                (outcome, TimeLimitError::Elapsed(Elapsed::new()))
            }
        };
        permit.record(outcome).await;
        Err(error)
    }
}

impl<S> Layer<S> for TimeLimit {
    type Service = Timeout<S>;

    /// tower's [`Timeout`]: its error is a [`BoxError`](tower::BoxError), an [`Elapsed`] on
    /// timeout. The layer cannot record anything itself; [`classifier`](Self::classifier)
    /// tells the breaker around it.
    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout::new(inner, self.limit)
    }
}

/// Cancels `fut` if it has not finished within `limit` (tokio's timeout with tower's
/// [`Elapsed`], so that plain calls and the layer report the same error type).
pub async fn time_limit<F: Future>(limit: Duration, fut: F) -> Result<F::Output, Elapsed> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| Elapsed::new())
}

/// Runs `f` through `breaker`, cancelling it after `limit`; a timeout counts as a failure.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use breaker_redis::Breaker;
/// use resilience::time_limit::{TimeLimitError, call_with_timeout};
///
/// let breaker = Breaker::builder("slow").build().unwrap();
/// let slow = || async {
///     tokio::time::sleep(Duration::from_secs(60)).await;
///     Ok::<_, std::io::Error>(())
/// };
/// let err = call_with_timeout(&breaker, Duration::from_millis(10), slow).await.unwrap_err();
/// assert!(matches!(err, TimeLimitError::Elapsed(_)));
/// # }
/// ```
pub async fn call_with_timeout<T, E, F, Fut>(
    breaker: &Breaker,
    limit: Duration,
    f: F,
) -> Result<T, TimeLimitError<E>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    TimeLimit::new(limit).call(breaker, f).await
}
