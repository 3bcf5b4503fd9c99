//! The breaker tests' helpers (stores of each kind, clocks, metrics probes), shared with
//! breaker-redis's own tests rather than copied.

#[path = "../../../breaker-redis/tests/common/mod.rs"]
mod breaker;

pub use breaker::*;
