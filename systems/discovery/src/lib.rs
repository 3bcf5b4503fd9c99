//! Discovery: a service registry (3000) kept in Redis, three user (4000-4002) and three order
//! (5000-5002) instances that register and heartbeat themselves, and an API gateway (8000) that
//! finds them through the registry, spreads calls at random, fails over on a refused connection
//! and protects each service with a breaker shared in Redis.
//!
//! One binary, one subcommand per service: `discovery server`, `discovery user`,
//! `discovery order`, `discovery gateway`. Each module documents its routes and settings.
//!
//! # Layout
//!
//! - [`server`]: the registry and its API.
//! - [`client`]: what the instances and the gateway use to register, heartbeat, unregister and
//!   find instances.
//! - [`common`]: the seed's data, the instances' shared settings, `/health` and registration.
//! - [`user`], [`order`]: the instances, with the seed's data.
//! - [`gateway`]: the API gateway.
//! - [`dashboard`]: the web pages of the server and the gateway.

pub mod client;
pub mod common;
pub mod dashboard;
pub mod gateway;
pub mod order;
pub mod server;
pub mod user;

use service_kit::System;

/// The `discovery` binary's subcommands.
pub const SYSTEM: System = System {
    name: "discovery",
    version: env!("CARGO_PKG_VERSION"),
    about: env!("CARGO_PKG_DESCRIPTION"),
    services: &[
        ("server", "The discovery server (port 3000): the registry"),
        ("user", "A user service instance (port 4000)"),
        ("order", "An order service instance (port 5000)"),
        ("gateway", "The API gateway (port 8000)"),
    ],
};
