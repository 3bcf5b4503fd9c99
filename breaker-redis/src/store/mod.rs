//! Where a breaker's state lives.
//!
//! A [`Store`] applies one operation atomically. The decisions are the same everywhere:
//! [`MemoryStore`] runs the pure state machine, and [`RedisStore`] runs the Lua scripts in
//! `lua/`, which the property tests hold to that machine. A fail-safe layer puts the two
//! together so that an unreachable Redis never becomes the caller's problem.

pub(crate) mod fail_safe;
pub mod health;
mod keys;
mod lane;
mod memory;
pub(crate) mod ops;
mod probe;
mod redis;
pub mod refusal;
mod rights;
mod scripts;
mod settings_hash;
pub(crate) mod spec;
mod subscriber;
mod tls;

use std::fmt;

use thiserror::Error;

pub use self::health::StoreHealth;
pub use self::memory::MemoryStore;
pub(crate) use self::ops::Exchanged;
pub(crate) use self::ops::{EventSink, StoreFuture, StoreOps, Subscription};
pub use self::redis::{Conn, RedisStore, RedisStoreOptions};
pub(crate) use self::settings_hash::parse as parse_settings;
pub(crate) use self::spec::Spec;
pub use self::tls::{RedisTls, TlsError, client, is_tls_url};

/// Where breakers keep their state: [`MemoryStore`] (this process) or [`RedisStore`] (shared
/// by every replica). Hand one to [`BreakerBuilder::store`](crate::BreakerBuilder::store), or
/// share one `Arc<dyn Store>` between breakers with
/// [`BreakerBuilder::shared_store`](crate::BreakerBuilder::shared_store).
///
/// Sealed: the operations a store performs (acquire, record, force, snapshot, subscribe,
/// publish_settings) are part of the breaker's protocol with its Lua scripts, not an extension
/// point, so they live in a supertrait private to this crate and no other type can be a
/// `Store`.
///
/// ```compile_fail,E0277
/// #[derive(Debug)]
/// struct MyStore;
///
/// impl breaker_redis::Store for MyStore {}
/// ```
pub trait Store: StoreOps + Send + Sync + fmt::Debug + 'static {}

impl Store for MemoryStore {}
impl Store for RedisStore {}

/// A store could not answer. Protected calls never see it (the breaker degrades instead);
/// administrative calls such as [`Breaker::force_open`](crate::Breaker::force_open) do.
#[derive(Debug, Clone, Error)]
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
    /// The TLS settings, or the URL with them, were refused.
    #[error("tls: {0}")]
    Tls(#[from] TlsError),
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
    /// The ACL user may not run a command, or not on a key or channel (`NOPERM`): Redis is up,
    /// and the fix is an ACL rule ([`refusal::Refusal`] says which).
    Permission,
    /// Redis refused the login (`NOAUTH`, `WRONGPASS`): the fix is the user and password in
    /// the URL.
    Auth,
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
            ErrorClass::Permission => "permission",
            ErrorClass::Auth => "auth",
        }
    }
}

impl StoreError {
    /// What kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        if let Some(refusal) = refusal::Refusal::of(self) {
            return refusal.class();
        }
        match self {
            StoreError::Redis(e) if e.is_timeout() => ErrorClass::Timeout,
            StoreError::Redis(e) if is_broken_connection(e) || e.is_connection_refusal() => {
                ErrorClass::Connection
            }
            StoreError::Redis(e) if e.is_io_error() => ErrorClass::Connection,
            StoreError::Redis(_) => ErrorClass::Server,
            StoreError::Timeout(_) => ErrorClass::Timeout,
            StoreError::Protocol(_) => ErrorClass::Protocol,
            StoreError::Tls(_) => ErrorClass::Connection,
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
