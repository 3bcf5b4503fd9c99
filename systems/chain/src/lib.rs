//! The chain: user (8080) → order (8081) → inventory (8082), rebuilt on the shared breaker.
//! Each hop calls the next through a breaker of its own whose state lives in Redis
//! (`order-service` in user, `inventory-service` in order), so that every replica of a
//! service shares it; every call has a time limit; inventory fails a tenth of its calls,
//! as [`service_kit::faults`] lets one change at start (`FAULTS__*`) or at run time
//! (`PUT /faults`).
//!
//! One binary, one subcommand per service: `chain user`, `chain order`, `chain inventory`.
//! Each module documents its routes and settings.
//!
//! # Errors through the chain
//!
//! A hop that cannot give its answer says which call failed, in the seed's words, and which
//! service is the cause (`hop`), so that a failure deep in the chain reads clearly at the top:
//!
//! | what happened on the call to the next service | answer |
//! |---|---|
//! | its circuit is open (it is not called) | 503 `{"error":"circuit breaker is open","retry_after_ms":N,"hop":<service>}`, `Retry-After` |
//! | no answer within `CALL_TIMEOUT` | 504 `{"error":"failed to get <what>: timed out after <t>","hop":<service>}` |
//! | it cannot be reached | 502 `{"error":"failed to get <what>: <cause>","hop":<service>}` |
//! | it answered an error | 502 `{"error":"failed to get <what>: <its status>","hop":<its hop, or itself>,"cause":<its error>}`; a 503 with `Retry-After` (a circuit open further down) stays a 503 with the same delay |
//!
//! So with inventory down, order answers 502 `{"error":"failed to get inventory: 503 Service
//! Unavailable","hop":"inventory-service","cause":"inventory service is down"}` and user 502
//! `{"error":"failed to get orders: 502 Bad Gateway","hop":"inventory-service","cause":"failed
//! to get inventory: 503 Service Unavailable"}`; after 3 such calls the `inventory-service`
//! circuit is open, order answers 503 `circuit breaker is open` without calling inventory, and
//! user 503 `failed to get orders: 503 Service Unavailable` with the same `Retry-After`.
//!
//! Each breaker counts the failures of its own hop: a network error, the time limit, or a 5xx
//! of the service it calls that does not name another `hop`. A 5xx reporting a failure further
//! down is answered at once by a working service, so user's `order-service` circuit stays
//! closed while only inventory fails, and the error at the top keeps naming inventory.
//!
//! Every call passes on the request's `traceparent`, `tracestate` and `x-request-id`
//! (service-kit makes an id when a client gave none), so that one id marks a request's lines in
//! the logs of all three services.
//!
//! # Layout
//!
//! - [`common`]: the seed's breaker policy (and `BREAKER__*` over it), and [`common::Hop`]:
//!   the next service behind its breaker and time limit, with the errors above.
//! - [`user`], [`order`], [`inventory`]: one service each, with its `SERVICE`, `Config` and
//!   `router`.

pub mod common;
pub mod inventory;
pub mod order;
pub mod user;

use service_kit::System;

/// The `chain` binary's subcommands.
pub const SYSTEM: System = System {
    name: "chain",
    version: env!("CARGO_PKG_VERSION"),
    about: env!("CARGO_PKG_DESCRIPTION"),
    services: &[
        (
            "user",
            "The user service (port 8080), calling order through `order-service`",
        ),
        (
            "order",
            "The order service (port 8081), calling inventory through `inventory-service`",
        ),
        (
            "inventory",
            "The inventory service (port 8082), failing 10 % of its calls",
        ),
    ],
};
