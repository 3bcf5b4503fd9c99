//! The shop: an API gateway (3000) in front of payment (3001), inventory (3002) and shipping
//! (3003), rebuilt on the shared breaker. Every breaker and rate limit lives in Redis, so that
//! replicas of a service share them; every simulated failure and delay is a default of
//! [`service_kit::faults`], changed at start (`FAULTS__*`) or at run time (`PUT /faults`).
//!
//! One binary, one subcommand per service: `shop gateway`, `shop payment`, `shop inventory`,
//! `shop shipping`. Each module documents its routes and settings.
//!
//! # Layout
//!
//! - [`common`]: what several services share: the breakers' trip policy (and `BREAKER__*`
//!   over it), the client's IP (behind trusted proxies), the rate limit's answers, the Redis
//!   store, the backends' `down` switch and `/health`, capped once-per-key stores.
//! - [`gateway`], [`payment`], [`inventory`], [`shipping`]: one service each, with its
//!   `SERVICE`, `Config` and `router`.

pub mod common;
pub mod gateway;
pub mod inventory;
pub mod payment;
pub mod shipping;

use service_kit::System;

/// The `shop` binary's subcommands.
pub const SYSTEM: System = System {
    name: "shop",
    version: env!("CARGO_PKG_VERSION"),
    about: env!("CARGO_PKG_DESCRIPTION"),
    services: &[
        (
            "gateway",
            "The API gateway (port 3000): rate limit, breakers, orders",
        ),
        ("payment", "The payment service (port 3001)"),
        ("inventory", "The inventory service (port 3002)"),
        ("shipping", "The shipping service (port 3003)"),
    ],
};
