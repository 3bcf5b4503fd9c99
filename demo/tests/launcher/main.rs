//! End-to-end tests of the `demo` launcher: the real binary starts a real `redis-server` and the
//! real services on free ports.
//!
//! They need `service-a`, `service-b`, `shop` and `chain` built (`cargo build -p service-a
//! -p service-b -p shop -p chain`, which `scripts/test` does first); the tests say so when they
//! are missing.

mod chain;
mod failures;
mod lifecycle;
mod shop;
mod support;
