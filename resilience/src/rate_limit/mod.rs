//! A rate limiter shared by every replica: one budget per client (or route) in Redis, each
//! check one atomic GCRA script on Redis's clock.
//!
//! ```no_run
//! use breaker_redis::RedisStore;
//! use resilience::rate_limit::{ClientKey, RateLimitConfig, RateLimiter};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
//! let limiter = RateLimiter::builder("api")
//!     .config(RateLimitConfig::builder().per_second(10).burst(20).build()?)
//!     .store(store)
//!     .build()?;
//! match limiter.check(&ClientKey::new("10.0.0.1")?).await {
//!     Ok(allowance) => println!("{} left", allowance.remaining),
//!     Err(limited) => println!("429, retry after {:?}", limited.retry_after),
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `config`, `settings`: [`Quota`], [`RateLimitConfig`] and its serde form [`RateLimitSettings`].
//! - `key`: [`ClientKey`] and the Redis key `<prefix>:{<limiter>:<client>}`.
//! - `limiter`: [`RateLimiter`]; `script` runs `lua/rate_limit.lua`; `local` is the per-replica
//!   limiter used while Redis is unreachable, at most [`LOCAL_CAPACITY`] clients, swept on a
//!   timer; breaker-redis's `store::health` decides when to ask Redis.
//! - `allowance`, `error`: [`Allowance`], [`RateLimited`].
//! - `extract`: [`KeyExtractor`], [`ByIp`] and [`ip_key`] (IPv6 per /64).
//! - `layer`: [`RateLimitLayer`], a tower middleware (its errors boxed).
//! - `metrics`: `rate_limit_allowed_total`, `rate_limit_rejected_total`, `rate_limit_degraded`.

mod allowance;
mod config;
mod error;
mod extract;
mod key;
pub(crate) use key::check_prefix;
mod layer;
mod limiter;
mod local;
mod metrics;
mod script;
mod settings;

pub use allowance::Allowance;
pub use config::{Quota, RateLimitConfig, RateLimitConfigBuilder};
pub use error::RateLimited;
pub use extract::{ByIp, KeyExtractor, ip_key};
pub use key::{ClientKey, InvalidKey, MAX_KEY_LEN};
pub use layer::{RateLimitLayer, RateLimitService};
pub use limiter::{RateLimiter, RateLimiterBuilder};
pub use local::LOCAL_CAPACITY;
pub use settings::RateLimitSettings;
