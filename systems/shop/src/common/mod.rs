//! What several shop services share.
//!
//! - `policy`: the breakers' trip policy, opossum's as the seed configured it, as settings.
//! - `client`: the client's IP, from `X-Forwarded-For` only behind a trusted proxy.
//! - `limit`: a rate limit per client IP, its headers and its 429.
//! - `store`: the Redis store every breaker and limiter of a service shares.

mod client;
mod limit;
mod policy;
mod store;

pub use client::{FORWARDED_FOR, TrustedProxies, peer_ip};
pub use limit::{IpRateLimit, RATE_LIMIT_MESSAGE};
pub use policy::{breaker_config, opossum_settings};
pub use store::connect;
