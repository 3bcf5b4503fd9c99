//! Retry → breaker → time limit → call: the attempts of one request, each asking the breaker
//! and counted by it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use ::resilience::retry::{Predicate, Rejection, Retry, RetryPolicy, UnlessOpen};
use breaker_redis::{Breaker, CircuitOpen, Forced, Permit, State as CircuitState};
use serde::Serialize;
use serde_json::Value;
use tracing::debug;

use super::count;
use crate::app::AppState;
use crate::upstream::Answer;

/// The retries of `/call-service-b`: only B's failures and timeouts, never a rejection.
pub(crate) type CallRetry = Retry<UnlessOpen<Retryable>>;

/// The retry `policy` with its budget (shared by every request of this replica).
pub(crate) fn retry(policy: RetryPolicy) -> CallRetry {
    Retry::new(policy).retry_if(Retryable)
}

/// The `breaker` object of every answer: the circuit as the call saw it.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct BreakerInfo<'a> {
    name: &'a str,
    state: CircuitState,
    /// The generation the call was admitted or rejected under.
    generation: u64,
    /// `none`, or the operator's override (`open`, `closed`, `disabled`).
    forced: Forced,
}

/// B's good answer to the last attempt.
#[derive(Debug)]
pub(super) struct Success<'a> {
    pub(super) body: Value,
    pub(super) info: Option<BreakerInfo<'a>>,
}

/// How the last attempt of a request went wrong.
#[derive(Debug)]
pub(super) enum Failure<'a> {
    /// The breaker rejected it; B was not called.
    Rejected {
        open: CircuitOpen,
        info: BreakerInfo<'a>,
    },
    /// B's answer, anything but [`Answer::Ok`].
    Answered {
        answer: Answer,
        info: Option<BreakerInfo<'a>>,
    },
}

impl<'a> Failure<'a> {
    /// The circuit as the last attempt saw it; `None` without a breaker.
    pub(super) fn info(&self) -> Option<BreakerInfo<'a>> {
        match self {
            Failure::Rejected { info, .. } => Some(*info),
            Failure::Answered { info, .. } => *info,
        }
    }
}

impl Rejection for Failure<'_> {
    fn circuit_open(&self) -> Option<&CircuitOpen> {
        match self {
            Failure::Rejected { open, .. } => Some(open),
            Failure::Answered { .. } => None,
        }
    }
}

/// Worth another attempt: B failed (5xx, 3xx, 408, 429, unreachable, unreadable) or timed out.
/// A refusal (another 4xx) would be refused again; a rejection is excluded by [`UnlessOpen`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Retryable;

impl<'a> Predicate<Failure<'a>> for Retryable {
    fn is_retryable(&self, failure: &Failure<'a>) -> bool {
        matches!(
            failure,
            Failure::Answered {
                answer: Answer::Failed { .. } | Answer::TimedOut,
                ..
            }
        )
    }
}

/// Calls B as `RETRY__*` allows; the result of the last attempt.
pub(super) async fn call(app: &AppState) -> Result<Success<'_>, Failure<'_>> {
    let attempts = AtomicU32::new(0);
    let result = app
        .retry
        .run(|| {
            attempts.fetch_add(1, Ordering::Relaxed);
            once(app)
        })
        .await;
    let retries = attempts.into_inner().saturating_sub(1);
    if retries > 0 {
        metrics::counter!("service_b_retries_total").increment(u64::from(retries));
        debug!(retries, ok = result.is_ok(), "retried service-b");
    }
    result
}

/// One attempt: asks the breaker, calls B within `SERVICE_B_TIMEOUT` (the HTTP client's
/// timeout: a timed-out attempt is one failure), records the outcome.
async fn once(app: &AppState) -> Result<Success<'_>, Failure<'_>> {
    let Some(breaker) = &app.breaker else {
        let answer = app.upstream.hello().await;
        count(answer.label());
        debug!(
            result = answer.label(),
            "called service-b without a breaker"
        );
        return settle(answer, None);
    };
    let permit = match breaker.acquire().await {
        Ok(permit) => permit,
        Err(open) => return Err(rejected(breaker, open)),
    };
    let started = Instant::now();
    let answer = app.upstream.hello().await;
    let elapsed = started.elapsed();
    let info = admitted(breaker, &permit);
    // A failure is counted before this returns, so that the next attempt's admission already
    // sees it (retries cannot slip past the failure that trips the circuit); a success goes to
    // Redis in the background, sparing the answer a second round trip.
    permit.finish(answer.outcome()).await;
    count(answer.label());
    debug!(
        result = answer.label(),
        outcome = ?answer.outcome(),
        state = %info.state,
        generation = info.generation,
        ?elapsed,
        "called service-b"
    );
    settle(answer, Some(info))
}

fn settle(answer: Answer, info: Option<BreakerInfo<'_>>) -> Result<Success<'_>, Failure<'_>> {
    match answer {
        Answer::Ok(body) => Ok(Success { body, info }),
        answer => Err(Failure::Answered { answer, info }),
    }
}

fn admitted<'a>(breaker: &'a Breaker, permit: &Permit) -> BreakerInfo<'a> {
    BreakerInfo {
        name: breaker.name(),
        state: permit.state(),
        generation: permit.generation(),
        forced: permit.forced(),
    }
}

fn rejected(breaker: &Breaker, open: CircuitOpen) -> Failure<'_> {
    count("rejected");
    debug!(state = %open.state, forced = open.forced.as_str(), retry_after = ?open.retry_after, "call rejected by the breaker");
    let info = BreakerInfo {
        name: breaker.name(),
        state: open.state,
        generation: open.generation,
        forced: open.forced,
    };
    Failure::Rejected { open, info }
}
