//! State-change events: the transitions this replica made, and (through Redis pub/sub and the
//! history stream) those every other replica made.
//!
//! The scripts publish each transition as JSON on the breaker's channel and append the same
//! fields to its history stream; the published message also carries the entry's stream id,
//! which lets a subscriber tell what it heard from what it reads back after a reconnect.

use serde::{Deserialize, Serialize};

use crate::protocol::{Forced, State};

/// Who made a transition, seen from the replica that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// This replica made it in the shared state.
    #[default]
    Shared,
    /// Another replica made it in the shared state (learnt through pub/sub).
    Remote,
    /// This replica's local breaker made it while Redis was unreachable.
    Local,
}

/// One transition of a breaker. Each transition in the shared state is reported exactly once
/// on every replica's [`Breaker::events`](crate::Breaker::events) stream: by the replica that
/// made it as [`Scope::Shared`], by every other one as [`Scope::Remote`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// The breaker's name.
    pub breaker: String,
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// The override in force after the transition.
    pub forced: Forced,
    /// The generation the transition started.
    pub generation: u64,
    /// Configured id of the replica that made it (for display: several processes may share it).
    pub origin: String,
    /// Random id of the breaker instance that made it, unique per process and breaker.
    #[serde(default)]
    pub instance: String,
    /// Where it happened, seen from the reporting replica.
    #[serde(skip)]
    pub scope: Scope,
}

/// A transition as published on a breaker's channel: the event and its history stream id.
#[derive(Deserialize)]
struct Published {
    #[serde(flatten)]
    change: StateChange,
    #[serde(default)]
    id: Option<String>,
}

/// Reads a published transition: the event (as another replica's) and its history stream id,
/// when the publisher sent one.
pub(crate) fn from_message(payload: &[u8]) -> serde_json::Result<(StateChange, Option<String>)> {
    let Published { mut change, id } = serde_json::from_slice(payload)?;
    change.scope = Scope::Remote;
    Ok((change, id))
}

/// Reads a history stream entry's fields (name, value, name, value...) as another replica's
/// transition; `None` when a field is missing or unreadable.
pub(crate) fn from_entry(fields: &[String]) -> Option<StateChange> {
    let field = |name: &str| {
        fields
            .chunks_exact(2)
            .find(|kv| kv[0] == name)
            .map(|kv| kv[1].as_str())
    };
    Some(StateChange {
        breaker: field("breaker")?.to_owned(),
        from: State::parse(field("from")?)?,
        to: State::parse(field("to")?)?,
        forced: Forced::parse(field("forced")?)?,
        generation: field("generation")?.parse().ok()?,
        origin: field("origin")?.to_owned(),
        instance: field("instance").unwrap_or_default().to_owned(),
        scope: Scope::Remote,
    })
}

/// How many of its own transitions a breaker remembers having reported. Transitions of one
/// breaker follow each other one generation at a time, so a reply and its published copy are
/// never further apart than a handful of generations.
const REMEMBERED: usize = 64;

/// The generations of this breaker's own transitions already reported. A transition this
/// breaker made reaches it twice: in the script's reply and through pub/sub (or the history
/// stream). Whichever comes first reports it, so a reply lost to a timeout after Redis made
/// the transition still leaves it reported once.
#[derive(Debug, Default)]
pub(crate) struct OwnReports(std::sync::Mutex<std::collections::VecDeque<u64>>);

impl OwnReports {
    /// True the first time `generation` is seen.
    pub(crate) fn first(&self, generation: u64) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(&generation) {
            return false;
        }
        if seen.len() == REMEMBERED {
            seen.pop_front();
        }
        seen.push_back(generation);
        true
    }
}
