//! The shipping-service's test environment: a Redis, and routers spawned on it.

use serde_json::{Value, json};
use service_kit::Spawned;
use service_kit::faults::FaultsConfig;
use shop::shipping::{self, Config};
use test_support::RedisServer;

/// A Redis and an HTTP client.
pub struct Env {
    pub redis: RedisServer,
    pub http: reqwest::Client,
}

impl Env {
    pub fn start() -> Self {
        Self {
            redis: RedisServer::start().expect("redis-server starts"),
            http: reqwest::Client::new(),
        }
    }

    /// Defaults, with this Redis, a provider that always answers at once and a rate limit
    /// the tests that are not about it stay under.
    pub fn config(&self) -> Config {
        Config {
            redis_url: self.redis.url(),
            rate_limit_per_minute: 1000,
            faults: FaultsConfig {
                failure_rate: Some(0.0),
                delay_ms: Some(0),
                ..FaultsConfig::default()
            },
            ..Config::default()
        }
    }

    pub async fn spawn(&self, config: &Config) -> Spawned {
        let server = super::server("shipping-service", "shipping-test");
        let router = shipping::router(config, &server)
            .await
            .expect("valid config");
        service_kit::spawn(router).await.expect("serves")
    }
}

pub fn shipment(id: &str) -> Value {
    json!({"orderId": id, "address": "1 Main St", "items": [{"productId": "prod-001", "quantity": 1}]})
}
