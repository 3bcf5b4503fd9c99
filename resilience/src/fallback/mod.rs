//! Fallbacks: when the circuit rejects a call or the call fails, something else may answer.
//!
//! A [`Fallback`] turns an error into an answer (or gives the error back). Any
//! `Fn(E) -> impl Future<Output = Result<T, E>>` is one; [`LastGood`] is a ready-made one that
//! serves the last good response, kept in Redis so that every replica can serve it.
//! [`with_fallback`] applies one to a single call, [`FallbackLayer`] to a tower service.
//!
//! ```no_run
//! use std::time::Duration;
//! use breaker_redis::{Breaker, RedisStore};
//! use resilience::fallback::{LastGood, with_fallback};
//!
//! # async fn fetch() -> Result<String, std::io::Error> { Ok("fresh".into()) }
//! # async fn run(breaker: Breaker, store: RedisStore) -> Result<(), Box<dyn std::error::Error>> {
//! let last_good = LastGood::new(&store, "prices", Duration::from_secs(300))?;
//! // A success is remembered; a rejection or a failure is answered with the last success.
//! let prices: String = with_fallback(|| breaker.call(fetch), last_good.clone()).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - this file: the [`Fallback`] trait and [`with_fallback`].
//! - `layer`: [`FallbackLayer`] and [`FallbackService`].
//! - `last_good`: [`LastGood`]; `writer` writes its remembered responses to Redis off the
//!   caller's path.

mod last_good;
mod layer;
mod writer;

use std::future::Future;

pub use last_good::{LastGood, LastGoodBuilder};
pub use layer::{FallbackLayer, FallbackService};

/// Answers in place of a call that failed.
pub trait Fallback<T, E> {
    /// The fallback answer's future.
    type Future: Future<Output = Result<T, E>>;

    /// An answer for a call that failed with `error`, or `Err` (usually `error` itself) when
    /// there is none.
    fn fallback(&self, error: E) -> Self::Future;

    /// Sees every successful answer; [`LastGood`] remembers it. Does nothing by default.
    fn observe(&self, _answer: &T) {}
}

impl<T, E, F, Fut> Fallback<T, E> for F
where
    F: Fn(E) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    type Future = Fut;

    fn fallback(&self, error: E) -> Fut {
        self(error)
    }
}

/// Runs `call`; if it fails, answers with `fallback` instead.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use resilience::fallback::with_fallback;
///
/// let answer = with_fallback(
///     || async { Err::<&str, _>("upstream down") },
///     |_err| async { Ok("cached answer") },
/// )
/// .await;
/// assert_eq!(answer, Ok("cached answer"));
/// # }
/// ```
pub async fn with_fallback<T, E, F, Fut, B>(call: F, fallback: B) -> Result<T, E>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    B: Fallback<T, E>,
{
    match call().await {
        Ok(answer) => {
            fallback.observe(&answer);
            Ok(answer)
        }
        Err(error) => fallback.fallback(error).await,
    }
}
