//! Retry without Redis: backoff bounds, attempts, predicates, the budget, config and the layer.
//! Time is paused (no I/O here), so backoff sleeps cost nothing and can be measured exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use breaker_redis::{CallError, CircuitOpen, Forced, State};
use resilience::retry::{
    AnyError, Backoff, BudgetPolicy, Retry, RetryLayer, RetryPolicy, RetrySettings,
};
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt, service_fn};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[derive(Debug, PartialEq)]
enum DepError {
    Transient(u32),
    Fatal,
}

fn open() -> CircuitOpen {
    CircuitOpen {
        breaker: "dep".into(),
        state: State::Open,
        forced: Forced::None,
        generation: 1,
        retry_after: Some(ms(500)),
    }
}

fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(max_attempts)
        .base_delay(ms(10))
        .max_delay(ms(80))
        .no_budget()
        .seed(42)
        .build()
        .unwrap()
}

#[test]
fn every_delay_is_at_most_its_capped_exponential_ceiling() {
    let (base, max) = (ms(10), ms(1000));
    for seed in 0..50 {
        let backoff = Backoff::new(base, max).with_seed(seed);
        for (n, delay) in backoff.clone().take(40).enumerate() {
            let n = n as u32;
            let exponential = base.saturating_mul(2u32.saturating_pow(n));
            assert_eq!(backoff.ceiling(n), max.min(exponential), "ceiling {n}");
            assert!(
                delay <= backoff.ceiling(n),
                "seed {seed}, delay {n}: {delay:?}"
            );
        }
    }
}

#[test]
fn ceilings_never_decrease_and_never_overflow() {
    let backoff = Backoff::new(ms(1), Duration::from_secs(30)).with_multiplier(3.0);
    let ceilings: Vec<_> = (0..200).map(|n| backoff.ceiling(n)).collect();
    assert!(ceilings.windows(2).all(|w| w[0] <= w[1]), "{ceilings:?}");
    assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(30));
    // A multiplier below 1 would shrink the ceiling: it is taken as 1.
    let flat = Backoff::new(ms(5), ms(50)).with_multiplier(0.5);
    assert_eq!((flat.ceiling(0), flat.ceiling(10)), (ms(5), ms(5)));
}

#[test]
fn a_seed_makes_the_sequence_reproducible_and_the_jitter_is_full() {
    let delays = |seed| {
        Backoff::new(ms(1000), ms(1000))
            .with_seed(seed)
            .take(200)
            .collect::<Vec<_>>()
    };
    assert_eq!(delays(7), delays(7));
    assert_ne!(delays(7), delays(8));
    // Full jitter: values spread over [0, ceiling], not bunched near it.
    let sample = delays(7);
    assert!(sample.iter().any(|d| *d < ms(250)), "{sample:?}");
    assert!(sample.iter().any(|d| *d > ms(750)), "{sample:?}");
}

#[tokio::test(start_paused = true)]
async fn a_failing_call_is_made_max_attempts_times_and_returns_the_last_error() {
    let calls = AtomicU32::new(0);
    let retry = Retry::new(policy(4)).with_predicate(AnyError);
    let started = Instant::now();
    let result: Result<(), _> = retry
        .run(|| async {
            Err(DepError::Transient(
                calls.fetch_add(1, Ordering::SeqCst) + 1,
            ))
        })
        .await;
    assert_eq!(result, Err(DepError::Transient(4)));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    // The sleeps between attempts are the policy's backoff, drawn from its seed (tokio's
    // timer rounds each sleep up to the next millisecond).
    let expected: Duration = policy(4).backoff().take(3).sum();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= expected && elapsed <= expected + ms(3),
        "{elapsed:?} vs {expected:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn one_attempt_means_no_retry_and_success_ends_the_retries() {
    let calls = AtomicU32::new(0);
    let once = Retry::new(policy(1)).with_predicate(AnyError);
    let result: Result<(), _> = once
        .run(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(DepError::Transient(0))
        })
        .await;
    assert!(result.is_err());
    assert_eq!(calls.swap(0, Ordering::SeqCst), 1);

    let retry = Retry::new(policy(5)).with_predicate(AnyError);
    let value = retry
        .run(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(DepError::Transient(0)),
                n => Ok(n),
            }
        })
        .await;
    assert_eq!(value, Ok(2));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn the_predicate_decides_what_is_retried() {
    let calls = AtomicU32::new(0);
    let retry =
        Retry::new(policy(5)).with_predicate(|e: &DepError| matches!(e, DepError::Transient(_)));
    let result: Result<(), _> = retry
        .run(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(DepError::Transient(0)),
                _ => Err(DepError::Fatal),
            }
        })
        .await;
    assert_eq!(result, Err(DepError::Fatal));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "a fatal error is not retried"
    );
}

#[tokio::test(start_paused = true)]
async fn a_circuit_rejection_is_never_retried_even_when_the_predicate_says_yes() {
    let calls = AtomicU32::new(0);
    let retry = Retry::new(policy(5)).retry_if(|_: &CallError<DepError>| true);
    let result: Result<(), _> = retry
        .run(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(CallError::Open(open()))
        })
        .await;
    assert!(matches!(result, Err(CallError::Open(_))));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn the_budget_caps_retries_at_its_ratio_of_first_attempts() {
    let budget = BudgetPolicy {
        ratio: 0.2,
        min_per_sec: 0,
        window: Duration::from_secs(10),
    };
    let policy = RetryPolicy::builder()
        .max_attempts(3)
        .base_delay(ms(1))
        .budget(budget)
        .build()
        .unwrap();
    let retry = Retry::new(policy).with_predicate(AnyError);
    let calls = AtomicU32::new(0);
    for _ in 0..20 {
        let clone = retry.clone(); // clones share the budget
        let _: Result<(), _> = clone
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(DepError::Transient(0))
            })
            .await;
    }
    let retries = calls.load(Ordering::SeqCst) - 20;
    assert!(retries >= 1, "the budget allows some retries");
    assert!(retries <= 4, "20 % of 20 first attempts, got {retries}");
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_allows_no_retry() {
    let budget = BudgetPolicy {
        ratio: 0.0,
        min_per_sec: 0,
        window: Duration::from_secs(1),
    };
    let policy = RetryPolicy::builder().budget(budget).build().unwrap();
    let calls = AtomicU32::new(0);
    let _: Result<(), _> = Retry::new(policy)
        .with_predicate(AnyError)
        .run(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(DepError::Fatal)
        })
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn the_layer_retries_inner_errors_but_not_rejections() {
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let inner = service_fn(move |reject: bool| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            Err::<(), _>(if reject {
                CallError::Open(open())
            } else {
                CallError::Inner(DepError::Transient(0))
            })
        }
    });
    let mut svc = RetryLayer::new(policy(3)).layer(inner);
    let err = svc.ready().await.unwrap().call(false).await.unwrap_err();
    assert!(matches!(err, CallError::Inner(DepError::Transient(0))));
    assert_eq!(calls.swap(0, Ordering::SeqCst), 3);
    let err = svc.ready().await.unwrap().call(true).await.unwrap_err();
    assert!(matches!(err, CallError::Open(_)));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a rejection is not retried"
    );
}

#[test]
fn invalid_policies_name_the_setting() {
    let setting = |b: resilience::retry::RetryPolicyBuilder| b.build().unwrap_err().setting;
    let b = RetryPolicy::builder;
    assert_eq!(setting(b().max_attempts(0)), "max_attempts");
    assert_eq!(
        setting(b().base_delay(ms(500)).max_delay(ms(100))),
        "base_delay"
    );
    assert_eq!(setting(b().multiplier(0.5)), "multiplier");
    assert_eq!(setting(b().multiplier(f64::INFINITY)), "multiplier");
    let budget = |ratio, window| BudgetPolicy {
        ratio,
        min_per_sec: 0,
        window,
    };
    let secs = Duration::from_secs;
    assert_eq!(setting(b().budget(budget(-0.1, secs(10)))), "budget_ratio");
    assert_eq!(
        setting(b().budget(budget(f32::NAN, secs(10)))),
        "budget_ratio"
    );
    assert_eq!(setting(b().budget(budget(0.2, ms(500)))), "budget_window");
    let err = b().max_attempts(0).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid retry configuration: max_attempts: must be at least 1"
    );
}

#[test]
fn settings_read_humantime_durations_and_reject_unknown_fields() {
    let settings: RetrySettings = toml::from_str(
        r#"
        max_attempts = 5
        base_delay = "100ms"
        max_delay = "2s"
        budget_ratio = 0.1
        "#,
    )
    .unwrap();
    let policy = settings.build().unwrap();
    assert_eq!(policy.max_attempts(), 5);
    assert_eq!(
        (policy.base_delay(), policy.max_delay()),
        (ms(100), ms(2000))
    );
    assert_eq!(policy.budget().unwrap().ratio, 0.1);
    // Unset, max_attempts means one attempt: the other settings alone turn nothing on.
    let tuned: RetrySettings = toml::from_str("base_delay = \"50ms\"").unwrap();
    assert_eq!(tuned.build().unwrap().max_attempts(), 1);
    assert_eq!(RetrySettings::default().build().unwrap().max_attempts(), 1);

    let unknown = toml::from_str::<RetrySettings>("attempts = 3");
    assert!(unknown.is_err());
    let invalid: RetrySettings = toml::from_str("max_attempts = 0").unwrap();
    assert_eq!(invalid.build().unwrap_err().setting, "max_attempts");
}
