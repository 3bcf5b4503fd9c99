//! What several shop services share.
//!
//! - `policy`: the breakers' trip policy, opossum's as the seed configured it, as settings.
//! - `client`: the client's IP, from `X-Forwarded-For` only behind a trusted proxy.
//! - `limit`: a rate limit per client IP, its headers and its 429.
//! - `backend`: the simulated dependency of payment and shipping.
//! - `capped`: bounded stores, and work done once per key.

mod backend;
mod capped;
mod client;
mod limit;
mod policy;

pub use backend::{SimulatedFailure, simulated_call};
pub use capped::{Capped, Claimed, OnceStore};
pub use client::{FORWARDED_FOR, TrustedProxies, peer_ip};
pub use limit::{IpRateLimit, RATE_LIMIT_MESSAGE};
pub use policy::{dependency_breaker, nonzero, opossum_config, opossum_defaults, opossum_settings};
pub use service_kit::Overrides;
pub use service_kit::breaker::{breaker_config, connect, connect_with};
pub use service_kit::faults::backend;
