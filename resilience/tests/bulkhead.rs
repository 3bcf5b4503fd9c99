//! The bulkhead: at most N calls at once, the excess rejected at once or after a bounded wait.
//! No Redis here, so time is paused: waits are measured exactly and cost nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::metrics::{Probe, recorded, value};

use resilience::bulkhead::{Bulkhead, BulkheadFull, BulkheadLayer, BulkheadSettings};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt, service_fn};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn bulkhead(max_concurrent: usize, max_wait: Duration) -> Bulkhead {
    Bulkhead::builder("dep")
        .max_concurrent(max_concurrent)
        .max_wait(max_wait)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_excess_is_rejected_at_once_without_being_called() {
    let bulkhead = bulkhead(2, Duration::ZERO);
    let held = (
        bulkhead.acquire().await.unwrap(),
        bulkhead.acquire().await.unwrap(),
    );
    let called = AtomicUsize::new(0);
    let started = Instant::now();
    let err = bulkhead
        .run(|| async { called.fetch_add(1, Ordering::SeqCst) })
        .await
        .unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(
        err,
        BulkheadFull {
            bulkhead: "dep".into(),
            max_concurrent: 2,
            waited: Duration::ZERO,
        }
    );
    assert_eq!(called.load(Ordering::SeqCst), 0);
    drop(held.0);
    assert_eq!(bulkhead.available(), 1);
    assert!(bulkhead.run(|| async {}).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_bounded_wait_gives_up_after_max_wait() {
    let bulkhead = bulkhead(1, ms(100));
    let _held = bulkhead.acquire().await.unwrap();
    let started = Instant::now();
    let err = bulkhead.run(|| async {}).await.unwrap_err();
    assert_eq!(started.elapsed(), ms(100));
    assert_eq!(err.waited, ms(100));
}

#[tokio::test(start_paused = true)]
async fn a_bounded_wait_gets_a_slot_freed_in_time() {
    let bulkhead = bulkhead(1, ms(100));
    let held = bulkhead.acquire().await.unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(ms(40)).await;
        drop(held);
    });
    let started = Instant::now();
    assert_eq!(bulkhead.run(|| async { 7 }).await.unwrap(), 7);
    assert_eq!(started.elapsed(), ms(40));
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_never_exceed_the_slots() {
    let bulkhead = bulkhead(3, Duration::from_secs(60));
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (bulkhead, now, peak) = (bulkhead.clone(), now.clone(), peak.clone());
            tokio::spawn(async move {
                bulkhead
                    .run(|| async {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        tokio::time::sleep(ms(10)).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap()
            .expect("every call fits within the wait");
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn the_layer_rejects_requests_beyond_the_slots() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let inner = service_fn(move |gate: Option<oneshot::Receiver<()>>| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if let Some(gate) = gate {
                let _ = gate.await;
            }
            Ok::<_, std::io::Error>(())
        }
    });
    let svc = BulkheadLayer::new(bulkhead(1, Duration::ZERO)).layer(inner);
    let (open_gate, gate) = oneshot::channel();
    let in_flight = tokio::spawn(svc.clone().oneshot(Some(gate)));
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let err = svc.clone().oneshot(None).await.unwrap_err();
    assert!(err.is::<BulkheadFull>(), "{err}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the rejected request was not passed on"
    );
    open_gate.send(()).unwrap();
    in_flight.await.unwrap().unwrap();
    let mut svc = svc;
    svc.ready().await.unwrap().call(None).await.unwrap();
}

#[test]
fn rejections_and_in_flight_calls_are_reported() {
    let metric = |probe: &Probe, name| value(&probe.read(), name, ("bulkhead", "metered"));
    recorded(async |probe| {
        let bulkhead = Bulkhead::builder("metered")
            .max_concurrent(2)
            .build()
            .unwrap();
        let held = (
            bulkhead.acquire().await.unwrap(),
            bulkhead.acquire().await.unwrap(),
        );
        assert_eq!(metric(probe, "bulkhead_in_flight"), Some(2.0));
        assert!(bulkhead.acquire().await.is_err());
        assert!(bulkhead.acquire().await.is_err());
        assert_eq!(metric(probe, "bulkhead_rejections_total"), Some(2.0));
        drop(held);
        // A debugging snapshot drains what it reads: this one holds the change since.
        let change = metric(probe, "bulkhead_in_flight").unwrap();
        assert_eq!(2.0 + change, 0.0, "every slot freed");
    });
}

#[test]
fn invalid_settings_name_the_setting() {
    let err = Bulkhead::builder("dep")
        .max_concurrent(0)
        .build()
        .unwrap_err();
    assert_eq!(err.setting, "max_concurrent");
    assert_eq!(Bulkhead::builder("").build().unwrap_err().setting, "name");
    let settings: BulkheadSettings =
        toml::from_str("max_concurrent = 8\nmax_wait = \"50ms\"").unwrap();
    let bulkhead = settings.build("dep").unwrap().unwrap();
    assert_eq!(
        (bulkhead.max_concurrent(), bulkhead.max_wait()),
        (8, ms(50))
    );
    assert!(toml::from_str::<BulkheadSettings>("slots = 8").is_err());
    // No bulkhead unless max_concurrent is set and not 0.
    let unset: BulkheadSettings = toml::from_str("max_wait = \"50ms\"").unwrap();
    assert!(unset.build("dep").unwrap().is_none());
    let zero: BulkheadSettings = toml::from_str("max_concurrent = 0").unwrap();
    assert!(zero.build("dep").unwrap().is_none());
}
