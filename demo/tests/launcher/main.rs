//! End-to-end tests of the `demo` launcher: the real binary starts a real `redis-server` and the
//! real services on free ports.
//!
//! They need `service-a`, `service-b`, `shop` and `discovery` built (`cargo build -p service-a
//! -p service-b -p shop -p discovery`, which `scripts/test` does first); the tests say so when
//! they are missing.

mod discovery;
mod failures;
mod lifecycle;
mod shop;
mod support;
