//! Where a breaker's state lives.
//!
//! A [`Store`] applies one operation atomically and answers with a [`Reply`]. The decisions are
//! the same everywhere: [`MemoryStore`] runs the pure [`Machine`](crate::machine::Machine), and
//! [`RedisStore`] runs the Lua scripts in `lua/`, which the property tests hold to that machine.
//! A fail-safe layer puts the two together so that an unreachable Redis never becomes the
//! caller's problem.

pub(crate) mod fail_safe;
pub mod health;
mod keys;
mod memory;
mod probe;
mod redis;
mod scripts;
mod spec;
mod subscriber;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use thiserror::Error;

pub use self::health::StoreHealth;
pub use self::memory::MemoryStore;
pub use self::redis::{Conn, RedisStore, RedisStoreOptions};
pub use self::spec::Spec;
use crate::events::StateChange;
use crate::protocol::{ForceMode, Outcome, Reply, Snapshot};

/// A store operation in flight.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Receives the transitions a store publishes for one breaker.
pub type EventSink = Arc<dyn Fn(StateChange) + Send + Sync>;

/// A store could not answer. Protected calls never see it (the breaker degrades instead);
/// administrative calls such as [`Breaker::force_open`](crate::Breaker::force_open) do.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// Redis did not answer within the store timeout.
    #[error("redis did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// Redis answered something the protocol does not allow.
    #[error("unexpected reply from the breaker script: {0}")]
    Protocol(String),
    /// The store is skipped for a back-off period after a failure.
    #[error("the store is unavailable (backing off after a failure)")]
    Unavailable,
}

/// What kind of failure a [`StoreError`] is, which decides what the breaker does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The connection failed or broke: Redis may be down or restarting.
    Connection,
    /// Redis did not answer in time.
    Timeout,
    /// Redis answered with an error: out of memory, read-only replica, missing permission, a
    /// script error. Redis is up but refuses the operation, often every write.
    Server,
    /// The reply broke the protocol (a script of another version, say).
    Protocol,
    /// The store was not asked (backing off).
    Skipped,
}

impl ErrorClass {
    /// The label of `breaker_store_errors_total`'s `class`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connection => "connection",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Server => "server",
            ErrorClass::Protocol => "protocol",
            ErrorClass::Skipped => "skipped",
        }
    }
}

impl StoreError {
    /// What kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::Redis(e) if e.is_timeout() => ErrorClass::Timeout,
            StoreError::Redis(e) if is_broken_connection(e) || e.is_connection_refusal() => {
                ErrorClass::Connection
            }
            StoreError::Redis(e) if e.is_io_error() => ErrorClass::Connection,
            StoreError::Redis(_) => ErrorClass::Server,
            StoreError::Timeout(_) => ErrorClass::Timeout,
            StoreError::Protocol(_) => ErrorClass::Protocol,
            StoreError::Unavailable => ErrorClass::Skipped,
        }
    }

    /// True for a connection that broke under a request (reset, broken pipe, dropped): the
    /// next request goes out on a new connection, so trying once more is worth it.
    pub fn is_broken_connection(&self) -> bool {
        matches!(self, StoreError::Redis(e) if is_broken_connection(e))
    }
}

pub(crate) fn is_broken_connection(e: &::redis::RedisError) -> bool {
    !e.is_timeout() && !e.is_connection_refusal() && (e.is_connection_dropped() || e.is_io_error())
}

/// Where breakers keep their state. Every method is one atomic operation on one breaker.
///
/// `now` is `None` in production (the store's own clock: Redis `TIME`); tests pass a fixed time
/// in milliseconds to drive the state machine deterministically.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Asks to make one call (`acquire.lua`). `permit` is unique per call.
    fn acquire<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        permit: &'a str,
    ) -> StoreFuture<'a, Reply>;

    /// Reports the outcome of an admitted call (`record.lua`). `generation` and `admitted_at`
    /// are the `generation` and `now_ms` of the reply that admitted it: a closed circuit counts
    /// the outcome in the window the call was admitted in, or not at all once that window has
    /// ended, so the order in which outcomes arrive does not change what is counted.
    fn record<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        permit: &'a str,
        admitted_at: u64,
        outcome: Outcome,
    ) -> StoreFuture<'a, Reply>;

    /// Reports several closed-state outcomes (successes and failures only) at once
    /// (`record_batch.lua`), in the order they were recorded, all counted at the store's
    /// time. Its cost is one read of the window whatever the batch's size.
    fn record_batch<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        outcomes: &'a [Outcome],
    ) -> StoreFuture<'a, Reply>;

    /// Applies an operator's override (`force.lua`).
    fn force<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        mode: ForceMode,
    ) -> StoreFuture<'a, Reply>;

    /// Reads the breaker's state (`snapshot.lua`).
    fn snapshot<'a>(&'a self, spec: &'a Spec, now: Option<u64>) -> StoreFuture<'a, Snapshot>;

    /// Delivers every transition of `spec`'s breaker, by any replica (this one included: the
    /// sink tells its own apart by [`Spec::instance`]), to `sink`, each once and in order,
    /// until the returned guard is dropped. `None` when the store cannot notify.
    fn subscribe(&self, spec: &Spec, sink: EventSink) -> Option<Subscription>;

    /// `"memory"` or `"redis"`, for logs and metrics.
    fn kind(&self) -> &'static str;

    /// The health tracker every breaker on this store shares (created with the first
    /// breaker's `retry_backoff`), or `None` for a tracker per breaker. A store that can fail
    /// shares one, so that one failure degrades every breaker on it and one probe finds it back.
    fn health(&self, retry_backoff: std::time::Duration) -> Option<StoreHealth> {
        let _ = retry_backoff;
        None
    }
}

/// Keeps a subscription alive; dropping it stops the deliveries.
pub struct Subscription {
    _guard: Box<dyn Send + Sync>,
    active: tokio::sync::watch::Receiver<bool>,
}

impl Subscription {
    /// A subscription kept alive by `guard`, delivering while `active` reads true.
    pub fn new(
        guard: impl Send + Sync + 'static,
        active: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Subscription {
            _guard: Box::new(guard),
            active,
        }
    }

    /// True while deliveries are flowing: false from the moment the connection is lost or
    /// stops answering its keepalive, true again once the resubscribe has caught up with what
    /// was missed.
    pub fn is_active(&self) -> bool {
        *self.active.borrow()
    }

    /// Resolves once deliveries are flowing (at once for an in-process store).
    pub async fn active(&self) {
        let mut active = self.active.clone();
        let _ = active.wait_for(|on| *on).await;
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subscription")
    }
}
