//! A circuit's rejection is never retried, even when middleware between the retry and the
//! breaker boxed it: tower's `Timeout` and `Buffer` turn the breaker's `CallError` into a
//! `BoxError`, and the retry predicate must find the `CircuitOpen` through it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use breaker_redis::{Breaker, BreakerLayer, CallError, CircuitOpen};
use resilience::retry::{Rejection, RetryLayer, RetryPolicy, circuit_open};
use tower::buffer::BufferLayer;
use tower::timeout::TimeoutLayer;
use tower::util::MapRequestLayer;
use tower::{BoxError, ServiceBuilder, ServiceExt};

fn policy() -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(5)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(2))
        .no_budget()
        .build()
        .unwrap()
}

async fn forced_open() -> Breaker {
    let breaker = Breaker::builder("boxed").build().unwrap();
    breaker.force_open().await.unwrap();
    breaker
}

/// Counts the attempts that reach the middleware under the retry.
fn counter(attempts: &Arc<AtomicU32>) -> MapRequestLayer<impl Fn(u32) -> u32 + Clone> {
    let attempts = attempts.clone();
    MapRequestLayer::new(move |req: u32| {
        attempts.fetch_add(1, Ordering::SeqCst);
        req
    })
}

fn b_is_fine() -> impl tower::Service<
    u32,
    Response = u32,
    Error = io::Error,
    Future = std::future::Ready<Result<u32, io::Error>>,
> + Clone {
    tower::service_fn(|n: u32| std::future::ready(Ok(n)))
}

#[tokio::test]
async fn a_rejection_boxed_by_a_timeout_layer_is_not_retried() {
    let breaker = forced_open().await;
    let attempts = Arc::new(AtomicU32::new(0));
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .layer(counter(&attempts))
        .layer(TimeoutLayer::new(Duration::from_secs(5)))
        .layer(BreakerLayer::new(breaker))
        .service(b_is_fine());
    let err: BoxError = svc.oneshot(1).await.unwrap_err();
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "a rejection was retried"
    );
    assert!(circuit_open(&*err).is_some(), "{err}");
}

#[tokio::test]
async fn a_rejection_boxed_by_a_buffer_layer_is_not_retried() {
    let breaker = forced_open().await;
    let attempts = Arc::new(AtomicU32::new(0));
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .layer(counter(&attempts))
        .layer(BufferLayer::new(8))
        .layer(BreakerLayer::new(breaker))
        .service(b_is_fine());
    let err: BoxError = svc.oneshot(1).await.unwrap_err();
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "a rejection was retried"
    );
    assert!(err.circuit_open().is_some(), "{err}");
}

#[test]
fn the_rejection_is_found_however_deeply_it_is_wrapped() {
    let open = CircuitOpen {
        breaker: "b".into(),
        state: breaker_redis::State::Open,
        forced: breaker_redis::Forced::Open,
        generation: 3,
        retry_after: None,
    };
    let call: BoxError = Box::new(CallError::<io::Error>::Open(open.clone()));
    let wrapped: BoxError = Box::new(Wrapped(call));
    assert_eq!(circuit_open(&*wrapped), Some(&open));
    let inner: BoxError = Box::new(CallError::Inner(io::Error::other("b failed")));
    assert_eq!(circuit_open(&*inner), None);
}

/// Middleware's own error carrying the inner service's boxed error as its source.
#[derive(Debug)]
struct Wrapped(BoxError);

impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wrapped: {}", self.0)
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
