//! What every demo service shares: configuration, logging, shutdown, JSON errors, the standard
//! routes (`/health`, `/ready`, `/metrics`) and layers, and a `run` that is a service's whole `main`.
//!
//! Nothing service-specific lives here.
//!
//! # A service
//!
//! The library of a service exposes its config struct and a `router`; `main.rs` is:
//!
//! ```no_run
//! # mod my_service {
//! #     use axum::{Router, routing::get};
//! #     #[derive(serde::Deserialize)]
//! #     pub struct Config {}
//! #     pub fn router(_config: Config, server: &service_kit::ServerConfig) -> Router {
//! #         service_kit::App::new(server).build(Router::new().route("/", get(|| async { "hi" })))
//! #     }
//! # }
//! use std::process::ExitCode;
//!
//! use service_kit::{Service, Settings};
//!
//! #[tokio::main]
//! async fn main() -> ExitCode {
//!     let service = Service::new("my-service", 8090)
//!         .with_version(env!("CARGO_PKG_VERSION"))
//!         .with_about(env!("CARGO_PKG_DESCRIPTION"));
//!     service_kit::run(service, async |settings: Settings<my_service::Config>| {
//!         my_service::router(settings.app, &settings.server)
//!     })
//!     .await
//! }
//! ```
//!
//! The service's `router` wraps its routes with [`App`], so tests that [`spawn`] that router
//! exercise exactly what production serves. The binary takes no options: `--help` lists where the
//! settings come from, `--version` prints the version, both without starting a server.
//!
//! # Environment
//!
//! | variable | read by | meaning |
//! |---|---|---|
//! | `CONFIG_FILE` | [`config`] | optional TOML file, overridden by the environment |
//! | `PORT`, `BIND_ADDR`, `INSTANCE_ID`, `MAX_BODY_BYTES` | [`ServerConfig`] | see there |
//! | `REDIS_TLS_CA`, `REDIS_TLS_CERT`, `REDIS_TLS_KEY`, `REDIS_TLS_INSECURE` | [`RedisConfig`](config::RedisConfig), in [`ServerConfig`] | TLS to Redis for a `rediss://` `REDIS_URL`: CA, client certificate and key (PEM files), `#insecure` allowed |
//! | `HTTP_HEADER_TIMEOUT`, `HTTP_IDLE_TIMEOUT`, `HTTP_MAX_CONNECTIONS`, `HTTP_MAX_CONNECTIONS_PER_IP`, `HTTP_MAX_URI_BYTES`, `HTTP_MAX_HEADER_BYTES` | [`Limits`] (in [`ServerConfig`]) | see there |
//! | `LOG_FORMAT`, `RUST_LOG` | [`telemetry`] | `text`/`json`; filter, default `info` |
//! | `ADMIN_TOKEN`, `ADMIN_TOKEN_FILE`, `ADMIN_FAILURES__LIMIT`, `ADMIN_FAILURES__PERIOD` | [`admin`], in services with admin routes | the token (at least 16 bytes) or the file holding it; failed attempts allowed per client, default 10 per `1m` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | [`otlp`] | a collector's base URL: spans exported (OTLP/HTTP, protobuf); unset: off |
//! | `FAULTS__FAILURE_RATE`, `FAULTS__DELAY_MS`, `FAULTS__DOWN`, `FAULTS__SEED` | [`faults`], in services that simulate faults | start-up fault settings |
//! | anything else | the service's config struct | `A__B` sets field `b` of section `a` |
//!
//! # Layout
//!
//! - [`config`]: [`load`], [`Loader`], [`ConfigError`] (names the variable to fix),
//!   [`ServerConfig`], the settings every service has, and
//!   [`http_url`](config::http_url), a called service's base URL checked.
//! - [`telemetry`]: the `tracing` subscriber, text or JSON.
//! - [`trace`]: [`TraceContext`](trace::TraceContext), the headers passed on to every outbound call.
//! - [`otlp`]: optional OpenTelemetry span export, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! - [`metrics`]: the process-wide Prometheus recorder, `GET /metrics`, HTTP request metrics.
//! - [`shutdown`]: [`signal`](shutdown::signal), resolving on SIGINT or SIGTERM.
//! - `error`: [`AppError`], a JSON error answer with a stable `code` ([`default_code`]), whose
//!   cause is logged once.
//! - [`problem`]: RFC 9457 problem details for clients that `Accept` them.
//! - [`admin`]: the admin bearer token (`ADMIN_TOKEN`, `ADMIN_TOKEN_FILE`), checked in constant
//!   time, with a per-client budget of failed attempts; [`Admin`](admin::Admin) guards a route.
//! - `json`: [`Json`], the JSON extractor whose rejections are [`AppError`]s.
//! - `overrides`: [`Overrides`], a settings section (`BREAKER__*`) given in part, applied over a
//!   service's own defaults.
//! - [`http`]: [`App`], adding `/health`, `/ready`, `/metrics`, JSON 404/405/413, request ids, tracing;
//!   [`asset`](http::asset) serves a dashboard's compiled-in files under its CSP.
//! - `serve`: [`serve`] a router until a future resolves (handlers can extract the peer's
//!   `ConnectInfo<SocketAddr>`), under [`Limits`] on connections and request heads (timeouts,
//!   caps per service and per client, JSON answers for heads hyper would refuse); [`spawn`] one
//!   on a free port for tests.
//! - `run`: [`run`], a service's `main`: command line, config, logging, bind, serve, exit code;
//!   [`run_from`], the same with the command line given; [`Stoppable`], a router with work to
//!   do when a shutdown signal arrives.
//! - `system`: [`System`], one binary serving several services, a subcommand each.
//! - `cli`: the command line, `--help` (naming the configuration sources), `--version` and
//!   `healthcheck [PATH]`.
//! - [`healthcheck`]: the container healthcheck a binary runs on itself.
//! - [`faults`]: simulated faults (`failure_rate`, `delay_ms`, `down`, plus a service's own),
//!   their `GET|PUT|DELETE /faults` routes, start-up overrides (`FAULTS__*`) and the decision a
//!   handler asks for ([`FaultControl`](faults::FaultControl)).
//! - [`breaker`]: the Redis store of a service's breakers and their validated configuration
//!   (the half-open lease outliving a trial call), errors naming the variable.
//! - [`time`]: milliseconds since the epoch, ISO 8601 timestamps and civil dates, as the
//!   services' bodies carry them.

pub mod admin;
pub mod breaker;
mod cli;
pub mod config;
mod error;
pub mod faults;
pub mod healthcheck;
pub mod http;
mod json;
pub mod metrics;
pub mod otlp;
mod overrides;
pub mod problem;
mod run;
mod serve;
pub mod shutdown;
mod system;
pub mod telemetry;
pub mod time;
pub mod trace;

pub use config::{ConfigError, Loader, ServerConfig, load};
pub use error::{AppError, BoxError, default_code};
pub use http::{App, HealthFields};
pub use json::Json;
pub use overrides::Overrides;
pub use run::{
    IntoApp, ON_SHUTDOWN_LIMIT, OnShutdown, Service, Settings, Stoppable, run, run_from,
};
pub use serve::{Limits, SHUTDOWN_GRACE, Spawned, serve, serve_with, spawn, spawn_with};
pub use system::System;
