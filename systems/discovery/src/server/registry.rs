//! The registry in Redis: one hash per instance, expiring 1.5 x its heartbeat interval after
//! its last heartbeat, and per service an index (a sorted set of ids scored by that deadline).
//!
//! Every operation is one Lua script on Redis's clock, so any number of servers on one Redis
//! agree, a restarted server loses nothing, and an instance is gone the moment its deadline
//! passes (readers drop expired ids themselves; there is no sweep to wait for).
//!
//! | key | holds |
//! |---|---|
//! | `discovery:services` | the names with alive instances |
//! | `discovery:index:<name>` | id -> deadline (ms), expiring with the last deadline |
//! | `discovery:instance:<id>` | `id, name, ip, port, heartbeatInterval, registeredAt, lastHeartbeat` |
//!
//! The scripts touch keys of several services, so the registry needs a standalone Redis (or a
//! primary), not a Cluster.

use std::time::Duration;

use breaker_redis::StoreError;
use breaker_redis::store::RedisTls;
use redis::aio::ConnectionManager;
use redis::{Script, Value};
use serde::Serialize;
use serde_json::Number;

const NAMES: &str = "discovery:services";
const INDEX: &str = "discovery:index:";
const INSTANCE: &str = "discovery:instance:";

/// How long a registry call may wait for Redis before the API answers 503.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// An instance as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// `<name>@<ip>:<port>`.
    pub id: String,
    /// The service's name.
    pub name: String,
    /// Where the instance is reached.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// Seconds between heartbeats, as registered.
    pub heartbeat_interval: Number,
    /// When it registered (ms since the epoch).
    pub registered_at: u64,
    /// Its last heartbeat (ms since the epoch).
    pub last_heartbeat: u64,
}

/// What a register or heartbeat asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Beat {
    /// The service's name.
    pub name: String,
    /// The instance's address.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// Seconds between heartbeats.
    pub interval: Number,
    /// The same in milliseconds (at least 1).
    pub interval_ms: u64,
}

impl Beat {
    /// The instance's id.
    pub fn id(&self) -> String {
        format!("{}@{}:{}", self.name, self.ip, self.port)
    }
}

/// Redis did not answer; the API says 503.
#[derive(Debug, thiserror::Error)]
#[error("the registry's Redis is unavailable: {0}")]
pub struct Unavailable(#[from] redis::RedisError);

impl Unavailable {
    /// What Redis refused (a missing ACL permission, a failed login), with its fix.
    pub fn refusal(&self) -> Option<breaker_redis::store::refusal::Refusal> {
        breaker_redis::store::refusal::Refusal::of_redis(&self.0)
    }
}

/// The registry on one Redis.
#[derive(Clone)]
pub struct Registry {
    conn: ConnectionManager,
    beat: Script,
    alive: Script,
    remove: Script,
}

impl Registry {
    /// The registry on the Redis at `url`; connects lazily, so the server starts (answering
    /// 503) while Redis is down.
    ///
    /// # Errors
    ///
    /// The URL is invalid.
    pub fn connect(url: &str, tls: &RedisTls) -> Result<Self, StoreError> {
        let client = breaker_redis::store::client(url, tls)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            conn,
            beat: Script::new(include_str!("lua/beat.lua")),
            alive: Script::new(include_str!("lua/alive.lua")),
            remove: Script::new(include_str!("lua/remove.lua")),
        })
    }

    /// Registers (`registering`) or refreshes an instance; its `(registeredAt, lastHeartbeat)`.
    ///
    /// # Errors
    ///
    /// Redis is unavailable.
    pub async fn beat(&self, beat: &Beat, registering: bool) -> Result<(u64, u64), Unavailable> {
        let id = beat.id();
        let (registered, now): (u64, u64) = self
            .beat
            .key(format!("{INSTANCE}{id}"))
            .key(format!("{INDEX}{}", beat.name))
            .key(NAMES)
            .arg(&id)
            .arg(&beat.name)
            .arg(&beat.ip)
            .arg(beat.port)
            .arg(beat.interval.to_string())
            .arg(beat.interval_ms)
            .arg(if registering { "1" } else { "0" })
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok((registered, now))
    }

    /// The alive instances of `name`, oldest registration first.
    ///
    /// # Errors
    ///
    /// Redis is unavailable.
    pub async fn alive(&self, name: &str) -> Result<Vec<Instance>, Unavailable> {
        let replies: Vec<Value> = self
            .alive
            .key(format!("{INDEX}{name}"))
            .key(NAMES)
            .arg(name)
            .arg(INSTANCE)
            .invoke_async(&mut self.conn.clone())
            .await?;
        let mut instances: Vec<Instance> = replies.iter().filter_map(parse).collect();
        instances.sort_by(|a, b| (a.registered_at, &a.id).cmp(&(b.registered_at, &b.id)));
        Ok(instances)
    }

    /// Every service name that may have alive instances, sorted.
    ///
    /// # Errors
    ///
    /// Redis is unavailable.
    pub async fn names(&self) -> Result<Vec<String>, Unavailable> {
        let mut names: Vec<String> = redis::cmd("SMEMBERS")
            .arg(NAMES)
            .query_async(&mut self.conn.clone())
            .await?;
        names.sort();
        Ok(names)
    }

    /// Removes the alive instances of `name` on `port`: `None` when the service has none alive,
    /// else how many were removed.
    ///
    /// # Errors
    ///
    /// Redis is unavailable.
    pub async fn remove(&self, name: &str, port: u16) -> Result<Option<u64>, Unavailable> {
        let removed: i64 = self
            .remove
            .key(format!("{INDEX}{name}"))
            .key(NAMES)
            .arg(name)
            .arg(INSTANCE)
            .arg(port)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(u64::try_from(removed).ok())
    }
}

/// One HGETALL reply as an instance; a hash another program wrote wrongly is skipped.
fn parse(reply: &Value) -> Option<Instance> {
    let fields: std::collections::HashMap<String, String> =
        redis::from_redis_value(reply.clone()).ok()?;
    let get = |k: &str| fields.get(k).cloned();
    Some(Instance {
        id: get("id")?,
        name: get("name")?,
        ip: get("ip")?,
        port: get("port")?.parse().ok()?,
        heartbeat_interval: get("heartbeatInterval")?.parse().ok()?,
        registered_at: get("registeredAt")?.parse().ok()?,
        last_heartbeat: get("lastHeartbeat")?.parse().ok()?,
    })
}
