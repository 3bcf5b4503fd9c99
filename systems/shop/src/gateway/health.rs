//! What `GET /health` adds: each service's `/health`, probed concurrently, and its breaker.

use serde_json::{Value, json};
use service_kit::HealthFields;

use super::State;
use super::upstream::Upstream;

/// `status` (`UP`, or `PARTIAL` when a service is down), `gateway` and `services`.
pub(crate) async fn fields(state: &State) -> HealthFields {
    let timeout = state.probe_timeout;
    let (payment, inventory, shipping) = tokio::join!(
        service(&state.payment, timeout),
        service(&state.inventory, timeout),
        service(&state.shipping, timeout),
    );
    let services = [payment, inventory, shipping];
    let all_up = services.iter().all(|s| s["status"] == "UP");
    let mut fields = HealthFields::new();
    fields.insert(
        "status".into(),
        if all_up { "UP" } else { "PARTIAL" }.into(),
    );
    fields.insert("gateway".into(), "UP".into());
    fields.insert("services".into(), Value::Array(services.into()));
    fields
}

/// The service's health and its breaker's shared state (`unknown` while Redis cannot say).
async fn service(upstream: &Upstream, timeout: std::time::Duration) -> Value {
    let (up, snapshot) = tokio::join!(upstream.probe(timeout), upstream.breaker.snapshot());
    let breaker = snapshot.map_or("unknown", |s| s.state.as_str());
    json!({
        "service": upstream.name,
        "status": if up { "UP" } else { "DOWN" },
        "breaker": breaker,
    })
}
