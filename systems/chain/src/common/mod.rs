//! What user and order share.
//!
//! - `policy`: the seed's breaker policy (3 consecutive failures, open 5 s, 2 trial successes
//!   to close) as settings, with `BREAKER__*` over it.
//! - `hop`: [`Hop`], the next service of the chain behind its breaker and time limit, and the
//!   answers a hop gives when the call fails.

mod hop;
mod policy;

pub use hop::{Hop, HopSpec};
pub use policy::{breaker_config, seed_defaults, seed_settings};
