//! The metrics a breaker reports through the `metrics` facade.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use breaker_redis::{Breaker, Config, TripPolicy};
use common::metrics::{recorded, value};

#[test]
fn calls_rejections_transitions_and_state_are_counted() {
    let probe = recorded(async |_| {
        let cfg = Config::builder()
            .trip(TripPolicy::consecutive_failures(2))
            .build()
            .unwrap();
        let b = Breaker::builder("metered").config(cfg).build().unwrap();
        b.acquire().await.unwrap().success().await;
        b.acquire().await.unwrap().failure().await;
        b.acquire().await.unwrap().failure().await;
        assert!(b.acquire().await.is_err());
    });
    let m = probe.read();
    assert_eq!(
        value(&m, "breaker_calls_total", ("outcome", "success")),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "breaker_calls_total", ("outcome", "failure")),
        Some(2.0)
    );
    assert_eq!(
        value(&m, "breaker_rejections_total", ("breaker", "metered")),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "breaker_transitions_total", ("to", "open")),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "breaker_state", ("breaker", "metered")),
        Some(1.0),
        "1 = open"
    );
}
