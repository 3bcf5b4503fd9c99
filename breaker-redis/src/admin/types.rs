//! What [`Admin`](super::Admin) answers with. Every type serializes to the JSON `breakerctl
//! --json` prints (field names and lower-case values are stable).

use serde::{Deserialize, Serialize};

use crate::protocol::{Forced, State};
use crate::settings::Settings;

/// A breaker's settings as a replica published them in Redis (`prefix:{name}:settings`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredSettings {
    /// The configuration, in its serde form.
    pub settings: Settings,
    /// The configured id of the replica that wrote them last (replicas with different settings
    /// overwrite each other; the last writer wins).
    pub replica: String,
    /// The random id of the breaker instance that wrote them.
    pub instance: String,
    /// When they were written (Redis server time, ms since the epoch).
    pub written_at_ms: u64,
}

/// One breaker as [`Admin::list`](super::Admin::list) reads it from Redis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerSummary {
    /// The breaker's name.
    pub name: String,
    /// The stored state (an open circuit past its timeout reads `open` until a call comes).
    pub state: State,
    /// The override in force.
    pub forced: Forced,
    /// The generation (0 when no state is stored).
    pub generation: u64,
    /// Calls counted in the window, as last written.
    pub requests: u64,
    /// Failures counted in the window, as last written.
    pub failures: u64,
    /// Failures in a row, as last written.
    pub consecutive_failures: u64,
    /// Successful trial calls (half-open).
    pub half_open_successes: u64,
    /// When an open circuit admits trial calls (ms since the epoch; 0 if not open).
    pub open_until_ms: u64,
    /// When the state was last written (store time, ms since the epoch; 0 if unknown).
    pub updated_at_ms: u64,
    /// Time until Redis forgets the breaker if no call comes (its state hash's TTL, or the
    /// settings hash's when no state is stored); `None`: never (a forced breaker).
    pub ttl_ms: Option<u64>,
    /// False when only the settings are stored: the breaker was built but has made no call
    /// since its state was created, flushed or expired; it reads as a new closed circuit.
    pub stored: bool,
    /// The settings, when a replica published them.
    pub settings: Option<StoredSettings>,
}

/// One breaker in detail, as [`Admin::show`](super::Admin::show) reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerDetail {
    /// What `list` shows; with settings present, the counts are those of the current window
    /// (read by the same script the breakers use), not merely the last written ones.
    #[serde(flatten)]
    pub summary: BreakerSummary,
    /// Half-open trial calls in flight fleet-wide (unexpired leases).
    pub in_flight: u64,
    /// Where the fixed window began (ms since the epoch, store time; 0 if unknown).
    pub window_start_ms: u64,
    /// Entries in the transition history stream.
    pub history_len: u64,
    /// Redis server time when this was read (ms since the epoch).
    pub now_ms: u64,
}

/// One transition, from the history stream or live from pub/sub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// Its entry id in the breaker's history stream (`ms-seq`): resume after it with
    /// [`Admin::history_after`](super::Admin::history_after).
    pub id: String,
    /// The breaker's name.
    pub breaker: String,
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// The override in force after it.
    pub forced: Forced,
    /// The generation it started.
    pub generation: u64,
    /// Why: `failure threshold reached`, `open timeout elapsed`, `trial call failed`,
    /// `trial calls succeeded`, `forced open|closed|disabled`, `reset`.
    pub reason: String,
    /// Configured id of the replica (or tool) that made it.
    pub origin: String,
    /// Random id of the breaker instance that made it.
    #[serde(default)]
    pub instance: String,
    /// When (store time, ms since the epoch).
    pub at_ms: u64,
}

/// What an override did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideResult {
    /// The breaker's name.
    pub breaker: String,
    /// The state it left.
    pub from: State,
    /// The state it entered.
    pub to: State,
    /// The override in force now (`none` after a reset).
    pub forced: Forced,
    /// The new generation (every override is a transition).
    pub generation: u64,
    /// When (Redis server time, ms since the epoch).
    pub at_ms: u64,
}
