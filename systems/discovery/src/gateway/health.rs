//! `GET /health`: the gateway, its discovery server, its cache and its breakers.

use std::time::SystemTime;

use breaker_redis::Breaker;
use serde_json::{Map, Value, json};
use service_kit::HealthFields;

use super::Shared;
use service_kit::time::{iso, now_iso};

/// The seed's fields, plus `breakers`.
pub(super) async fn fields(shared: &Shared) -> HealthFields {
    let (probe, user, order) = tokio::join!(
        shared.discovery.probe(),
        breaker(&shared.user_breaker),
        breaker(&shared.order_breaker),
    );
    let discovery = match &probe {
        Ok(()) => json!({ "status": "healthy", "server": "connected" }),
        Err(e) => json!({ "status": "unhealthy", "server": "disconnected", "error": e }),
    };
    let mut breakers = Map::new();
    breakers.insert(shared.user_breaker.name().to_owned(), user);
    breakers.insert(shared.order_breaker.name().to_owned(), order);
    let body = json!({
        "service": "api-gateway",
        "instance": shared.instance,
        "status": if probe.is_ok() { "healthy" } else { "degraded" },
        "port": shared.port,
        "timestamp": now_iso(),
        "serviceDiscovery": discovery,
        "cache": cache(shared),
        "breakers": breakers,
    });
    body.as_object().cloned().unwrap_or_default()
}

fn cache(shared: &Shared) -> Value {
    let now = SystemTime::now();
    let entries = shared.discovery.cached().into_iter().map(|(name, entry)| {
        let left = entry.expires_at.duration_since(now).unwrap_or_default();
        let info = json!({
            "servicesCount": entry.instances.len(),
            "cachedAt": iso(entry.cached_at),
            "expiresAt": iso(entry.expires_at),
            "isValid": entry.is_valid(),
            "timeToExpiry": u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
        });
        (name, info)
    });
    Value::Object(entries.collect())
}

/// `{state, generation, retryAfterMs}`; `state` is `unknown` (and the numbers 0) while Redis
/// cannot say.
async fn breaker(breaker: &Breaker) -> Value {
    match breaker.snapshot().await {
        Ok(s) => {
            let open = s.state == breaker_redis::State::Open;
            let retry = if open {
                s.open_until_ms.saturating_sub(s.now_ms)
            } else {
                0
            };
            json!({ "state": s.state.as_str(), "generation": s.generation, "retryAfterMs": retry })
        }
        Err(e) => {
            tracing::warn!(breaker = breaker.name(), error = %e, "breaker state unknown");
            json!({ "state": "unknown", "generation": 0, "retryAfterMs": 0 })
        }
    }
}
