//! Convergence: how long after one replica trips the shared circuit another replica rejects.
//!
//! Two breakers with the same name, each with its own Redis connections (as two processes
//! would have), in one process so that one clock times both. The tripper (strict) records
//! the failure that opens the circuit (`consecutive_failures(1)`); the observer asks to call
//! in a loop and drops its permits (which counts nothing), until it is rejected (see
//! `first_rejection` for how often it asks). A trial's
//! figure runs from just before the tripper sends its failure to the observer's first
//! rejection, so it includes the tripper's own round trip: it is an upper bound.
//!
//! The tripper sends its failure the way `Breaker::call` does (awaited, so at once), or, for
//! `convergence_background_ms`, in the background with nothing after it: an outcome nobody
//! waits for waits for an admission to travel with, at most the lane's linger, so this shows
//! the longest a lone failure's trip is delayed by it.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use breaker_redis::{Admission, Breaker, Config, Outcome, RedisStore, TripPolicy};
use serde_json::{Value, json};

use crate::stats::{Latency, round};

/// Longest an observer polls before a trial fails.
const POLL_LIMIT: Duration = Duration::from_secs(5);

async fn replica(
    redis_url: &str,
    name: &str,
    id: &str,
    admission: Admission,
) -> anyhow::Result<Breaker> {
    let config = Config::builder()
        .trip(TripPolicy::consecutive_failures(1))
        .open_timeout(Duration::from_secs(60))
        .store_timeout(Duration::from_secs(2))
        .admission(admission)
        .build()?;
    let store = RedisStore::connect(redis_url).await?;
    let breaker = Breaker::builder(name)
        .config(config)
        .store(store)
        .replica_id(id)
        .build()?;
    breaker.listening().await;
    Ok(breaker)
}

/// Asks `observer` to call until it rejects; the instant of that rejection. A strict observer
/// asks continuously (each ask is a round trip, so it waits on Redis, not on the CPU); a cached
/// one, whose asks are answered locally, asks whenever its view may have moved (another
/// replica's transition arrived) and at least every millisecond, instead of spinning on a
/// 2-core machine that also runs Redis and the tripper.
async fn first_rejection(observer: Breaker, cached: bool) -> anyhow::Result<Instant> {
    let mut events = observer.events();
    let limit = Instant::now() + POLL_LIMIT;
    while Instant::now() < limit {
        match observer.acquire().await {
            Ok(permit) => drop(permit),
            Err(_) => return Ok(Instant::now()),
        }
        if cached {
            let _ = tokio::time::timeout(Duration::from_millis(1), events.recv()).await;
        }
    }
    bail!("the observer still admitted calls {POLL_LIMIT:?} after the trip")
}

/// Waits until `observer` admits again after a reset.
async fn admits(observer: &Breaker) -> anyhow::Result<()> {
    let limit = Instant::now() + POLL_LIMIT;
    while observer.acquire().await.is_err() {
        if Instant::now() > limit {
            bail!("the observer did not see the reset within {POLL_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// `trials` trips seen by an observer with `admission`, the failure sent in the background
/// (`Permit::record_in_background`) or awaited.
async fn trials(
    redis_url: &str,
    admission: Admission,
    trials: usize,
    background: bool,
) -> anyhow::Result<Latency> {
    let kind = match (admission == Admission::Strict, background) {
        (true, false) => "strict",
        (true, true) => "background",
        (false, _) => "cached",
    };
    let name = format!("bench-convergence-{kind}");
    let tripper = replica(redis_url, &name, "tripper", Admission::Strict).await?;
    let observer = replica(redis_url, &name, "observer", admission).await?;
    let mut latency = Latency::new();
    for trial in 0..trials {
        tripper.reset().await.context("resetting the circuit")?;
        admits(&observer).await?;
        // Both views settle; the observer starts polling before the trip.
        tokio::time::sleep(Duration::from_millis(3)).await;
        let cached = admission != Admission::Strict;
        let poller = tokio::spawn(first_rejection(observer.clone(), cached));
        tokio::time::sleep(Duration::from_millis(2)).await;
        let Ok(permit) = tripper.acquire().await else {
            bail!("trial {trial}: the tripper was rejected before the trip");
        };
        let tripped = Instant::now();
        if background {
            permit.record_in_background(Outcome::Failure);
        } else {
            permit.failure().await;
        }
        let rejected = poller.await.context("the observer panicked")??;
        if rejected < tripped {
            bail!("trial {trial}: the observer rejected before the trip");
        }
        latency.record(rejected - tripped);
    }
    tripper.reset().await?;
    Ok(latency)
}

/// `convergence_ms` (a cached observer, the slower case), `convergence_strict_ms` and
/// `convergence_background_ms` (a strict observer, the failure sent in the background).
pub async fn measure(redis_url: &str, n: usize) -> anyhow::Result<(Value, Value, Value)> {
    let figures = |h: &Latency, observer: &str| {
        json!({
            "p50": round(h.ms(0.5), 3),
            "p99": round(h.ms(0.99), 3),
            "max": round(h.ms(1.0), 3),
            "trials": h.len(),
            "observer": observer,
        })
    };
    let cached = trials(redis_url, Admission::cached(), n, false).await?;
    let strict = trials(redis_url, Admission::Strict, n, false).await?;
    let background = trials(redis_url, Admission::Strict, n, true).await?;
    Ok((
        figures(&cached, "cached"),
        figures(&strict, "strict"),
        figures(&background, "strict"),
    ))
}
