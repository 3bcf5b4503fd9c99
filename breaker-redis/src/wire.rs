//! Reading the scripts' replies (their layout is documented at the top of each `lua/*.lua`).

use std::time::Duration;

use crate::protocol::{Forced, Reply, Snapshot, State, Transition, Verdict};
use crate::store::StoreError;

/// `{verdict, state, forced, generation, retry_after_ms, from, to, repaired, now_ms,
/// settings_missing, requests, failures}`
pub(crate) type RawReply = (
    String,
    String,
    String,
    u64,
    i64,
    String,
    String,
    i64,
    u64,
    i64,
    u64,
    u64,
);

/// `{state, forced, generation, open_until, requests, failures, consecutive_failures,
/// half_open_successes, in_flight, now, repaired}`
pub(crate) type RawSnapshot = (String, String, u64, u64, u64, u64, u64, u64, u64, u64, i64);

fn state(s: &str) -> Result<State, StoreError> {
    State::parse(s).ok_or_else(|| StoreError::Protocol(format!("unknown state {s:?}")))
}

fn forced(s: &str) -> Result<Forced, StoreError> {
    Forced::parse(s).ok_or_else(|| StoreError::Protocol(format!("unknown override {s:?}")))
}

/// The reply, and whether the script found the breaker's settings hash missing (which only
/// the Redis store acts on: it writes the settings again).
pub(crate) fn reply(raw: RawReply) -> Result<(Reply, bool), StoreError> {
    let (
        verdict,
        st,
        fo,
        generation,
        retry_after,
        from,
        to,
        repaired,
        now_ms,
        missing,
        requests,
        failures,
    ) = raw;
    let verdict = Verdict::parse(&verdict)
        .ok_or_else(|| StoreError::Protocol(format!("unknown verdict {verdict:?}")))?;
    let transition = if from.is_empty() {
        None
    } else {
        Some(Transition {
            from: state(&from)?,
            to: state(&to)?,
        })
    };
    let reply = Reply {
        verdict,
        state: state(&st)?,
        forced: forced(&fo)?,
        generation,
        retry_after: u64::try_from(retry_after).ok().map(Duration::from_millis),
        transition,
        repaired: repaired != 0,
        now_ms,
        requests,
        failures,
    };
    Ok((reply, missing != 0))
}

pub(crate) fn snapshot(raw: RawSnapshot) -> Result<Snapshot, StoreError> {
    let (
        st,
        fo,
        generation,
        open_until_ms,
        requests,
        failures,
        consecutive_failures,
        half_open_successes,
        in_flight,
        now_ms,
        repaired,
    ) = raw;
    Ok(Snapshot {
        state: state(&st)?,
        forced: forced(&fo)?,
        generation,
        open_until_ms,
        requests,
        failures,
        consecutive_failures,
        half_open_successes,
        in_flight,
        now_ms,
        repaired: repaired != 0,
    })
}
