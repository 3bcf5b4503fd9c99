//! The tower middleware: the breaker in front of a service, with a classifier.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use breaker_redis::{Breaker, BreakerLayer, CallError, Config, Outcome, State, TripPolicy};
use tower::{Layer, Service, ServiceExt, service_fn};

#[tokio::test]
async fn open_circuit_rejects_without_calling_the_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let inner = service_fn(move |status: u16| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move { Ok::<_, std::io::Error>(status) }
    });
    let cfg = Config::builder()
        .trip(TripPolicy::consecutive_failures(2))
        .build()
        .unwrap();
    let breaker = Breaker::builder("upstream").config(cfg).build().unwrap();
    // An HTTP-like classifier: 5xx is a failure, 404 says nothing about health.
    let layer = BreakerLayer::new(breaker.clone()).with_classifier(
        |r: &Result<u16, std::io::Error>| match r {
            Ok(s) if *s >= 500 => Outcome::Failure,
            Ok(404) => Outcome::Ignored,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        },
    );
    let mut svc = layer.layer(inner);
    for status in [200, 404, 404, 500, 503] {
        assert_eq!(
            svc.ready().await.unwrap().call(status).await.unwrap(),
            status
        );
    }
    // The layer records outcomes in the background.
    test_support::wait_until(
        std::time::Duration::from_secs(5),
        "the circuit to open",
        || async {
            breaker
                .snapshot()
                .await
                .map(|s| s.state == State::Open)
                .unwrap_or(false)
        },
    )
    .await
    .unwrap();
    let err = svc.ready().await.unwrap().call(200).await.unwrap_err();
    assert!(
        matches!(err, CallError::Open(ref open) if open.state == State::Open),
        "{err}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "the rejected request never reached the service"
    );
}

#[tokio::test]
async fn service_errors_pass_through_as_inner() {
    let inner = service_fn(|_: ()| async { Err::<(), _>("boom") });
    let breaker = Breaker::builder("upstream").build().unwrap();
    let mut svc = BreakerLayer::new(breaker).layer(inner);
    let err = svc.ready().await.unwrap().call(()).await.unwrap_err();
    assert_eq!(err.into_inner(), Some("boom"));
}
