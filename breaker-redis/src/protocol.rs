//! The values the stores exchange with a breaker: states, verdicts, replies and snapshots,
//! and how they are read from a script's reply (the wire protocol is documented in `lua/`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The state of a circuit as every replica sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Calls pass and are counted.
    Closed,
    /// Calls are rejected until the open timeout passes.
    Open,
    /// A limited number of trial calls decide whether to close or reopen.
    HalfOpen,
}

impl State {
    /// The name used in Redis and in JSON: `closed`, `open`, `half-open`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half-open",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "closed" => Some(State::Closed),
            "open" => Some(State::Open),
            "half-open" => Some(State::HalfOpen),
            _ => None,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operator's override, shared by every replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Forced {
    /// No override: the breaker trips and recovers on its own.
    #[default]
    None,
    /// Every call is rejected.
    Open,
    /// Every call is admitted and the circuit never trips.
    Closed,
    /// Every call is admitted and nothing is counted.
    Disabled,
}

impl Forced {
    /// The name used in Redis and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Forced::None => "none",
            Forced::Open => "open",
            Forced::Closed => "closed",
            Forced::Disabled => "disabled",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Forced::None),
            "open" => Some(Forced::Open),
            "closed" => Some(Forced::Closed),
            "disabled" => Some(Forced::Disabled),
            _ => None,
        }
    }
}

/// The operator's overrides, as sent to the `force` script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForceMode {
    /// Reject every call until reset.
    Open,
    /// Admit every call, never trip.
    Closed,
    /// Admit every call, count nothing.
    Disabled,
    /// Back to a fresh closed circuit.
    Reset,
}

impl ForceMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ForceMode::Open => "open",
            ForceMode::Closed => "closed",
            ForceMode::Disabled => "disabled",
            ForceMode::Reset => "reset",
        }
    }
}

/// What a caller reports about a call it was admitted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call worked.
    Success,
    /// The call failed in a way that says the dependency is unhealthy.
    Failure,
    /// The call tells nothing about the dependency (a 404, a cancelled request): free the
    /// permit, count nothing.
    Ignored,
}

impl Outcome {
    pub(crate) fn as_wire(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Ignored => "release",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Ignored => "ignored",
        }
    }
}

/// What a store decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// acquire: the call may go ahead.
    Admitted,
    /// acquire: the call must not be made.
    Rejected,
    /// record: the outcome was counted.
    Counted,
    /// record: the permit's lease was freed, nothing counted.
    Released,
    /// record: the permit belongs to an earlier generation, its lease expired, or the window
    /// its call was admitted in has ended: nothing counted.
    Stale,
    /// record: the breaker is forced or disabled: nothing counted.
    Ignored,
    /// force: applied.
    Ok,
}

impl Verdict {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "admitted" => Verdict::Admitted,
            "rejected" => Verdict::Rejected,
            "counted" => Verdict::Counted,
            "released" => Verdict::Released,
            "stale" => Verdict::Stale,
            "ignored" => Verdict::Ignored,
            "ok" => Verdict::Ok,
            _ => return None,
        })
    }
}

/// A transition made by one call, seen from that call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
}

/// A store's answer to acquire, record and force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The decision.
    pub verdict: Verdict,
    /// The state after the operation.
    pub state: State,
    /// The override after the operation.
    pub forced: Forced,
    /// The generation after the operation.
    pub generation: u64,
    /// For a rejection: when trying again makes sense (`None` when forced open).
    pub retry_after: Option<Duration>,
    /// Set when this very operation made a transition.
    pub transition: Option<Transition>,
    /// The stored state was foreign or corrupted and has been reset.
    pub repaired: bool,
    /// The store's clock when it answered (ms since the epoch). For an admission this is the
    /// call's admission time, which its outcome is counted at (see `lua/record.lua`).
    pub now_ms: u64,
    /// Calls counted in the current window after the operation: current when the operation
    /// counted an outcome ([`Verdict::Counted`]) or made a transition (a new window, at 0).
    pub requests: u64,
    /// Failures counted in the current window after the operation, current as `requests` is.
    pub failures: u64,
}

/// A breaker's shared state at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The stored state (an open circuit past its timeout reads `open` until a call arrives).
    /// A breaker with no stored state reads as the new closed one a call would create.
    pub state: State,
    /// The override in force.
    pub forced: Forced,
    /// Incremented by every transition; a new breaker starts at the store's clock in ms, so
    /// generations keep growing when its keys are lost (expiry, `FLUSHALL`) or repaired.
    pub generation: u64,
    /// When an open circuit admits trial calls (ms since the epoch, store time; 0 if not open).
    pub open_until_ms: u64,
    /// Calls counted in the current window (closed state).
    pub requests: u64,
    /// Failures counted in the current window (closed state).
    pub failures: u64,
    /// Failures in a row (closed state).
    pub consecutive_failures: u64,
    /// Successful trial calls so far (half-open state).
    pub half_open_successes: u64,
    /// Unexpired half-open permits.
    pub in_flight: u64,
    /// The store's clock when the snapshot was taken (ms since the epoch).
    pub now_ms: u64,
    /// The stored state was foreign or corrupted and has been reset.
    pub repaired: bool,
}

impl Snapshot {
    /// The state an override left: every override is a transition, which clears the counts,
    /// the trial permits and any open deadline (see `lua/force.lua`), so its reply says all of
    /// it and no second read is needed.
    pub(crate) fn after_override(reply: &Reply) -> Snapshot {
        Snapshot {
            state: reply.state,
            forced: reply.forced,
            generation: reply.generation,
            open_until_ms: 0,
            requests: 0,
            failures: 0,
            consecutive_failures: 0,
            half_open_successes: 0,
            in_flight: 0,
            now_ms: reply.now_ms,
            repaired: reply.repaired,
        }
    }

    /// Time until an open circuit admits trial calls; zero when not open or already due.
    pub fn retry_after(&self) -> Duration {
        if self.state != State::Open || self.forced != Forced::None {
            return Duration::ZERO;
        }
        Duration::from_millis(self.open_until_ms.saturating_sub(self.now_ms))
    }
}
