//! How replicas learn of each other's transitions: one pub/sub subscriber per store, a
//! keepalive that notices a dead subscription, a catch-up from the history stream after every
//! resubscribe, and identities that do not depend on the configured replica id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use breaker_redis::{
    Admission, Breaker, Clock, Config, ManualClock, RedisStore, Scope, State, StateChange,
    TripPolicy,
};
use test_support::{ChaosProxy, RedisServer, wait_until};
use tokio::sync::broadcast;

use common::{T0, command, config, ms, redis_store, run, secs};

async fn replica(url: &str, cfg: &Config, clock: &Clock, id: &str) -> Breaker {
    let store = redis_store(url).await; // a connection of its own, as another process has
    Breaker::builder("svc")
        .config(cfg.clone())
        .store(store)
        .clock(clock.clone())
        .replica_id(id)
        .build()
        .unwrap()
}

async fn pubsub_clients(server: &RedisServer) -> usize {
    let list: String = command(server, &["CLIENT", "LIST", "TYPE", "pubsub"]).await;
    list.lines().filter(|l| !l.trim().is_empty()).count()
}

/// The next `n` events of `stream`, failing if they do not all come within the deadline.
async fn next_events(
    stream: &mut broadcast::Receiver<StateChange>,
    n: usize,
    who: &str,
) -> Vec<StateChange> {
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(secs(10), stream.recv()).await {
            Ok(Ok(event)) => out.push(event),
            Ok(Err(e)) => panic!("{who}: event stream failed: {e}"),
            Err(_) => panic!(
                "{who}: {} of {n} events arrived: {:?}",
                out.len(),
                out.iter().map(|e| e.generation).collect::<Vec<_>>()
            ),
        }
    }
    out
}

/// Transitions made while every pub/sub connection is being killed again and again still reach
/// every replica, each exactly once and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_replica_reports_each_transition_once_across_pubsub_kills() {
    let server = RedisServer::start().unwrap();
    let cfg = config().build().unwrap();
    let url = server.url();
    let maker = replica(&url, &cfg, &Clock::Store, "maker").await;
    let mut listeners = Vec::new();
    for id in ["l1", "l2"] {
        listeners.push(replica(&url, &cfg, &Clock::Store, id).await);
    }
    let mut own = maker.events();
    let mut heard: Vec<_> = listeners.iter().map(Breaker::events).collect();
    maker.listening().await;
    for l in &listeners {
        l.listening().await;
    }

    let mut made = Vec::new();
    for i in 0..40 {
        let reply = if i % 2 == 0 {
            maker.force_open().await
        } else {
            maker.reset().await
        };
        made.push(reply.unwrap().generation);
        if i % 3 == 0 {
            let _: redis::Value = command(&server, &["CLIENT", "KILL", "TYPE", "pubsub"]).await;
        }
    }
    // One last transition after the kills: anything duplicated would come before it.
    made.push(maker.reset().await.unwrap().generation);

    let mine = next_events(&mut own, made.len(), "maker").await;
    assert!(mine.iter().all(|e| e.scope == Scope::Shared));
    let gens: Vec<u64> = mine.iter().map(|e| e.generation).collect();
    assert_eq!(gens, made, "the maker reports its own transitions once");
    for (i, stream) in heard.iter_mut().enumerate() {
        let events = next_events(stream, made.len(), &format!("listener {i}")).await;
        let gens: Vec<u64> = events.iter().map(|e| e.generation).collect();
        assert_eq!(gens, made, "listener {i}: every transition once, in order");
        assert!(
            events
                .iter()
                .all(|e| e.scope == Scope::Remote && e.origin == "maker")
        );
        assert!(stream.try_recv().is_err(), "listener {i}: nothing more");
    }
}

fn cached_for_an_hour() -> Config {
    config()
        .trip(TripPolicy::consecutive_failures(1))
        .admission(Admission::Cached {
            flush_interval: Duration::from_millis(5),
            max_batch: 64,
            max_staleness: Duration::from_secs(3600),
        })
        .build()
        .unwrap()
}

/// A killed subscription that cannot come back stops the cached view from admitting: another
/// replica's trip is then learnt from Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_admission_stops_trusting_a_killed_subscription() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let a = replica(&url, &cached_for_an_hour(), &Clock::Store, "a").await;
    let strict = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let b = replica(&url, &strict, &Clock::Store, "b").await;
    a.listening().await;
    run(&a, "S").await; // the view is fresh for an hour while the subscription lives
    let _: String = command(
        &server,
        &["ACL", "SETUSER", "default", "-subscribe", "-psubscribe"],
    )
    .await;
    let _: redis::Value = command(&server, &["CLIENT", "KILL", "TYPE", "pubsub"]).await;
    run(&b, "F").await;
    wait_until(secs(10), "a to learn that the circuit is open", || async {
        // Dropped without a record: nothing is counted, no batch renews the view.
        a.acquire().await.is_err()
    })
    .await
    .unwrap();
}

/// A pub/sub connection that stalls without closing is noticed by the keepalive: cached
/// admission stops trusting it and asks Redis (which, stalled too, degrades the replica).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscription_is_noticed_by_the_keepalive() {
    let server = RedisServer::start().unwrap();
    let proxy = ChaosProxy::for_server(&server).await.unwrap();
    let a = replica(&proxy.url(), &cached_for_an_hour(), &Clock::Store, "a").await;
    a.listening().await;
    run(&a, "S").await;
    proxy.blackhole();
    wait_until(
        secs(20),
        "the stalled subscription to be noticed",
        || async {
            drop(a.acquire().await);
            a.is_degraded()
        },
    )
    .await
    .unwrap();
}

/// Two processes configured with the same replica id still hold distinct trial permits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_one_configured_id_admit_exactly_max_requests_trials() {
    let server = RedisServer::start().unwrap();
    let clock = Clock::Manual(ManualClock::new(T0));
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(2)
        .build()
        .unwrap();
    let url = server.url();
    let tripper = replica(&url, &cfg, &clock, "other").await;
    let twins = [
        replica(&url, &cfg, &clock, "twin").await,
        replica(&url, &cfg, &clock, "twin").await,
    ];
    run(&tripper, "F").await;
    if let Clock::Manual(c) = &clock {
        c.advance(secs(10));
    }
    let mut held = Vec::new();
    for _ in 0..4 {
        for t in &twins {
            held.extend(t.acquire().await.ok());
        }
    }
    assert_eq!(held.len(), 2, "exactly max_requests trial calls");
    assert!(held.iter().all(|p| p.state() == State::HalfOpen));
}

/// Two processes configured with the same replica id hear each other's transitions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_one_configured_id_hear_each_other() {
    let server = RedisServer::start().unwrap();
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let url = server.url();
    let a = replica(&url, &cfg, &Clock::Store, "twin").await;
    let b = replica(&url, &cfg, &Clock::Store, "twin").await;
    let mut heard_by_b = b.events();
    b.listening().await;
    run(&a, "F").await;
    let e = next_events(&mut heard_by_b, 1, "b").await.remove(0);
    assert_eq!(
        (e.to, e.scope, e.origin.as_str()),
        (State::Open, Scope::Remote, "twin")
    );
}

/// Every breaker built on one store, and on its clones, shares one pub/sub connection; a
/// dropped breaker unsubscribes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakers_on_one_store_share_one_pubsub_connection() {
    let server = RedisServer::start().unwrap();
    let store: RedisStore = redis_store(&server.url()).await;
    let cfg = config().build().unwrap();
    let mut fleet = Vec::new();
    for i in 0..6 {
        let b = Breaker::builder(format!("svc-{}", i % 3))
            .config(cfg.clone())
            .store(store.clone())
            .build()
            .unwrap();
        fleet.push(b);
    }
    for b in &fleet {
        b.listening().await;
    }
    assert_eq!(pubsub_clients(&server).await, 1);
    let subscribers = |channel: &'static str| {
        let server = &server;
        async move {
            let (_, n): (String, u64) = command(server, &["PUBSUB", "NUMSUB", channel]).await;
            n
        }
    };
    assert_eq!(subscribers("breaker:{svc-0}:events").await, 1);
    fleet.retain(|b| b.name() != "svc-0");
    wait_until(secs(5), "the dropped breakers to unsubscribe", || async {
        subscribers("breaker:{svc-0}:events").await == 0
    })
    .await
    .unwrap();
    assert_eq!(subscribers("breaker:{svc-1}:events").await, 1);
}

/// Every transition is appended to a capped stream beside the state, with a TTL, readable
/// without any service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_are_kept_in_the_history_stream() {
    let server = RedisServer::start().unwrap();
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let b = replica(&server.url(), &cfg, &Clock::Store, "r1").await;
    run(&b, "F").await;
    b.reset().await.unwrap();
    let entries: Vec<(String, HashMap<String, String>)> =
        command(&server, &["XRANGE", "breaker:{svc}:history", "-", "+"]).await;
    assert_eq!(entries.len(), 2);
    let (first, second) = (&entries[0].1, &entries[1].1);
    for field in [
        "breaker",
        "from",
        "to",
        "forced",
        "generation",
        "reason",
        "origin",
        "at_ms",
        "instance",
    ] {
        assert!(first.contains_key(field), "field {field}");
    }
    assert_eq!(
        (first["from"].as_str(), first["to"].as_str()),
        ("closed", "open")
    );
    assert_eq!(first["origin"], "r1");
    assert_eq!(second["reason"], "reset");
    assert_ne!(
        first["instance"], "r1",
        "the instance id is not the configured id"
    );
    let ttl: i64 = command(&server, &["PTTL", "breaker:{svc}:history"]).await;
    assert!(ttl > 0, "the history expires with the breaker: {ttl}");
}

/// The history keeps about the last thousand transitions, however many there were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_stream_is_capped() {
    let server = RedisServer::start().unwrap();
    let b = replica(
        &server.url(),
        &config().build().unwrap(),
        &Clock::Store,
        "r1",
    )
    .await;
    let mut last_made = 0;
    for _ in 0..700 {
        b.force_open().await.unwrap();
        last_made = b.reset().await.unwrap().generation;
    }
    let len: u64 = command(&server, &["XLEN", "breaker:{svc}:history"]).await;
    assert!((1000..1200).contains(&len), "{len} entries kept of 1400");
    let last: Vec<(String, HashMap<String, String>)> = command(
        &server,
        &["XREVRANGE", "breaker:{svc}:history", "+", "-", "COUNT", "1"],
    )
    .await;
    assert_eq!(
        last[0].1["generation"],
        last_made.to_string(),
        "the newest are kept"
    );
}

/// A transition whose script reply never reached the replica that made it (the store timeout
/// fired while Redis was still answering) is still reported by that replica, once: from its
/// published copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_whose_reply_was_lost_is_still_reported_once() {
    let server = RedisServer::start().unwrap();
    let proxy = ChaosProxy::for_server(&server).await.unwrap();
    let cfg = Config::builder()
        .trip(TripPolicy::consecutive_failures(1))
        .store_timeout(ms(150))
        .build()
        .unwrap();
    let breaker = replica(&proxy.url(), &cfg, &Clock::Store, "maker").await;
    breaker.listening().await;
    let mut events = breaker.events();
    let permit = breaker.acquire().await.unwrap();

    // Each way takes 400 ms: the record reaches Redis after the caller gave up on it.
    proxy.set_delay(ms(400));
    permit.failure().await;
    wait_until(
        secs(10),
        "the failure to open the circuit in Redis",
        || async {
            let state: Option<String> = command(&server, &["HGET", "breaker:{svc}", "state"]).await;
            state.as_deref() == Some("open")
        },
    )
    .await
    .expect("the failure reached Redis and opened the circuit");
    let generation: u64 = command(&server, &["HGET", "breaker:{svc}", "generation"]).await;

    let shared = loop {
        let event = next_events(&mut events, 1, "maker").await.remove(0);
        if event.scope == Scope::Shared {
            break event;
        }
        // The local breaker counts the failure Redis did not confirm, and may trip too.
        assert_eq!(event.scope, Scope::Local, "{event:?}");
    };
    assert_eq!((shared.to, shared.generation), (State::Open, generation));

    // Reported once: a later transition is the next shared event this replica sees.
    proxy.restore();
    wait_until(secs(10), "Redis to answer again", || async {
        breaker.snapshot().await.is_ok()
    })
    .await
    .expect("Redis reachable again");
    breaker.reset().await.unwrap();
    let next = loop {
        let event = next_events(&mut events, 1, "maker").await.remove(0);
        if event.scope != Scope::Local {
            break event;
        }
    };
    assert_eq!(next.generation, generation + 1, "{next:?}");
}
