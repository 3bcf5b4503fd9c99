//! A circuit breaker whose state lives in Redis, so that every replica of a service shares one
//! circuit: they trip together, admit a fleet-wide limited number of half-open trial calls, and
//! recover together.
//!
//! Every decision is made by an atomic Lua script run by Redis (the scripts are in the
//! repository's `lua/` folder, loaded as Redis Functions); no replica ever reads, decides and
//! writes on its own. A replica's admissions and outcomes queued while one script is in flight
//! travel together in the next, each decided as if alone. Redis is treated as a
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
//! - `store`: the sealed [`Store`] trait, [`MemoryStore`], [`RedisStore`] (with one pub/sub
//!   subscriber per store), the fail-safe layer (with its background probe), the
//!   [`StoreHealth`] every breaker on one store shares, and [`StoreError`]'s [`ErrorClass`].
//!   `store::ops` holds the operations (`StoreOps`: acquire, record, exchange, force,
//!   snapshot, subscribe, publish_settings) and `store::spec` the `Spec` they take: one breaker
//!   as the stores see it; `store::settings_hash` the settings hash tools read.
//!   `store::scripts` builds the scripts in both forms (one Redis Functions library, and one
//!   `EVALSHA` script per operation where functions are unavailable); [`RedisStore`] picks
//!   the form at connection and loads what Redis has lost. `store::lane`: a strict breaker's
//!   queue of admissions and outcomes, sent together, one exchange per round trip.
//!   [`store::RedisTls`] and [`store::client`] (in `store::tls`): `rediss://` with a CA and a
//!   client certificate, `#insecure` only when allowed. [`store::refusal`]: what Redis refused
//!   (a missing ACL permission, a failed login), its fix, and how often it is logged again;
//!   `store::rights` asks Redis which permissions a breaker lacks (`lua/rights.lua`).
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
//! - [`admin`]: [`Admin`](admin::Admin), for tools: every breaker in Redis, one breaker in
//!   detail, its transition history, live transitions, and overrides, straight from Redis
//!   (what `breakerctl` and the dashboard use). Breakers publish their settings for it in
//!   `prefix:{name}:settings` (`store::settings_hash`, `lua/settings.lua`).
//! - [`validate`]: the rules for names, shared with the `resilience` crate.
//!
//! # Security
//!
//! TLS through [`RedisStoreOptions::tls`]. Under a Redis ACL, the user needs the commands of
//! the repository's `deploy/redis-acl.conf` on the key and channel patterns `breaker:*`; when
//! one is missing, the breakers log which (and the ACL rule to add) and protect their calls
//! with their local breakers until it is granted.
//!
//! Retry, rate limit, time limit, bulkhead and fallback live in the `resilience` crate, which
//! shares Redis with the breaker through [`RedisStore::connection`] and [`store::health`].
//!
//! ## What is public
//!
//! The breaker ([`Breaker`], [`Permit`], [`Config`], events, the layer) and the stores to build
//! it on. The protocol between a breaker and its store (`Spec`, `Reply`, `Verdict`,
//! `Transition`, `ForceMode`) and the pure `Machine` stay inside, so that they can change with
//! the scripts without breaking users. [`Store`] stays nameable (`Arc<dyn Store>` shares one
//! store between breakers) but is sealed by a single supertrait, `StoreOps` in `store::ops`,
//! which declares the operations: it is declared `pub` inside a private module, so no type
//! outside the crate can implement it (nor `Store`) and no code outside can import it, with no
//! marker trait and no `private_bounds` lint. A `dyn Store` still carries its methods, but they
//! take a `Spec`, which code outside the crate can neither name nor build.
//!
//! # Features
//!
//! - `testing` (off by default): re-exports `Spec`, `Reply`, `Verdict`, `Transition`,
//!   `ForceMode` and `Machine` at the crate root, so that tests can drive a store directly
//!   (`store.acquire(&spec, ..)` on a `dyn Store`) and hold the Lua scripts to the machine.
//!   This crate's own integration tests turn it on through a dev-dependency on the crate
//!   itself. It is not part of the API and may change with any release; `StoreOps` stays
//!   private even with it on, so `Store` stays sealed.

pub mod admin;
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
pub use permit::Permit;
pub use protocol::{Forced, Outcome, Snapshot, State};
pub use settings::{AdmissionSetting, DegradedSetting, Settings, TripKind};
pub use store::{
    ErrorClass, MemoryStore, RedisStore, RedisStoreOptions, Store, StoreError, StoreHealth,
};
pub use validate::{MAX_DURATION, MAX_NAME_LEN};

// The protocol between breakers and stores, for this crate's own tests (see "Features").
#[cfg(feature = "testing")]
pub use machine::Machine;
#[cfg(feature = "testing")]
pub use protocol::{ForceMode, Reply, Transition, Verdict};
#[cfg(feature = "testing")]
pub use store::ops::{Exchanged, QueuedOutcome};
#[cfg(feature = "testing")]
pub use store::spec::Spec;
