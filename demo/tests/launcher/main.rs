//! End-to-end tests of the `demo` launcher: the real binary starts a real `redis-server` and the
//! real services on free ports.
//!
//! They need `service-a` and `service-b` built (`cargo build -p service-a -p service-b`); the
//! tests say so when they are missing.

mod failures;
mod lifecycle;
mod support;
