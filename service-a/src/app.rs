//! [`router`]: the whole service, from its [`Config`] to an axum [`Router`].

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use breaker_redis::{Breaker, MemoryStore, RedisStore, Scope, StateChange};
use service_kit::admin::AdminAuth;
use service_kit::{App, ConfigError, HealthFields, ServerConfig, Service};
use tokio::sync::broadcast;
use tracing::{debug, info};

use crate::config::{Backend, Config, breaker_error};
use crate::patterns::{Plan, Resilience};
use crate::state::{AppState, BREAKER_NAME};
use crate::upstream::Upstream;
use crate::{admin, call};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("service-a", 8080);

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is invalid; the message names its variable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// Validates `config` first, so a bad value fails before anything is started. Does not need
/// Redis: the store connects lazily and the breaker protects calls locally until Redis answers
/// (and with `BREAKER_BACKEND=memory` or `none` never connects to it; the rate limits and the
/// last good answer are then this process's own too).
/// Must run inside a Tokio runtime (the breaker starts listening for other replicas'
/// transitions).
///
/// # Errors
///
/// An invalid setting (naming its variable), or the HTTP client cannot be built.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, StartError> {
    let call_timeout = config.call_timeout()?;
    let upstream = Upstream::new(config.hello_url()?, call_timeout)?;
    let breaker_config = config.breaker_config()?;
    let plan = Plan::new(config)?;
    let admin = AdminAuth::from_settings(&config.admin_settings())?;
    let store = match config.breaker_backend {
        Backend::Redis => {
            Some(service_kit::breaker::connect_with(&config.redis_url, &server.redis).await?)
        }
        Backend::Memory | Backend::None => None,
    };
    let Resilience {
        rate_limit,
        bulkhead,
        retry,
        last_good,
    } = plan.start(store.as_ref(), &breaker_config)?;
    let breaker = breaker(config.breaker_backend, breaker_config, server, store)?;
    if let Some(breaker) = &breaker {
        tokio::spawn(log_remote_transitions(breaker.events()));
    }
    let backend = config.breaker_backend;
    let call = call::stack(call::Parts {
        rate_limit,
        bulkhead,
        last_good,
        retry,
        breaker: breaker.clone(),
        upstream,
        timeout: call_timeout,
    });
    // Installed first so that the series below exist from the start, even in a process
    // that builds this router without `service_kit::run`.
    service_kit::metrics::handle();
    crate::call::register_metrics();
    let state = Arc::new(AppState {
        breaker: breaker.clone(),
        instance: server.instance_id.clone(),
        admin,
        call,
        call_timeout,
    });
    let routes = Router::new()
        // axum answers HEAD with the GET handler, which would call B: a HEAD must not make a
        // call that the breaker counts.
        .route(
            "/call-service-b",
            get(call::call_service_b).head(service_kit::http::get_only),
        )
        .route("/breaker", get(admin::show))
        .route("/breaker/open", post(admin::open))
        .route("/breaker/close", post(admin::close))
        .route("/breaker/reset", post(admin::reset))
        .with_state(state);
    let app = App::new(server).health_check(move || health(breaker.clone(), backend));
    Ok(app.build(routes))
}

/// The breaker `BREAKER_BACKEND` asks for (its configuration was validated whatever the
/// backend, so that switching it never hides a bad setting): none, or one on `store` (Redis,
/// with `redis`) or else in this process (`memory`).
fn breaker(
    backend: Backend,
    config: breaker_redis::Config,
    server: &ServerConfig,
    store: Option<RedisStore>,
) -> Result<Option<Breaker>, StartError> {
    let builder = Breaker::builder(BREAKER_NAME)
        .config(config)
        .replica_id(server.instance_id.clone());
    if backend == Backend::None {
        return Ok(None);
    }
    let builder = match store {
        Some(store) => builder.store(store),
        None => builder.store(MemoryStore::new()),
    };
    Ok(Some(builder.build().map_err(breaker_error)?))
}

/// `/health`'s extra fields: `"redis": "ok"` while calls use the shared state and Redis answers
/// a read within the store timeout, else `"redis": "degraded"` and `"status": "degraded"`.
/// Without Redis (`BREAKER_BACKEND=memory|none`): `"breaker": "memory"` or `"none"` instead.
async fn health(breaker: Option<Breaker>, backend: Backend) -> HealthFields {
    let mut fields = HealthFields::new();
    let (Backend::Redis, Some(breaker)) = (backend, breaker) else {
        let name = if backend == Backend::None {
            "none"
        } else {
            "memory"
        };
        fields.insert("breaker".to_owned(), name.into());
        return fields;
    };
    let timeout = breaker.config().store_timeout();
    // A degraded replica is reported as such without paying a read that may time out.
    let ok = !breaker.is_degraded()
        && matches!(
            tokio::time::timeout(timeout, breaker.snapshot()).await,
            Ok(Ok(_))
        );
    if !ok {
        fields.insert("status".to_owned(), "degraded".into());
    }
    fields.insert(
        "redis".to_owned(),
        if ok { "ok" } else { "degraded" }.into(),
    );
    fields
}

/// The breaker logs this replica's transitions; this logs the ones other replicas made, which
/// pub/sub delivers, so that every replica's log tells when the shared circuit moved.
async fn log_remote_transitions(mut events: broadcast::Receiver<StateChange>) {
    loop {
        match events.recv().await {
            Ok(e) if e.scope == Scope::Remote => {
                info!(from = %e.from, to = %e.to, generation = e.generation, origin = %e.origin, "circuit transition by another replica");
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(skipped)) => {
                debug!(skipped, "transition events skipped")
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
}
