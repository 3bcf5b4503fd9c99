//! The Lua scripts against a real Redis where the contract suite cannot look: key lifetimes,
//! generations across FLUSHALL and repair, values written by hand, and the work one script
//! does. Each test drives the scripts through a breaker or the store and reads Redis directly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod cost;
mod lifetime;
mod repair;
mod settings;

use breaker_redis::{Breaker, Clock, Config, ManualClock};
use redis::aio::MultiplexedConnection;
use test_support::RedisServer;

pub use common::cli;
use common::{T0, redis_store};

/// A breaker named `name` on `server` with a manual clock at [`T0`], and a plain connection
/// to look at its keys.
pub async fn setup(
    server: &RedisServer,
    name: &str,
    cfg: Config,
) -> (Breaker, ManualClock, MultiplexedConnection) {
    let clock = ManualClock::new(T0);
    let breaker = Breaker::builder(name)
        .config(cfg)
        .store(redis_store(&server.url()).await)
        .clock(Clock::Manual(clock.clone()))
        .build()
        .unwrap();
    let con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    (breaker, clock, con)
}

/// The state hash of breaker `name` under the default prefix.
pub fn state_key(name: &str) -> String {
    format!("breaker:{{{name}}}")
}
