//! Bulkheads: at most N concurrent calls to a dependency per replica; the excess is rejected
//! at once or after a bounded wait.
//!
//! A slow dependency then ties up at most N of a replica's tasks and connections, not all of
//! them. The limit is per process (a `tokio` semaphore); the breaker is what the fleet shares.
//! Put the bulkhead outside retry (see [`retry`](crate::retry#composition-order)).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `bulkhead_rejections_total` | counter | `bulkhead` |
//! | `bulkhead_in_flight` | gauge | `bulkhead`: calls holding a slot |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use resilience::bulkhead::Bulkhead;
//!
//! let bulkhead = Bulkhead::builder("reports").max_concurrent(1).build().unwrap();
//! let held = bulkhead.acquire().await.unwrap();
//! assert!(bulkhead.run(|| async { 1 }).await.is_err(), "the only slot is taken");
//! drop(held);
//! assert_eq!(bulkhead.run(|| async { 1 }).await.unwrap(), 1);
//! # }
//! ```

mod config;
mod error;
mod layer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::debug;

pub use self::config::{BulkheadBuilder, BulkheadSettings};
pub use self::error::BulkheadFull;
pub use self::layer::{BulkheadLayer, BulkheadService, ResponseFuture};

/// A limit on concurrent calls. Cheap to clone: clones share the slots.
#[derive(Debug, Clone)]
pub struct Bulkhead {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: Arc<str>,
    semaphore: Arc<Semaphore>,
    max_concurrent: usize,
    max_wait: Duration,
}

impl Bulkhead {
    /// The bulkhead's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Its number of slots.
    pub fn max_concurrent(&self) -> usize {
        self.inner.max_concurrent
    }

    /// The longest a call waits for a slot (zero: not at all).
    pub fn max_wait(&self) -> Duration {
        self.inner.max_wait
    }

    /// Slots free right now.
    pub fn available(&self) -> usize {
        self.inner.semaphore.available_permits()
    }

    /// Takes a slot, waiting at most `max_wait` for one; the slot is freed when the permit
    /// is dropped.
    pub async fn acquire(&self) -> Result<BulkheadPermit, BulkheadFull> {
        let semaphore = self.inner.semaphore.clone();
        let started = Instant::now();
        let permit = if self.inner.max_wait.is_zero() {
            semaphore.try_acquire_owned().ok()
        } else {
            // The semaphore is never closed, so an `Err` inside can only mean the wait ended.
            tokio::time::timeout(self.inner.max_wait, semaphore.acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
        };
        let Some(permit) = permit else {
            let waited = started.elapsed();
            debug!(
                bulkhead = self.name(),
                ?waited,
                "bulkhead full; call rejected"
            );
            metrics::counter!("bulkhead_rejections_total", "bulkhead" => self.name().to_owned())
                .increment(1);
            return Err(BulkheadFull {
                bulkhead: self.name().to_owned(),
                max_concurrent: self.inner.max_concurrent,
                waited,
            });
        };
        Ok(BulkheadPermit::new(self.inner.name.clone(), permit))
    }

    /// Runs `f` in a slot, or rejects it without calling it when none is free in time.
    pub async fn run<F, Fut>(&self, f: F) -> Result<Fut::Output, BulkheadFull>
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let _slot = self.acquire().await?;
        Ok(f().await)
    }
}

/// A slot of a [`Bulkhead`], held until dropped.
#[derive(Debug)]
pub struct BulkheadPermit {
    name: Arc<str>,
    _permit: OwnedSemaphorePermit,
}

impl BulkheadPermit {
    fn new(name: Arc<str>, permit: OwnedSemaphorePermit) -> Self {
        in_flight(&name).increment(1.0);
        BulkheadPermit {
            name,
            _permit: permit,
        }
    }
}

impl Drop for BulkheadPermit {
    fn drop(&mut self) {
        in_flight(&self.name).decrement(1.0);
    }
}

/// Describes the bulkhead metrics and creates this bulkhead's series at 0, so that a fresh replica
/// exposes them (with HELP text) before the first call.
fn register_metrics(name: &str) {
    metrics::describe_counter!(
        "bulkhead_rejections_total",
        "Calls a bulkhead rejected because every slot stayed taken."
    );
    metrics::describe_gauge!(
        "bulkhead_in_flight",
        "Calls holding a bulkhead slot right now."
    );
    metrics::counter!("bulkhead_rejections_total", "bulkhead" => name.to_owned()).increment(0);
    in_flight(name).increment(0.0);
}

fn in_flight(name: &str) -> metrics::Gauge {
    metrics::gauge!("bulkhead_in_flight", "bulkhead" => name.to_owned())
}
