//! What several shop services share.
//!
//! - `policy`: the breakers' trip policy, opossum's as the seed configured it, as settings.
//! - `client`: the client's IP, from `X-Forwarded-For` only behind a trusted proxy.
//! - `limit`: a rate limit per client IP, its headers and its 429.
//! - `store`: the Redis store every breaker and limiter of a service shares.
//! - `backend`: the `/faults`, `down` and `/health` of the backend services.
//! - `capped`: bounded stores, and work done once per key.

mod backend;
mod capped;
mod client;
mod limit;
mod policy;
mod store;

pub use backend::{SimulatedFailure, backend, simulated_call};
pub use capped::{Capped, Claimed, OnceStore};
pub use client::{FORWARDED_FOR, TrustedProxies, peer_ip};
pub use limit::{IpRateLimit, RATE_LIMIT_MESSAGE};
pub use policy::{breaker_config, opossum_config, opossum_defaults, opossum_settings};
pub use service_kit::Overrides;
pub use store::connect;
