//! The lab: a user service (5001) and an order service (5002) whose user lookup is retried
//! inside one call of the shared breaker `user-service`, and a health dashboard (8080), rebuilt
//! on the shared breaker. Every service logs JSON lines with `LOG_FORMAT=json` and serves
//! Prometheus metrics at `/metrics`; the breaker's state lives in Redis (`breaker:{user-service}`).
//!
//! One binary, one subcommand per service: `lab user`, `lab order`, `lab dashboard`. Each module
//! documents its routes and settings.
//!
//! # Layout
//!
//! - [`user`], [`order`], [`dashboard`]: one service each, with its `SERVICE`, `Config` and
//!   `router`.
//!
//! The breaker's `BREAKER__*` overrides, its Redis store and configuration, and the user
//! service's `down` switch are service-kit's ([`service_kit::Overrides`],
//! [`service_kit::breaker`], [`service_kit::faults::backend`]).

pub mod dashboard;
pub mod order;
pub mod user;

use service_kit::System;

/// The `lab` binary's subcommands.
pub const SYSTEM: System = System {
    name: "lab",
    version: env!("CARGO_PKG_VERSION"),
    about: env!("CARGO_PKG_DESCRIPTION"),
    services: &[
        ("user", "The user service (port 5001)"),
        (
            "order",
            "The order service (port 5002): orders, the user lookup behind a breaker",
        ),
        (
            "dashboard",
            "The health dashboard (port 8080): both services and the breaker",
        ),
    ],
};
