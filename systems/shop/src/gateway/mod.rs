//! The api-gateway (port 3000): the one door of the shop. It limits each client IP, proxies
//! payment, inventory and shipping each behind its breaker, and runs orders.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `ANY /api/payments*`, `/api/inventory*`, `/api/shipping*` | the service's status and body, passed through; path, query, JSON body, `X-Forwarded-For`, `traceparent`, `tracestate` and `x-request-id` passed on. 504 `{"error":"<X> service error","message":"Service request timed out"}` after `SERVICE_TIMEOUT`; 503 `{"error":"<X> service is currently unavailable","message":<cause>}` when unreachable; 503 with `"message":"Circuit Breaker activated: <X> service calls are suspended"`, `retry_after_ms` and `Retry-After` while the circuit is open (the service is not called) |
//! | `POST /api/orders` | `{items:[{productId,quantity}], payment:{currency,method}, shippingAddress}`: checks the stock, pays Σ quantity × price, takes the stock, ships; 201 `{orderId:"order-<ms>", status:"CREATED", timestamp, items, amount, payment, shipping}`. 400 for a missing part, a bad item, items out of stock or a declined payment; 503/504 naming a service that is down, slow or behind an open circuit |
//! | `GET /health` | `{"status":"UP"\|"PARTIAL","gateway":"UP","services":[{"service","status":"UP"\|"DOWN","breaker":"closed"\|"open"\|"half-open"\|"unknown"}]}` (each service's `/health` probed at once; `unknown` while Redis cannot tell the breaker's state) |
//! | `GET /metrics` | Prometheus |
//!
//! Every route but `/health` and `/metrics` counts against the client IP's budget of
//! `RATE_LIMIT_PER_MINUTE`, shared by every replica through Redis (`rate-limit:{gateway:<ip>}`):
//! answers carry `X-RateLimit-Limit`, `-Remaining` and `-Reset`, and over the budget 429
//! `{"error":"Too many requests from this IP, please try again after a minute","retry_after_ms"}`
//! with `Retry-After`.
//!
//! A 4xx from a service is the caller's problem: it passes through and counts as a success;
//! a 5xx, a network error or the time limit counts as a failure. The breakers
//! `payment-service`, `inventory-service`, `shipping-service` (`breaker:{<name>}` in Redis)
//! follow opossum's rule: open when more than half the calls of a rolling 10 s failed, for
//! 30 s, then one trial call. Request bodies must be JSON within `MAX_BODY_BYTES` (400 or 413
//! otherwise, nothing forwarded).
//!
//! # Orders and `Idempotency-Key`
//!
//! A request with an `Idempotency-Key` header (1 to 255 visible ASCII characters) runs once:
//! repeated with the same body it answers the first result, status and body, and charges,
//! takes stock and ships nothing more. While the first still runs, a repeat answers 409
//! `{"error":"A request with this Idempotency-Key is already in progress"}`; with a different
//! body, 422. An order that ended on an unavailable service is not kept as an answer: a repeat
//! runs it again under the same order id, which the payment and the stock update are keyed by.
//! Records live in Redis for `IDEMPOTENCY_TTL` (`shop:idempotency:{<key>}`), locally while
//! Redis is down. Order ids are milliseconds allocated on Redis (`shop:{gateway}:order-id`),
//! each later than the last, so concurrent orders on any replica never share one.
//!
//! # Configuration
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | breakers, rate limit, order ids, idempotency records |
//! | `PAYMENT_SERVICE_URL` | `http://127.0.0.1:3001` | the payment service |
//! | `INVENTORY_SERVICE_URL` | `http://127.0.0.1:3002` | the inventory service |
//! | `SHIPPING_SERVICE_URL` | `http://127.0.0.1:3003` | the shipping service |
//! | `SERVICE_TIMEOUT` | `3s` | one call to a service, body included |
//! | `BREAKER__*` | opossum's, open `30s` | the three breakers' settings ([`breaker_redis::Settings`]), e.g. `BREAKER__TIMEOUT=1s` |
//! | `RATE_LIMIT_PER_MINUTE` | `100` | requests a minute per client IP |
//! | `TRUSTED_PROXIES` | none | proxies whose `X-Forwarded-For` names the client (the gateway is the edge) |
//! | `HEALTH_PROBE_TIMEOUT` | `2s` | each service's `/health` probe |
//! | `IDEMPOTENCY_TTL` | `24h` | how long an order's answer is kept for its key |
//!
//! # Layout
//!
//! - `config`: [`Config`] and its validation.
//! - `upstream`: one service behind its breaker and time limit; the gateway's own answers.
//! - `proxy`: the proxied routes.
//! - `orders`: `POST /api/orders`: `validate`, `flow`.
//! - `idempotency`, `order_id`, `shared`: the records and ids kept in Redis.
//! - `health`: the `/health` fields.

mod config;
mod health;
mod idempotency;
mod order_id;
mod orders;
mod proxy;
mod shared;
mod upstream;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::from_fn_with_state;
use axum::routing::post;
use breaker_redis::{Breaker, RedisStore};
use service_kit::{App, ConfigError, ServerConfig, Service};

pub use config::Config;

use crate::common::{IpRateLimit, TrustedProxies, connect_with};
use idempotency::Idempotency;
use order_id::OrderIds;
use shared::Shared;
use upstream::Upstream;

/// The service's name and default port.
pub const SERVICE: Service = Service::new("api-gateway", 3000);

/// What the handlers share.
#[derive(Debug)]
struct State {
    payment: Upstream,
    inventory: Upstream,
    shipping: Upstream,
    trusted: TrustedProxies,
    shared: Shared,
    order_ids: OrderIds,
    idempotency: Idempotency,
    probe_timeout: Duration,
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let store = connect_with(&config.redis_url, &server.redis).await?;
    let state = Arc::new(state(config, server, &store)?);
    let limit = IpRateLimit::new(
        "gateway",
        config.rate_limit_per_minute,
        Some(store),
        config.trusted_proxies.clone(),
        "RATE_LIMIT_PER_MINUTE",
    )?;
    let orders = {
        let state = Arc::clone(&state);
        move |request: Request| orders::create(Arc::clone(&state), request)
    };
    let api = proxy::routes(&state)
        .route("/api/orders", post(orders))
        .route_layer(from_fn_with_state(limit, IpRateLimit::middleware));
    let app = App::new(server).health_check(move || {
        let state = Arc::clone(&state);
        async move { health::fields(&state).await }
    });
    Ok(app.build(api))
}

fn state(config: &Config, server: &ServerConfig, store: &RedisStore) -> Result<State, ConfigError> {
    let breaker = config.breaker()?;
    let timeout = config.call_timeout()?;
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| ConfigError::Other(format!("cannot build the HTTP client: {e}")))?;
    let upstream = |name: &'static str, label: &'static str, url: &str, setting: &str| {
        let base = Config::service_url(url, setting)?;
        let breaker = Breaker::builder(name)
            .config(breaker.clone())
            .store(store.clone())
            .replica_id(server.instance_id.clone())
            .build()
            .map_err(|e| {
                ConfigError::invalid(format!("BREAKER__{}", e.setting.to_uppercase()), e.reason)
            })?;
        Ok::<_, ConfigError>(Upstream::new(
            name,
            label,
            base,
            breaker,
            http.clone(),
            timeout,
        ))
    };
    Ok(State {
        payment: upstream(
            "payment-service",
            "Payment",
            &config.payment_service_url,
            "PAYMENT_SERVICE_URL",
        )?,
        inventory: upstream(
            "inventory-service",
            "Inventory",
            &config.inventory_service_url,
            "INVENTORY_SERVICE_URL",
        )?,
        shipping: upstream(
            "shipping-service",
            "Shipping",
            &config.shipping_service_url,
            "SHIPPING_SERVICE_URL",
        )?,
        trusted: config.trusted_proxies.clone(),
        shared: Shared::new(store),
        order_ids: OrderIds::default(),
        idempotency: Idempotency::new(config.idempotency_ttl()?),
        probe_timeout: config.probe_timeout()?,
    })
}
