//! The contract cases; `contract.rs` runs each on every store.

use breaker_redis::{Forced, Outcome, Scope, State, TripPolicy};
use std::collections::HashSet;
use test_support::wait_until;

use crate::common::{Env, T0, config, ms, run, secs};

pub async fn default_config_trips_like_service_a(env: Env) {
    let b = env.breaker(
        &env.name("svc"),
        breaker_redis::Config::builder()
            .store_timeout(secs(2))
            .build()
            .unwrap(),
    );
    // 1 of 3 failed: below 60 %.
    run(&b, "FSS").await;
    run(&b, "F").await; // 2 of 4: 50 %, still closed
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    env.advance(secs(5)); // the 5 s interval restarts the counts
    run(&b, "SF").await; // 1 of 2: fewer than 3 requests
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    run(&b, "F").await; // 2 of 3 = 67 % >= 60 %
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.state, snap.generation), (State::Open, T0 + 1));
    assert_eq!(b.acquire().await.unwrap_err().retry_after, Some(secs(10)));
}

pub async fn open_rejects_until_timeout_then_limits_trials(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(3)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    run(&b, "F").await;
    env.advance(secs(4));
    let rejected = b.acquire().await.unwrap_err();
    assert_eq!(
        (rejected.state, rejected.retry_after),
        (State::Open, Some(secs(6)))
    );
    env.advance(secs(6));
    let mut permits = Vec::new();
    for _ in 0..3 {
        let p = b.acquire().await.expect("trial permit");
        assert_eq!(p.state(), State::HalfOpen);
        permits.push(p);
    }
    let full = b.acquire().await.unwrap_err();
    assert_eq!(full.state, State::HalfOpen);
    assert_eq!(full.retry_after, Some(secs(1)), "a tenth of the lease");
    let snap = b.snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.in_flight, snap.generation),
        (State::HalfOpen, 3, T0 + 2)
    );
    for p in permits {
        p.success().await;
    }
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
}

pub async fn trial_successes_close_and_a_failure_reopens(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(2))
        .max_requests(3)
        .success_threshold(2)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    run(&b, "FF").await;
    env.advance(secs(10));
    run(&b, "S").await;
    assert_eq!(b.snapshot().await.unwrap().state, State::HalfOpen);
    run(&b, "F").await;
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.state, snap.generation), (State::Open, T0 + 3));
    env.advance(secs(10));
    run(&b, "SS").await;
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.state, snap.generation), (State::Closed, T0 + 5));
}

pub async fn stale_outcome_changes_nothing(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    let slow = b.acquire().await.unwrap(); // admitted while closed, generation 0
    run(&b, "F").await;
    env.advance(secs(10));
    let trial = b.acquire().await.unwrap();
    assert_eq!(trial.state(), State::HalfOpen);
    let before = b.snapshot().await.unwrap();
    slow.failure().await; // a late failure from generation 0 must not reopen the circuit
    assert_eq!(b.snapshot().await.unwrap(), before);
    trial.success().await;
    assert_eq!(b.snapshot().await.unwrap().half_open_successes, 1);
}

pub async fn dropped_permit_frees_its_lease(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(1)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    run(&b, "F").await;
    env.advance(secs(10));
    let trial = b.acquire().await.unwrap();
    assert!(b.acquire().await.is_err(), "the only trial permit is taken");
    drop(trial); // a cancelled call: its lease is freed in the background
    wait_until(
        secs(5),
        "the dropped permit's lease to be freed",
        || async {
            b.snapshot()
                .await
                .map(|s| s.in_flight == 0)
                .unwrap_or(false)
        },
    )
    .await
    .unwrap();
    let snap = b.snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.half_open_successes),
        (State::HalfOpen, 0),
        "a dropped permit counts nothing"
    );
    run(&b, "S").await;
    assert_eq!(
        b.snapshot().await.unwrap().state,
        State::Closed,
        "the freed permit was usable"
    );
}

pub async fn expired_lease_frees_its_slot(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(1)
        .lease(secs(3))
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    run(&b, "F").await;
    env.advance(secs(10));
    let crashed = b.acquire().await.unwrap();
    std::mem::forget(crashed); // a replica that died mid-call never records nor releases
    env.advance(ms(2999));
    assert!(b.acquire().await.is_err());
    env.advance(ms(1));
    let trial = b
        .acquire()
        .await
        .expect("the crashed holder's lease has expired");
    trial.success().await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
}

pub async fn forced_states_apply_to_every_replica(env: Env) {
    let name = env.name("svc");
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let (a, b) = (env.breaker(&name, cfg.clone()), env.breaker(&name, cfg));
    let applied = a.force_open().await.unwrap();
    assert_eq!((applied.state, applied.forced), (State::Open, Forced::Open));
    env.advance(secs(3600));
    let rejected = b.acquire().await.unwrap_err();
    assert_eq!(
        (rejected.forced, rejected.retry_after),
        (Forced::Open, None)
    );

    a.force_closed().await.unwrap();
    run(&b, "FFF").await; // never trips
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);

    a.disable().await.unwrap();
    run(&b, "FF").await;
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.forced, snap.failures), (Forced::Disabled, 0));

    a.reset().await.unwrap();
    let snap = b.snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.forced, snap.generation),
        (State::Closed, Forced::None, T0 + 4)
    );
    run(&b, "F").await;
    assert_eq!(a.snapshot().await.unwrap().state, State::Open);
}

pub async fn fixed_window_restarts_counts(env: Env) {
    let cfg = config()
        .trip(TripPolicy::failure_count(3))
        .interval(secs(5))
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    run(&b, "FF").await;
    env.advance(ms(4999));
    assert_eq!(b.snapshot().await.unwrap().failures, 2);
    env.advance(ms(1));
    assert_eq!(
        b.snapshot().await.unwrap().failures,
        0,
        "the interval has passed"
    );
    run(&b, "F").await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    run(&b, "FF").await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Open);
}

pub async fn rolling_window_forgets_old_buckets(env: Env) {
    let cfg = config()
        .trip(TripPolicy::failure_count(3))
        .rolling_window(secs(10), 10)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    run(&b, "F").await; // bucket 0
    env.advance(secs(5));
    run(&b, "SF").await; // bucket 5
    env.advance(ms(5500)); // bucket 10: bucket 0 has left the window
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.requests, snap.failures), (2, 1));
    run(&b, "F").await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    run(&b, "F").await; // failures at 5 s, 10.5 s, 10.5 s: three within 10 s
    assert_eq!(b.snapshot().await.unwrap().state, State::Open);
}

pub async fn seed_consecutive_failures_with_two_successes_to_close(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(3))
        .open_timeout(secs(5))
        .success_threshold(2)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("user-order"), cfg);
    run(&b, "FFSFF").await; // a success ends the run
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    run(&b, "F").await;
    assert_eq!(b.acquire().await.unwrap_err().retry_after, Some(secs(5)));
    env.advance(secs(5));
    run(&b, "SS").await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
}

pub async fn seed_failure_count_within_30s(env: Env) {
    let cfg = config()
        .trip(TripPolicy::failure_count(3))
        .interval(secs(30))
        .open_timeout(secs(30))
        .build()
        .unwrap();
    let b = env.breaker(&env.name("discovery-users"), cfg);
    run(&b, "F").await;
    env.advance(secs(20));
    run(&b, "SFS").await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    run(&b, "F").await;
    assert_eq!(b.acquire().await.unwrap_err().retry_after, Some(secs(30)));
}

pub async fn seed_more_than_half_in_rolling_window(env: Env) {
    let cfg = config()
        .trip(TripPolicy::failure_ratio_above(0.5, 2))
        .rolling_window(secs(10), 10)
        .open_timeout(secs(30))
        .max_requests(1)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("gateway-payment"), cfg);
    run(&b, "FS").await; // exactly 50 %: not more than half
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    run(&b, "F").await; // 2 of 3
    assert_eq!(b.acquire().await.unwrap_err().retry_after, Some(secs(30)));
    env.advance(secs(30));
    let trial = b.acquire().await.unwrap();
    assert!(b.acquire().await.is_err(), "one trial call at a time");
    trial.success().await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
}

pub async fn event_stream_reports_this_and_other_replicas_transitions(env: Env) {
    use futures_util::StreamExt;
    let name = env.name("svc");
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let (a, b) = (env.breaker(&name, cfg.clone()), env.breaker(&name, cfg));
    let mut seen_by_b = Box::pin(b.event_stream());
    b.listening().await;
    run(&a, "F").await;
    let e = tokio::time::timeout(secs(5), seen_by_b.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.to, e.scope, e.origin.as_str()),
        (State::Open, Scope::Remote, a.replica_id())
    );
    b.reset().await.unwrap();
    let e = tokio::time::timeout(secs(5), seen_by_b.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.from, e.to, e.scope),
        (State::Open, State::Closed, Scope::Shared)
    );
}

pub async fn names_do_not_share_state(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let (a, b) = (
        env.breaker(&env.name("a"), cfg.clone()),
        env.breaker(&env.name("b"), cfg),
    );
    run(&a, "F").await;
    assert_eq!(a.snapshot().await.unwrap().state, State::Open);
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.state, snap.generation), (State::Closed, T0));
    run(&b, "S").await;
}

pub async fn joining_replica_keeps_shared_state(env: Env) {
    let name = env.name("svc");
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let first = env.breaker(&name, cfg.clone());
    run(&first, "F").await;
    let before = first.snapshot().await.unwrap();
    let joined = env.breaker(&name, cfg);
    assert_eq!(joined.acquire().await.unwrap_err().state, State::Open);
    assert_eq!(joined.snapshot().await.unwrap(), before);
}

pub async fn concurrent_failures_make_one_transition(env: Env) {
    let name = env.name("svc");
    let cfg = config().trip(TripPolicy::failure_count(5)).build().unwrap();
    let replicas: Vec<_> = (0..8).map(|_| env.breaker(&name, cfg.clone())).collect();
    let mut streams: Vec<_> = replicas.iter().map(|r| r.events()).collect();
    for r in &replicas {
        r.listening().await;
    }
    let mut permits = Vec::new();
    for r in &replicas {
        for _ in 0..4 {
            permits.push(r.acquire().await.unwrap());
        }
    }
    let tasks: Vec<_> = permits
        .into_iter()
        .map(|p| tokio::spawn(p.failure()))
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let snap = replicas[0].snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.generation),
        (State::Open, T0 + 1),
        "32 failures, one transition"
    );
    let mut shared = 0;
    for stream in &mut streams {
        let event = tokio::time::timeout(secs(5), stream.recv())
            .await
            .expect("every replica hears of it")
            .unwrap();
        assert_eq!(
            (event.from, event.to, event.generation),
            (State::Closed, State::Open, T0 + 1)
        );
        shared += usize::from(event.scope == Scope::Shared);
    }
    assert_eq!(shared, 1, "exactly one replica made the transition");
    let origins: HashSet<_> = replicas.iter().map(|r| r.replica_id().to_owned()).collect();
    assert_eq!(origins.len(), 8);
}

pub async fn slow_successes_count_as_failures(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .slow_call_threshold(Some(ms(20)))
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    let fast = b.call(|| async { Ok::<_, ()>(1) }).await;
    assert!(fast.is_ok());
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
    let slow = b
        .call(|| async {
            tokio::time::sleep(ms(60)).await; // the protected call itself is slow
            Ok::<_, ()>(2)
        })
        .await;
    assert_eq!(slow.ok(), Some(2), "the caller still gets its result");
    // call() records in the background.
    wait_until(secs(5), "the slow call to open the circuit", || async {
        b.snapshot()
            .await
            .map(|s| s.state == State::Open)
            .unwrap_or(false)
    })
    .await
    .unwrap();
}

pub async fn snapshot_reports_window_counts(env: Env) {
    let cfg = config()
        .trip(TripPolicy::failure_count(10))
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    run(&b, "SFFSF").await;
    let snap = b.snapshot().await.unwrap();
    assert_eq!(
        (snap.requests, snap.failures, snap.consecutive_failures),
        (5, 3, 1)
    );
    assert_eq!(snap.now_ms, crate::common::T0);
}

pub async fn ignored_outcome_counts_nothing(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(1)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    b.acquire().await.unwrap().record(Outcome::Ignored).await;
    assert_eq!(b.snapshot().await.unwrap().requests, 0);
    run(&b, "F").await;
    env.advance(secs(10));
    b.acquire().await.unwrap().record(Outcome::Ignored).await;
    let snap = b.snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.in_flight, snap.half_open_successes),
        (State::HalfOpen, 0, 0)
    );
    run(&b, "S").await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
}
