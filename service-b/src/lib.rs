//! Service B: the flaky upstream of the demo. It fails every third request, and its faults can be
//! changed at run time so demos and tests can make it slow, erratic or down.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /hello` | 200 `{"message":"Hello from Service B","request":N,"instance":ID}`; 500 `{"error":"Service B Error","request":N,"instance":ID}` when request `N % fail_every == 0` or at random with `failure_rate`; 503 `{"error":"Service B is down",...}` when `down`; after `delay_ms` |
//! | `GET /faults` | the current [`Faults`] |
//! | `PUT /faults` | a partial update, e.g. `{"down":true}` or `{"failure_rate":0.5,"delay_ms":200}`; answers the new settings; unknown fields, wrong types, `failure_rate` outside 0..=1 or `delay_ms` over 60000 answer 400 and change nothing |
//! | `DELETE /faults` | back to the configured defaults |
//! | `GET /stats` | `{"requests":N,"failures":N}`: `/hello` requests that arrived, 5xx answers given |
//! | `GET /health`, `GET /metrics` | from [`service_kit::App`] |
//!
//! `N` counts every `/hello` that arrived at this router (process-wide in the binary), from 1.
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `FAIL_EVERY` | 3; 0 never fails on a count |
//! | `FAULTS__FAILURE_RATE`, `FAULTS__DELAY_MS`, `FAULTS__DOWN` | 0.0, 0, false: the other defaults `DELETE /faults` goes back to |
//! | `FAULTS__SEED` | the seed of the `failure_rate` draws; unset: seeded from the system |
//! | `PORT` | 8081 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - `faults`: [`FailEvery`], service B's own fault setting next to the generic ones of
//!   [`service_kit::faults`] (which serves `/faults`), and [`outcome`], the decision with it.
//! - `handlers`: the routes and their shared counters.

mod faults;
mod handlers;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde::Deserialize;
use service_kit::faults::FaultControl;
use service_kit::{App, ServerConfig, Service};

pub use faults::{FailEvery, FailEveryUpdate, Faults, FaultsUpdate, outcome};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("service-b", 8081);

/// Service B's own settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Request `N` fails when `N % fail_every == 0`; 0 never. `FAIL_EVERY`, default 3.
    #[serde(default = "default_fail_every")]
    pub fail_every: u64,
}

fn default_fail_every() -> u64 {
    3
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fail_every: default_fail_every(),
        }
    }
}

impl Config {
    /// The fault settings this configuration starts with: failing every `fail_every`-th
    /// request, nothing else.
    pub fn faults(&self) -> Faults {
        Faults::with_extra(FailEvery {
            fail_every: self.fail_every,
        })
    }
}

/// The complete service with the defaults of `config` and no other fault settings: its routes
/// plus the standard ones and layers of [`service_kit::App`].
pub fn router(config: &Config, server: &ServerConfig) -> Router {
    app(FaultControl::new(config.faults()), server)
}

/// The complete service, its faults controlled by `faults` (e.g. built with
/// [`FaultControl::from_config`] from the `FAULTS__*` variables).
pub fn app(faults: FaultControl<FailEvery>, server: &ServerConfig) -> Router {
    let faults = Arc::new(faults);
    let shared = Arc::new(handlers::Shared::new(
        server.instance_id.clone(),
        Arc::clone(&faults),
    ));
    let routes = Router::new()
        .route("/hello", get(handlers::hello))
        .route("/stats", get(handlers::stats))
        .with_state(shared)
        .merge(service_kit::faults::routes(faults));
    App::new(server).build(routes)
}
