//! The dashboard (port 8080): the health of the user and order services, and the state of the
//! breaker `user-service`.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | 200 `{"user_service":"healthy"|"unhealthy","order_service":...,"status":"ok","service":"dashboard","instance":ID}`: healthy when the service's `GET /` answered 200 within `CHECK_TIMEOUT` |
//! | `GET /` | an HTML page showing both and the breaker's state (from the order service's `GET /breaker`), reloading itself every 5 s; everything is in the page, nothing is fetched from elsewhere |
//! | `GET /status` | 200 `{"user_service":...,"order_service":...,"breaker":{"state":...,"retry_after_ms":N}|null}`: what the page shows, as JSON |
//! | `GET /metrics` | Prometheus |
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `USER_SERVICE_URL` | `http://127.0.0.1:5001` |
//! | `ORDER_SERVICE_URL` | `http://127.0.0.1:5002` |
//! | `CHECK_TIMEOUT` | 5s |
//! | `PORT` | 8080 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - here: [`SERVICE`], [`Config`], [`router`], the checks.
//! - `page`: the HTML page.

mod page;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use service_kit::{App, ConfigError, HealthFields, Json, ServerConfig, Service};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("dashboard", 8080);

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `USER_SERVICE_URL`.
    pub user_service_url: String,
    /// `ORDER_SERVICE_URL`.
    pub order_service_url: String,
    /// `CHECK_TIMEOUT`: how long a service has to answer `GET /`.
    #[serde(with = "humantime_serde")]
    pub check_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            user_service_url: "http://127.0.0.1:5001".to_owned(),
            order_service_url: "http://127.0.0.1:5002".to_owned(),
            check_timeout: Duration::from_secs(5),
        }
    }
}

/// What the dashboard shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `healthy` or `unhealthy`.
    pub user_service: &'static str,
    /// `healthy` or `unhealthy`.
    pub order_service: &'static str,
    /// The order service's `GET /breaker`, `null` when it could not be read.
    pub breaker: Option<Value>,
}

struct Checks {
    http: reqwest::Client,
    user: Url,
    order: Url,
    timeout: Duration,
}

impl Checks {
    /// `healthy` when `GET base` answered 200 within the time limit.
    async fn check(&self, base: &Url) -> &'static str {
        let answered = tokio::time::timeout(self.timeout, self.http.get(base.clone()).send());
        match answered.await {
            Ok(Ok(response)) if response.status() == StatusCode::OK => "healthy",
            _ => "unhealthy",
        }
    }

    async fn breaker(&self) -> Option<Value> {
        let url = self.order.join("breaker").ok()?;
        let fetch = async {
            let response = self.http.get(url).send().await.ok()?;
            let ok = response.status().is_success();
            let body: Value = response.json().await.ok()?;
            ok.then_some(body)
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .ok()
            .flatten()
    }

    async fn status(&self) -> Status {
        let (user_service, order_service, breaker) = tokio::join!(
            self.check(&self.user),
            self.check(&self.order),
            self.breaker()
        );
        Status {
            user_service,
            order_service,
            breaker,
        }
    }
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let url = |text: &str, variable: &str| {
        Url::parse(text).map_err(|e| ConfigError::invalid(variable, e))
    };
    if config.check_timeout.is_zero() {
        return Err(ConfigError::invalid("CHECK_TIMEOUT", "must be above 0"));
    }
    let checks = Arc::new(Checks {
        http: reqwest::Client::new(),
        user: url(&config.user_service_url, "USER_SERVICE_URL")?,
        order: url(&config.order_service_url, "ORDER_SERVICE_URL")?,
        timeout: config.check_timeout,
    });
    let health = Arc::clone(&checks);
    let app = App::new(server).health_check(move || {
        let checks = Arc::clone(&health);
        async move {
            let (user, order) =
                tokio::join!(checks.check(&checks.user), checks.check(&checks.order));
            let mut fields = HealthFields::new();
            fields.insert("user_service".to_owned(), user.into());
            fields.insert("order_service".to_owned(), order.into());
            fields
        }
    });
    let routes = Router::new()
        .route("/", get(show))
        .route("/status", get(status))
        .with_state(checks);
    Ok(app.build(routes))
}

async fn status(State(checks): State<Arc<Checks>>) -> Json<Status> {
    Json(checks.status().await)
}

async fn show(State(checks): State<Arc<Checks>>) -> Html<String> {
    Html(page::render(&checks.status().await))
}
