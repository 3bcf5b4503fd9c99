//! What the live feed reads from Redis and sends: [`Transition`], and the [`StreamId`] that
//! orders transitions.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A history stream entry id, `<ms>-<seq>`. Ids of one stream only grow, so the last id a
/// client saw tells exactly what it has not seen yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds of the Redis clock when the entry was added.
    pub ms: u64,
    /// Order among the entries of that millisecond.
    pub seq: u64,
}

impl StreamId {
    /// The last id of the millisecond before `ms`: every entry added at `ms` or later comes
    /// after it.
    pub fn before_ms(ms: u64) -> Self {
        Self {
            ms: ms.saturating_sub(1),
            seq: u64::MAX,
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Why a text is not a stream id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a stream id (<ms>-<seq>)")]
pub struct BadStreamId(String);

impl FromStr for StreamId {
    type Err = BadStreamId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadStreamId(s.chars().take(64).collect());
        let (ms, seq) = s.split_once('-').ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return Err(bad());
        }
        Ok(Self {
            ms: ms.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// One transition of one breaker: a history stream entry, or the same fields as published on
/// the breaker's channel (which adds the entry's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The history stream entry id (the SSE event id).
    pub id: String,
    /// The breaker's name.
    pub breaker: String,
    /// The state left.
    pub from: String,
    /// The state entered.
    pub to: String,
    /// The override in force after the transition: `none`, `open`, `closed`, `disabled`.
    pub forced: String,
    /// The generation the transition started.
    pub generation: u64,
    /// Why: `failure threshold reached`, `forced open`, `reset`, ...
    #[serde(default)]
    pub reason: String,
    /// When, in ms since the epoch (the deciding script's clock).
    #[serde(default)]
    pub at_ms: u64,
    /// The configured replica id of the instance that made it.
    #[serde(default)]
    pub origin: String,
    /// The random id of the breaker instance that made it.
    #[serde(default)]
    pub instance: String,
}

impl Transition {
    /// The entry's id parsed; `None` for an id Redis would never give.
    pub fn stream_id(&self) -> Option<StreamId> {
        self.id.parse().ok()
    }

    /// A history stream entry, `None` when a required field is missing or unreadable.
    pub fn from_entry(id: String, fields: &HashMap<String, String>) -> Option<Self> {
        let text = |name: &str| fields.get(name).cloned();
        let number = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
        Some(Self {
            id,
            breaker: text("breaker")?,
            from: text("from")?,
            to: text("to")?,
            forced: text("forced")?,
            generation: number("generation")?,
            reason: text("reason").unwrap_or_default(),
            at_ms: number("at_ms").unwrap_or_default(),
            origin: text("origin").unwrap_or_default(),
            instance: text("instance").unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_parse_print_and_order() {
        let id: StreamId = "1700000000000-3".parse().expect("valid");
        assert_eq!(id.to_string(), "1700000000000-3");
        assert!(id < "1700000000000-10".parse().expect("valid"));
        assert!(id > StreamId::before_ms(1_700_000_000_000));
        assert!(StreamId::before_ms(1_700_000_000_001) > id);
        for bad in [
            "",
            "1",
            "1-",
            "-1",
            "a-1",
            "1-2-3",
            "1 -2",
            "99999999999999999999-0",
        ] {
            assert!(bad.parse::<StreamId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_entry_needs_its_required_fields() {
        let mut fields: HashMap<String, String> = [
            ("breaker", "b"),
            ("from", "closed"),
            ("to", "open"),
            ("forced", "none"),
            ("generation", "7"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let t = Transition::from_entry("1-0".into(), &fields).expect("complete");
        assert_eq!((t.generation, t.at_ms, t.reason.as_str()), (7, 0, ""));
        fields.insert("generation".into(), "x".into());
        assert_eq!(Transition::from_entry("1-0".into(), &fields), None);
    }
}
