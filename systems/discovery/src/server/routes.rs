//! The registry's routes and the validation of what they are given.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::routing::{delete, get, post};
use serde_json::{Map, Number, Value, json};
use service_kit::{AppError, Json};

use super::registry::{Beat, Registry, Unavailable};

/// The 400 for a missing or invalid name or port, as the seed answered it.
pub const REQUIRED: &str = "Name and port are required";

/// What the handlers share.
pub(super) struct Shared {
    pub(super) registry: Registry,
    /// The longest heartbeat interval accepted, in seconds.
    pub(super) max_interval: f64,
}

/// The registry's API.
pub(super) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/register", post(register))
        .route("/heartbeat", post(heartbeat))
        .route("/services", get(all))
        .route("/services/{name}", get(one))
        .route("/services/{name}/{port}", delete(remove))
        .with_state(shared)
}

/// The heartbeat interval when the body gives none, in seconds (the seed's).
const DEFAULT_INTERVAL: u64 = 30;

/// A name the registry accepts: 1-64 characters of `A-Za-z0-9._-`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn valid_host(host: &str) -> bool {
    (1..=253).contains(&host.len())
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
}

/// The caller's address as a client would dial it (an IPv4-mapped IPv6 address as IPv4).
fn caller_ip(peer: SocketAddr) -> String {
    match peer.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// A register or heartbeat body, validated, or the 400's message.
fn parse_beat(body: &Value, peer: SocketAddr, max_interval: f64) -> Result<Beat, String> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| valid_name(n))
        .ok_or(REQUIRED)?;
    let port = body
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or(REQUIRED)?;
    let interval = match body.get("heartbeatInterval") {
        None | Some(Value::Null) => Number::from(DEFAULT_INTERVAL),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|s| s > 0.0 && s <= max_interval) => {
            n.clone()
        }
        Some(_) => {
            return Err(format!(
                "heartbeatInterval must be a number of seconds above 0 and at most {max_interval}"
            ));
        }
    };
    let ip = match body.get("host") {
        None | Some(Value::Null) => caller_ip(peer),
        Some(Value::String(h)) if valid_host(h) => h.clone(),
        Some(_) => {
            return Err("host must be a hostname or an IP address".to_owned());
        }
    };
    let seconds = interval.as_f64().unwrap_or(DEFAULT_INTERVAL as f64);
    // At least 1 ms, so that a tiny interval still gives a deadline in the future.
    let interval_ms = ((seconds * 1000.0).ceil() as u64).max(1);
    Ok(Beat {
        name: name.to_owned(),
        ip,
        port,
        interval,
        interval_ms,
    })
}

fn unavailable(e: Unavailable) -> AppError {
    let error = AppError::unavailable("Registry unavailable: Redis does not answer");
    // A refusal (ACL, login) is not an outage: the log names its fix.
    match e.refusal() {
        Some(fix) => error.with_source(format!("{e}; {fix}")),
        None => error.with_source(e),
    }
}

async fn register(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, AppError> {
    let beat = parse_beat(&body, peer, shared.max_interval).map_err(AppError::bad_request)?;
    let (registered, _) = shared
        .registry
        .beat(&beat, true)
        .await
        .map_err(unavailable)?;
    tracing::info!(id = %beat.id(), "registered");
    Ok(Json(json!({
        "id": beat.id(),
        "heartbeatInterval": beat.interval,
        "registeredAt": registered,
    })))
}

async fn heartbeat(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, AppError> {
    let beat = parse_beat(&body, peer, shared.max_interval).map_err(AppError::bad_request)?;
    let (_, now) = shared
        .registry
        .beat(&beat, false)
        .await
        .map_err(unavailable)?;
    Ok(Json(json!({
        "ok": true,
        "lastHeartbeat": now,
        "nextHeartbeatIn": beat.interval,
    })))
}

async fn one(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, AppError> {
    if !valid_name(&name) {
        return Ok(Json(json!({ "services": [] })));
    }
    let alive = shared.registry.alive(&name).await.map_err(unavailable)?;
    Ok(Json(json!({ "services": alive })))
}

async fn all(State(shared): State<Arc<Shared>>) -> Result<Json<Value>, AppError> {
    let names = shared.registry.names().await.map_err(unavailable)?;
    let lookups = names.iter().map(|name| shared.registry.alive(name));
    let found = futures_util::future::try_join_all(lookups)
        .await
        .map_err(unavailable)?;
    let mut services = Map::new();
    for (name, instances) in names.into_iter().zip(found) {
        if instances.is_empty() {
            continue;
        }
        let listed = instances
            .into_iter()
            .map(|i| {
                let mut v = json!(i);
                v["status"] = "alive".into();
                v
            })
            .collect();
        services.insert(name, Value::Array(listed));
    }
    Ok(Json(Value::Object(services)))
}

async fn remove(
    State(shared): State<Arc<Shared>>,
    Path((name, port)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| AppError::bad_request(REQUIRED))?;
    if !valid_name(&name) {
        return Err(AppError::not_found("Service not found"));
    }
    match shared
        .registry
        .remove(&name, port)
        .await
        .map_err(unavailable)?
    {
        None => Err(AppError::not_found("Service not found")),
        Some(0) => Err(AppError::not_found("Service instance not found")),
        Some(_) => {
            tracing::info!(service = %name, port, "unregistered");
            Ok(Json(json!({ "message": "Service removed successfully" })))
        }
    }
}
