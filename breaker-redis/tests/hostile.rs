//! Redis in hostile states: refusing writes, restarted under a stale connection, with a clock
//! of its own, and callers that give up halfway through a report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use breaker_redis::{Breaker, Clock, Config, ManualClock, State, TripPolicy};
use test_support::{ChaosProxy, RedisServer, wait_until};

use common::{T0, command, ms, options, run, secs};

fn cfg() -> breaker_redis::ConfigBuilder {
    Config::builder()
        .trip(TripPolicy::consecutive_failures(3))
        .open_timeout(secs(60))
        .store_timeout(secs(2))
        .retry_backoff(ms(200))
}

async fn breaker(url: &str, cfg: Config, clock: Clock) -> Breaker {
    Breaker::builder("svc")
        .config(cfg)
        .store(
            breaker_redis::RedisStore::connect_with(url, options())
                .await
                .unwrap(),
        )
        .clock(clock)
        .build()
        .unwrap()
}

/// Makes 400 calls to a dependency that always fails and returns how many reached it.
async fn calls_reaching_a_dead_dependency(b: &Breaker) -> usize {
    let mut reached = 0;
    for _ in 0..400 {
        if let Ok(permit) = b.acquire().await {
            reached += 1;
            permit.failure().await;
        }
    }
    reached
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_out_of_memory_refusing_writes_still_protects_calls() {
    let server = RedisServer::start().unwrap();
    let b = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    run(&b, "S").await; // the state exists: closed admission now only reads it
    command::<redis::Value>(
        &server,
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    )
    .await;
    command::<redis::Value>(&server, &["CONFIG", "SET", "maxmemory", "1"]).await;

    let reached = calls_reaching_a_dead_dependency(&b).await;
    assert!(
        reached <= 6,
        "{reached} of 400 calls reached the failing dependency (3 trip a healthy circuit)"
    );
    assert!(b.is_degraded(), "refused writes count as degraded");

    command::<redis::Value>(&server, &["CONFIG", "SET", "maxmemory", "0"]).await;
    wait_until(secs(15), "the shared store to be used again", || async {
        !b.is_degraded()
    })
    .await
    .unwrap();
}

/// A refused write is a server error, counted under its class (and logged), never mistaken for
/// an unreachable Redis nor dropped silently. (Redis refuses a function that may write before
/// it runs when out of memory, so with functions the refusal comes at the admission; with
/// EVALSHA, at the outcome's write.)
#[test]
fn a_refused_write_is_counted_as_a_server_error() {
    let probe = common::metrics::recorded(async |_| {
        let server = RedisServer::start().unwrap();
        let b = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
        run(&b, "S").await;
        command::<redis::Value>(
            &server,
            &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        )
        .await;
        command::<redis::Value>(&server, &["CONFIG", "SET", "maxmemory", "1"]).await;
        b.acquire().await.unwrap().failure().await;
    });
    let m = probe.read();
    let errors = |class: &str| -> f64 {
        m.iter()
            .filter(|m| {
                m.name == "breaker_store_errors_total"
                    && m.labels.iter().any(|(k, v)| k == "class" && v == class)
            })
            .map(|m| m.value)
            .sum()
    };
    assert_eq!(errors("server"), 1.0, "{m:?}");
    assert_eq!(errors("connection") + errors("timeout"), 0.0, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_user_without_write_rights_still_protects_calls() {
    let server = RedisServer::start().unwrap();
    let setup = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    run(&setup, "S").await;
    command::<redis::Value>(
        &server,
        &[
            "ACL", "SETUSER", "reader", "on", ">secret", "~*", "&*", "+@all", "-@write",
        ],
    )
    .await;
    let url = format!("redis://reader:secret@127.0.0.1:{}/", server.port());
    let b = breaker(&url, cfg().build().unwrap(), Clock::Store).await;
    let reached = calls_reaching_a_dead_dependency(&b).await;
    assert!(
        reached <= 6,
        "{reached} of 400 calls reached the failing dependency"
    );
}

/// A caller cancelled while it awaits its report (a client that hung up) must not take the
/// report with it: the half-open slot is recorded, not held until its lease expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_record_still_frees_the_half_open_slot() {
    let server = RedisServer::start().unwrap();
    let proxy = ChaosProxy::for_server(&server).await.unwrap();
    let clock = ManualClock::new(T0);
    let cfg = cfg()
        .max_requests(1)
        .lease(secs(120))
        .key_ttl(secs(3600))
        .store_timeout(secs(20))
        .build()
        .unwrap();
    let b = breaker(&proxy.url(), cfg, Clock::Manual(clock.clone())).await;
    run(&b, "FFF").await;
    clock.advance(secs(60));
    let trial = b.acquire().await.unwrap();
    assert_eq!(trial.state(), State::HalfOpen);

    // The report cannot reach Redis yet: Redis is stalled and the connection must be made anew.
    server.pause();
    proxy.break_all();
    proxy.restore();
    let report = tokio::time::timeout(ms(300), trial.success()).await;
    assert!(report.is_err(), "the report was still waiting for Redis");
    server.resume();

    wait_until(secs(15), "the trial slot to be free again", || async {
        b.acquire().await.is_ok()
    })
    .await
    .unwrap();
}

/// An idle replica learns that Redis is back without a call of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_breaker_leaves_degraded_mode_when_redis_returns() {
    let mut server = RedisServer::start().unwrap();
    let b = breaker(
        &server.url(),
        cfg().store_timeout(ms(500)).build().unwrap(),
        Clock::Store,
    )
    .await;
    run(&b, "S").await;
    server.kill();
    run(&b, "S").await; // finds Redis gone
    assert!(b.is_degraded());
    server.restart().unwrap();
    wait_until(
        secs(15),
        "the idle breaker to leave degraded mode",
        || async { !b.is_degraded() },
    )
    .await
    .unwrap();
}

/// After a restart the first call finds a dead connection; it must try a fresh one, not
/// degrade and ignore the override the operator set meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_connection_after_a_restart_does_not_degrade_the_next_call() {
    let mut server = RedisServer::start().unwrap();
    let b = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    run(&b, "S").await;
    server.restart().unwrap();
    let operator = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    operator.force_open().await.unwrap();

    let rejected = b
        .acquire()
        .await
        .expect_err("the override set after the restart applies");
    assert_eq!(rejected.forced, breaker_redis::Forced::Open);
    assert!(!b.is_degraded());
}

/// Deadlines come from Redis `TIME`, never from a replica's clock: with the server's clock
/// hours off the client's, the open deadline and the retry-after follow the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_follow_the_server_clock_when_it_is_hours_off() {
    let offset: i64 = -5 * 3600;
    let server = RedisServer::builder().clock_offset(offset).start().unwrap();
    let cfg = cfg()
        .trip(TripPolicy::consecutive_failures(1))
        .open_timeout(secs(60))
        .build()
        .unwrap();
    let b = breaker(&server.url(), cfg, Clock::Store).await;
    run(&b, "F").await;
    let snap = b.snapshot().await.unwrap();
    let client_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let skew = snap.now_ms as i64 - client_ms;
    assert!(
        (skew - offset * 1000).abs() < 60_000,
        "the server's clock is {offset} s off (measured {skew} ms)"
    );
    let deadline_from_server = snap.open_until_ms as i64 - snap.now_ms as i64;
    assert!(
        (0..=60_000).contains(&deadline_from_server),
        "open_until is 60 s after the server's now, not the client's: {deadline_from_server} ms"
    );
    let retry_after = b.acquire().await.unwrap_err().retry_after.unwrap();
    assert!(
        retry_after > secs(30) && retry_after <= secs(60),
        "retry_after follows the server's clock: {retry_after:?}"
    );
}

/// Breakers on one store share its health: one failure degrades them all, and one probe finds
/// the store back for all of them, busy or idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakers_on_one_store_share_its_health() {
    let mut server = RedisServer::start().unwrap();
    let store = breaker_redis::RedisStore::connect_with(&server.url(), options())
        .await
        .unwrap();
    let on_store = |name: &str| {
        Breaker::builder(name)
            .config(cfg().store_timeout(ms(500)).build().unwrap())
            .store(store.clone())
            .build()
            .unwrap()
    };
    let (busy, idle) = (on_store("busy"), on_store("idle"));
    run(&busy, "S").await;
    run(&idle, "S").await;
    server.kill();
    run(&busy, "S").await;
    assert!(
        idle.is_degraded(),
        "the idle breaker knows the store failed without paying a timeout of its own"
    );
    server.restart().unwrap();
    wait_until(secs(15), "both breakers to leave degraded mode", || async {
        !busy.is_degraded() && !idle.is_degraded()
    })
    .await
    .unwrap();
    run(&idle, "S").await;
}
