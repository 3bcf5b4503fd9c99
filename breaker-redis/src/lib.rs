//! A circuit breaker whose state lives in Redis, so that every replica of a service shares one
//! circuit: they trip together, admit a fleet-wide limited number of half-open trial calls, and
//! recover together.
//!
//! Every decision is one atomic Lua script run by Redis (the scripts are in the repository's
//! `lua/` folder); no replica ever reads, decides and writes on its own. Redis is treated as a
//! dependency that fails: every store call has a short timeout, and while Redis is unreachable
//! each replica keeps protecting its calls with a local breaker of the same configuration.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use breaker_redis::{Breaker, Config, RedisStore, TripPolicy};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
//! let breaker = Breaker::builder("service-b")
//!     .config(
//!         Config::builder()
//!             .trip(TripPolicy::failure_ratio(0.6, 3))
//!             .interval(Duration::from_secs(5))
//!             .open_timeout(Duration::from_secs(10))
//!             .max_requests(3)
//!             .build()?,
//!     )
//!     .store(store)
//!     .build()?;
//!
//! // Either wrap the call...
//! let body = breaker.call(|| async { Ok::<_, std::io::Error>("hello") }).await?;
//!
//! // ...or hold a permit across it and report the outcome.
//! match breaker.acquire().await {
//!     Ok(permit) => permit.success().await,
//!     Err(open) => println!("rejected: {open}"),
//! }
//! # let _ = body; Ok(()) }
//! ```
//!
//! A runnable version against an in-memory store:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use breaker_redis::{Breaker, Config, TripPolicy, State};
//!
//! let config = Config::builder().trip(TripPolicy::consecutive_failures(2)).build().unwrap();
//! let breaker = Breaker::builder("payments").config(config).build().unwrap();
//! for _ in 0..2 {
//!     let permit = breaker.acquire().await.unwrap();
//!     // ... the call fails ...
//!     permit.failure().await; // recorded once this returns
//! }
//! let rejected = breaker.acquire().await.unwrap_err();
//! assert_eq!(rejected.state, State::Open);
//! # }
//! ```
//!
//! # Layout
//!
//! - [`config`](Config), `settings`, `validate`: the validated configuration and its serde form.
//! - `machine`: the pure state machine, the specification the Lua scripts are tested against.
//! - `protocol`, `wire`: states, verdicts, replies, and how script replies are read.
//! - `store`: the [`Store`] trait, [`MemoryStore`], [`RedisStore`] (with one pub/sub subscriber
//!   per store), the fail-safe layer (with its background probe), the [`StoreHealth`] every
//!   breaker on one store shares, and [`StoreError`]'s [`ErrorClass`].
//! - `breaker`, `builder`, `permit`, `error`: [`Breaker`], [`Permit`], [`CircuitOpen`],
//!   [`CallError`].
//! - `inner`: what a breaker's clones, permits and batch sender share (recording, observing
//!   replies, the batch sender's loop); it depends on none of the modules above.
//! - `cached`: cached admission's view and outcome queue (no round trip per closed-state call).
//! - `events`: [`StateChange`] events, including other replicas' transitions via pub/sub and
//!   the history stream.
//! - [`layer`]: a tower middleware.
//! - `metrics`: counters and gauges through the `metrics` facade.
//! - `clock`: [`Clock`] and [`ManualClock`] for tests.
//! - [`validate`]: the rules for names, shared with the `resilience` crate.
//!
//! Retry, rate limit, time limit, bulkhead and fallback live in the `resilience` crate, which
//! shares Redis with the breaker through [`RedisStore::connection`] and [`store::health`].

mod breaker;
mod builder;
mod cached;
mod clock;
mod config;
mod error;
mod events;
mod inner;
pub mod layer;
mod machine;
mod metrics;
mod permit;
mod protocol;
mod settings;
pub mod store;
pub mod validate;
mod wire;

pub use breaker::Breaker;
pub use builder::BreakerBuilder;
pub use clock::{Clock, ManualClock};
pub use config::{Admission, Config, ConfigBuilder, ConfigError, DegradedMode, TripPolicy, Window};
pub use error::{CallError, CircuitOpen};
pub use events::{Scope, StateChange};
pub use layer::BreakerLayer;
pub use machine::Machine;
pub use permit::Permit;
pub use protocol::{ForceMode, Forced, Outcome, Reply, Snapshot, State, Transition, Verdict};
pub use settings::{AdmissionSetting, DegradedSetting, Settings, TripKind};
pub use store::{
    ErrorClass, MemoryStore, RedisStore, RedisStoreOptions, Store, StoreError, StoreHealth,
};
pub use validate::{MAX_DURATION, MAX_NAME_LEN};
