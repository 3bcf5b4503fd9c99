//! Reading the scripts' replies (their layout is documented at the top of each `lua/*.lua`).

use std::time::Duration;

use crate::protocol::{Forced, Reply, Snapshot, State, Transition, Verdict};
use crate::store::Exchanged;
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

/// `{state, forced, generation, repaired, now_ms, settings_missing, requests, failures,
/// verdicts, retry_after_ms, transitions, counts}` (see `lua/exchange.lua`).
pub(crate) type RawExchange = (
    String,
    String,
    u64,
    i64,
    u64,
    i64,
    u64,
    u64,
    String,
    i64,
    Vec<redis::Value>,
    Vec<u64>,
);

/// One reply per operation of an exchange of `outcomes` outcomes and `admissions` admissions,
/// each as the operation alone would have answered it (state and generation as they were
/// right after it), and whether the settings hash was missing.
pub(crate) fn exchange(
    raw: RawExchange,
    outcomes: usize,
    admissions: usize,
) -> Result<(Exchanged, bool), StoreError> {
    let (
        st,
        fo,
        generation,
        repaired,
        now_ms,
        missing,
        requests,
        failures,
        verdicts,
        retry,
        ts,
        counts,
    ) = raw;
    if counts.len() != 2 * outcomes {
        return Err(StoreError::Protocol(format!(
            "{} counts for {outcomes} outcomes",
            counts.len()
        )));
    }
    if verdicts.len() != outcomes + admissions {
        return Err(StoreError::Protocol(format!(
            "{} verdicts for {} operations",
            verdicts.len(),
            outcomes + admissions
        )));
    }
    let transitions = exchange_transitions(ts)?;
    let (state_after, forced) = (state(&st)?, forced(&fo)?);
    let retry_after = u64::try_from(retry).ok().map(Duration::from_millis);
    let mut replies = Vec::with_capacity(verdicts.len());
    for (i, code) in verdicts.bytes().enumerate() {
        let op = i + 1;
        let verdict = match code {
            b'C' => Verdict::Counted,
            b'L' => Verdict::Released,
            b'S' => Verdict::Stale,
            b'I' => Verdict::Ignored,
            b'A' => Verdict::Admitted,
            b'R' => Verdict::Rejected,
            _ => {
                return Err(StoreError::Protocol(format!(
                    "unknown verdict {:?}",
                    char::from(code)
                )));
            }
        };
        let expected = if i < outcomes {
            matches!(
                verdict,
                Verdict::Counted | Verdict::Released | Verdict::Stale | Verdict::Ignored
            )
        } else {
            matches!(verdict, Verdict::Admitted | Verdict::Rejected)
        };
        if !expected {
            return Err(StoreError::Protocol(format!(
                "verdict {verdict:?} for operation {op}"
            )));
        }
        // The state this operation left: that of the last transition made by it or before it,
        // or, before the first transition, the state that transition left (one generation
        // earlier).
        let (state, generation) = match transitions.iter().rev().find(|t| t.0 <= op) {
            Some(&(_, _, to, g)) => (to, g),
            None => match transitions.first() {
                Some(&(_, from, _, g)) => (from, g.saturating_sub(1)),
                None => (state_after, generation),
            },
        };
        let transition = transitions
            .iter()
            .find(|t| t.0 == op)
            .map(|&(_, from, to, _)| Transition { from, to });
        replies.push(Reply {
            verdict,
            state,
            forced,
            generation,
            retry_after: if verdict == Verdict::Rejected {
                retry_after
            } else {
                None
            },
            transition,
            repaired: repaired != 0 && i == 0,
            now_ms,
            requests: if i < outcomes {
                counts[2 * i]
            } else {
                requests
            },
            failures: if i < outcomes {
                counts[2 * i + 1]
            } else {
                failures
            },
        });
    }
    Ok((Exchanged { replies }, missing != 0))
}

/// `{op, from, to, generation, ...}` as `(op, from, to, generation)`.
fn exchange_transitions(
    flat: Vec<redis::Value>,
) -> Result<Vec<(usize, State, State, u64)>, StoreError> {
    use redis::FromRedisValue;
    if !flat.len().is_multiple_of(4) {
        return Err(StoreError::Protocol(format!(
            "{} transition fields, not a multiple of 4",
            flat.len()
        )));
    }
    let mut out = Vec::with_capacity(flat.len() / 4);
    for t in flat.chunks(4) {
        let op = usize::from_redis_value_ref(&t[0]).map_err(protocol)?;
        let from = String::from_redis_value_ref(&t[1]).map_err(protocol)?;
        let to = String::from_redis_value_ref(&t[2]).map_err(protocol)?;
        let generation = u64::from_redis_value_ref(&t[3]).map_err(protocol)?;
        out.push((op, state(&from)?, state(&to)?, generation));
    }
    Ok(out)
}

fn protocol(e: impl std::fmt::Display) -> StoreError {
    StoreError::Protocol(e.to_string())
}
