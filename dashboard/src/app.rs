//! [`router`]: the whole service, from its [`Config`] to an axum [`Router`] with work to do
//! on shutdown ([`Stoppable`]); the state the
//! handlers share; `/ready`'s check and `/health`'s fields.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use service_kit::admin::{AdminAuth, AdminState};
use service_kit::{App, AppError, ConfigError, HealthFields, ServerConfig, Service, Stoppable};
use tokio::sync::{Semaphore, watch};

use crate::admin::Breakers;
use crate::config::{Config, Limits};
use crate::feed::Feed;
use crate::fleet::Fleet;
use crate::{api, page, sse};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("dashboard", 8088);

/// What the handlers share.
pub(crate) struct AppState {
    pub(crate) fleet: Fleet,
    pub(crate) feed: Feed,
    pub(crate) breakers: Breakers,
    pub(crate) admin: AdminAuth,
    pub(crate) limits: Limits,
    /// One permit per open live feed.
    pub(crate) clients: Arc<Semaphore>,
    /// Set when the service is asked to stop: every live feed ends, so that the server's
    /// drain is not held up by streams that never finish by themselves.
    pub(crate) stopping: watch::Sender<bool>,
}

impl AdminState for AppState {
    fn admin_auth(&self) -> &AdminAuth {
        &self.admin
    }
}

/// The complete service: the page, the JSON API and the live feed, plus service-kit's
/// standard routes and layers, with `/ready` checking Redis and the feed; on SIGINT or SIGTERM every live feed ends, so the
/// server drains at once.
///
/// Validates `config` first, so a bad value fails before anything starts. Does not need
/// Redis: the pool connects on first use and the live feed subscribes in the background, so
/// the dashboard starts while Redis is down and says so. Must run inside a Tokio runtime.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Stoppable, ConfigError> {
    let limits = config.limits()?;
    let admin = config.admin_auth()?;
    let fleet = Fleet::new(&config.redis_url, &config.key_prefix, &limits)?;
    let feed = Feed::start(
        fleet.client().clone(),
        fleet.events_pattern(),
        limits.redis_timeout,
    );
    let breakers = Breakers::connect(
        &config.redis_url,
        &config.key_prefix,
        &server.instance_id,
        limits.redis_timeout,
    )
    .await?;
    let state = Arc::new(AppState {
        clients: Arc::new(Semaphore::new(limits.sse_max_clients)),
        stopping: watch::Sender::new(false),
        admin,
        fleet,
        feed,
        breakers,
        limits,
    });
    let routes = Router::new()
        .route("/api/breakers", get(api::list))
        .route("/api/breakers/{name}", get(api::show))
        .route("/api/breakers/{name}/history", get(api::history))
        .route("/api/breakers/{name}/{action}", post(api::apply))
        .route("/api/events", get(sse::events))
        .with_state(Arc::clone(&state))
        .merge(page::routes());
    let health = Arc::clone(&state);
    let readiness = Arc::clone(&state);
    let router = App::new(server)
        .health_check(move || {
            let state = Arc::clone(&health);
            async move { health_fields(&state).await }
        })
        .ready_check(move || {
            let state = Arc::clone(&readiness);
            async move { ready(&state).await }
        })
        .build(routes);
    Ok(Stoppable::new(router, async move {
        state.stopping.send_replace(true);
    }))
}

/// `/health`'s own fields: always 200, Redis's and the live feed's reachability in the body.
async fn health_fields(state: &AppState) -> HealthFields {
    let mut fields = HealthFields::new();
    let redis_up = state.fleet.ping().await.is_ok();
    fields.insert("redis".into(), if redis_up { "ok" } else { "down" }.into());
    let feed = if state.feed.is_up() { "ok" } else { "down" };
    fields.insert("feed".into(), feed.into());
    if !redis_up {
        fields.insert("status".into(), "degraded".into());
    }
    fields
}

/// `/ready`'s check: ready when Redis answers and the live feed is subscribed.
async fn ready(state: &AppState) -> Result<(), String> {
    if let Err(e) = state.fleet.ping().await {
        return Err(format!("redis down: {e}"));
    }
    if !state.feed.is_up() {
        return Err("the live feed is not subscribed".into());
    }
    Ok(())
}

/// A breaker name from a path or query: 400 unless it could be a breaker's.
#[allow(
    clippy::result_large_err,
    reason = "AppError is what every handler answers with; these helpers hand it on"
)]
pub(crate) fn check_name(name: &str) -> Result<(), AppError> {
    breaker_redis::validate::name(name).map_err(|e| {
        AppError::bad_request("invalid breaker name").with_field("detail", e.reason.clone())
    })
}
