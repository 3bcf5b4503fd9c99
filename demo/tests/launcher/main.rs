//! End-to-end tests of the `demo` launcher: the real binary starts a real `redis-server` and the
//! real services on free ports.
//!
//! They need `service-a`, `service-b`, `shop`, `discovery`, `chain`, `lab` and `dashboard`
//! built (`cargo build -p service-a -p service-b -p shop -p discovery -p chain -p lab -p
//! dashboard`, which `scripts/test` does first), and `lab` needs Debian's `prometheus`; the
//! tests say so when they are missing.

mod chain;
mod dashboard;
mod discovery;
mod failures;
mod lab;
mod lab_scripts;
mod lifecycle;
mod shop;
mod support;
