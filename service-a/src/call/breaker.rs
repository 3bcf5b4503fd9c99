//! The breaker step of the stack: each attempt asks the shared breaker, is recorded by it, and
//! carries the circuit as it saw it into the answer (the `breaker` object: the state,
//! generation and override the call was admitted or rejected under).
//!
//! breaker-redis's `BreakerLayer` admits and records the same way but cannot hand the permit's
//! view to the answer, which this service's clients see; hence this small step of its own.

use std::task::{Context, Poll};
use std::time::Instant;

use breaker_redis::{Breaker, CircuitOpen, Forced, Outcome, Permit, State as CircuitState};
use futures_util::future::BoxFuture;
use resilience::time_limit::Elapsed;
use serde::Serialize;
use serde_json::Value;
use tower::{BoxError, Layer, Service};
use tracing::debug;

use super::count;
use crate::upstream::UpstreamError;

/// The `breaker` object of every answer: the circuit as the call saw it.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct BreakerInfo {
    name: &'static str,
    state: CircuitState,
    /// The generation the call was admitted or rejected under.
    generation: u64,
    /// `none`, or the operator's override (`open`, `closed`, `disabled`).
    forced: Forced,
}

/// B's good answer.
#[derive(Debug, Clone)]
pub(crate) struct Success {
    pub(crate) body: Value,
    pub(crate) info: Option<BreakerInfo>,
    /// True when the body is B's last good answer, served in place of a failure.
    pub(crate) fallback: bool,
}

/// How one attempt went wrong. A rejection's [`CircuitOpen`] is its `source()`, so the retry
/// finds it through any boxing and never retries it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AttemptError {
    /// The breaker rejected the attempt; B was not called.
    #[error("{open}")]
    Rejected {
        #[source]
        open: CircuitOpen,
        info: BreakerInfo,
    },
    /// B's answer was not a good one.
    #[error("{error}")]
    Answered {
        error: UpstreamError,
        info: Option<BreakerInfo>,
    },
}

impl AttemptError {
    /// The circuit as the attempt saw it; `None` without a breaker.
    pub(crate) fn info(&self) -> Option<BreakerInfo> {
        match self {
            AttemptError::Rejected { info, .. } => Some(*info),
            AttemptError::Answered { info, .. } => *info,
        }
    }
}

/// Puts [`BreakerStep`] in a stack; `None` (`BREAKER_BACKEND=none`) calls B unprotected.
#[derive(Debug, Clone)]
pub(crate) struct BreakerStepLayer(pub(crate) Option<Breaker>);

impl<S> Layer<S> for BreakerStepLayer {
    type Service = BreakerStep<S>;

    fn layer(&self, inner: S) -> BreakerStep<S> {
        BreakerStep {
            inner,
            breaker: self.0.clone(),
        }
    }
}

/// The breaker around one time-limited attempt. Its error is a boxed [`AttemptError`].
#[derive(Debug, Clone)]
pub(crate) struct BreakerStep<S> {
    inner: S,
    breaker: Option<Breaker>,
}

impl<S, Req> Service<Req> for BreakerStep<S>
where
    S: Service<Req, Response = Value, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
    Req: Send + 'static,
{
    type Response = Success;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Success, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // The instance that was polled ready is the one to call; keep a fresh clone here.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let breaker = self.breaker.clone();
        Box::pin(async move {
            match breaker {
                Some(breaker) => attempt(&breaker, inner, req).await,
                None => unprotected(inner, req).await,
            }
            .map_err(BoxError::from)
        })
    }
}

async fn attempt<S, Req>(breaker: &Breaker, mut inner: S, req: Req) -> Result<Success, AttemptError>
where
    S: Service<Req, Response = Value, Error = BoxError>,
{
    let permit = match breaker.acquire().await {
        Ok(permit) => permit,
        Err(open) => return Err(rejected(breaker, open)),
    };
    let info = admitted(breaker, &permit);
    let started = Instant::now();
    let answer = answer(inner.call(req).await);
    // A failure is counted before this returns, so that the next attempt's admission already
    // sees it (retries cannot slip past the failure that trips the circuit); a success goes to
    // Redis in the background, sparing the answer a second round trip.
    permit.finish(outcome(&answer)).await;
    count(label(&answer));
    debug!(result = label(&answer), state = %info.state, generation = info.generation,
        elapsed = ?started.elapsed(), "called service-b");
    settle(answer, Some(info))
}

async fn unprotected<S, Req>(mut inner: S, req: Req) -> Result<Success, AttemptError>
where
    S: Service<Req, Response = Value, Error = BoxError>,
{
    let answer = answer(inner.call(req).await);
    count(label(&answer));
    debug!(
        result = label(&answer),
        "called service-b without a breaker"
    );
    settle(answer, None)
}

/// B's answer; the time limit's [`Elapsed`] is a timeout like any other.
fn answer(result: Result<Value, BoxError>) -> Result<Value, UpstreamError> {
    result.map_err(|e| {
        if e.is::<Elapsed>() {
            return UpstreamError::TimedOut;
        }
        match e.downcast::<UpstreamError>() {
            Ok(error) => *error,
            Err(e) => UpstreamError::Failed {
                status: None,
                detail: format!("the call to service-b failed: {e}"),
            },
        }
    })
}

/// What the answer tells the breaker: a refusal (a 4xx) says nothing about B's health.
fn outcome(answer: &Result<Value, UpstreamError>) -> Outcome {
    match answer {
        Ok(_) => Outcome::Success,
        Err(UpstreamError::Refused(_)) => Outcome::Ignored,
        Err(_) => Outcome::Failure,
    }
}

fn label(answer: &Result<Value, UpstreamError>) -> &'static str {
    answer.as_ref().map_or_else(UpstreamError::label, |_| "ok")
}

fn settle(
    answer: Result<Value, UpstreamError>,
    info: Option<BreakerInfo>,
) -> Result<Success, AttemptError> {
    match answer {
        Ok(body) => Ok(Success {
            body,
            info,
            fallback: false,
        }),
        Err(error) => Err(AttemptError::Answered { error, info }),
    }
}

fn admitted(breaker: &Breaker, permit: &Permit) -> BreakerInfo {
    BreakerInfo {
        name: static_name(breaker),
        state: permit.state(),
        generation: permit.generation(),
        forced: permit.forced(),
    }
}

fn rejected(breaker: &Breaker, open: CircuitOpen) -> AttemptError {
    count("rejected");
    debug!(state = %open.state, forced = open.forced.as_str(), retry_after = ?open.retry_after, "call rejected by the breaker");
    let info = BreakerInfo {
        name: static_name(breaker),
        state: open.state,
        generation: open.generation,
        forced: open.forced,
    };
    AttemptError::Rejected { open, info }
}

/// The service has one breaker, built under [`BREAKER_NAME`](crate::state::BREAKER_NAME).
fn static_name(_: &Breaker) -> &'static str {
    crate::state::BREAKER_NAME
}
