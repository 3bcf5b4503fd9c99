//! The Lua scripts held to the pure state machine: random operation sequences with injected
//! time go to both, and every reply and snapshot must match. An exchange (several outcomes and
//! admissions in one script) must answer each of them as the machine does one by one. Both
//! forms of the scripts are held to it: the function library, and the EVALSHA scripts that
//! run where Redis has no functions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use breaker_redis::{
    Config, ForceMode, Machine, Outcome, QueuedOutcome, RedisStore, Spec, Store, TripPolicy,
    Verdict,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use test_support::RedisServer;

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    /// Records the permit at this index (modulo the permits held) with this outcome.
    Record(usize, Outcome),
    /// Records a permit made up with a generation this far below the current one (or one
    /// above it, for 0), admitted this long ago (ms).
    Forged(u64, u64, Outcome),
    /// Records a batch of closed-state outcomes under the current generation (or the one before).
    Batch(bool, Vec<Outcome>),
    Advance(u64),
    Force(ForceMode),
    /// One exchange: the outcomes of these held permits (by index, as `Record`), then this
    /// many admissions.
    Exchange(Vec<(usize, Outcome)>, usize),
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![3 => Just(Outcome::Success), 3 => Just(Outcome::Failure), 1 => Just(Outcome::Ignored)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Acquire),
        6 => (any::<usize>(), outcome()).prop_map(|(i, o)| Op::Record(i, o)),
        1 => (0u64..4, prop_oneof![Just(0u64), Just(1000), Just(6000), Just(20_000)], outcome())
            .prop_map(|(g, ago, o)| Op::Forged(g, ago, o)),
        2 => (any::<bool>(), proptest::collection::vec(prop_oneof![Just(Outcome::Success), Just(Outcome::Failure)], 0..8))
            .prop_map(|(current, outcomes)| Op::Batch(current, outcomes)),
        3 => prop_oneof![Just(1u64), Just(499), Just(1000), Just(2500), Just(5000), Just(10_000)].prop_map(Op::Advance),
        1 => prop_oneof![Just(ForceMode::Open), Just(ForceMode::Closed), Just(ForceMode::Disabled), Just(ForceMode::Reset)]
            .prop_map(Op::Force),
        4 => (proptest::collection::vec((any::<usize>(), outcome()), 0..5), 0usize..5)
            .prop_map(|(outcomes, admissions)| Op::Exchange(outcomes, admissions)),
    ]
}

/// Ratios that small counts hit exactly, so that `>=` and `>` are told apart.
fn ratio() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.25), Just(0.5), Just(0.6), Just(0.75), Just(1.0)]
}

fn config() -> impl Strategy<Value = Config> {
    let trip = prop_oneof![
        (1u32..4).prop_map(TripPolicy::consecutive_failures),
        (1u32..5).prop_map(TripPolicy::failure_count),
        (ratio(), 1u32..5).prop_map(|(r, m)| TripPolicy::failure_ratio(r, m)),
        (ratio(), 1u32..5).prop_map(|(r, m)| TripPolicy::failure_ratio_above(r, m)),
    ];
    let rolling = any::<bool>();
    (trip, rolling, 1u32..4, 1u32..4, 1u64..6).prop_map(|(trip, rolling, max, successes, lease)| {
        let b = Config::builder()
            .trip(trip)
            .max_requests(max)
            .success_threshold(successes)
            .lease(Duration::from_secs(lease))
            .open_timeout(Duration::from_secs(10));
        let b = if rolling {
            b.rolling_window(Duration::from_secs(10), 5)
        } else {
            b.interval(Duration::from_secs(5))
        };
        b.build().unwrap()
    })
}

async fn check(
    store: &dyn Store,
    case: u64,
    cfg: Config,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let spec = Spec::new(&format!("prop-{case}"), cfg.clone(), "replica").unwrap();
    let mut machine = Machine::default();
    let mut now = common::T0;
    let mut held: Vec<(String, u64, u64)> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        let (expected, actual) = match op {
            Op::Acquire => {
                let id = format!("p{step}");
                let expected = machine.acquire(&cfg, now, &id);
                let actual = store.acquire(&spec, Some(now), &id).await.unwrap();
                if actual.verdict == breaker_redis::Verdict::Admitted {
                    held.push((id, actual.generation, actual.now_ms));
                }
                (expected, actual)
            }
            Op::Record(i, outcome) if !held.is_empty() => {
                let (id, generation, at) = held.remove(i % held.len());
                let expected = machine.record(&cfg, now, generation, &id, at, outcome);
                let actual = store
                    .record(&spec, Some(now), generation, &id, at, outcome)
                    .await
                    .unwrap();
                (expected, actual)
            }
            Op::Record(..) => continue,
            Op::Forged(below, ago, outcome) => {
                let generation = match below {
                    0 => machine.generation() + 1,
                    n => machine.generation().saturating_sub(n - 1),
                };
                let at = now - ago;
                let expected = machine.record(&cfg, now, generation, "forged", at, outcome);
                let actual = store
                    .record(&spec, Some(now), generation, "forged", at, outcome)
                    .await
                    .unwrap();
                (expected, actual)
            }
            Op::Batch(current, outcomes) => {
                let generation = machine.generation().saturating_sub(u64::from(!current));
                let expected = machine.record_batch(&cfg, now, generation, &outcomes);
                let actual = store
                    .record_batch(&spec, Some(now), generation, &outcomes)
                    .await
                    .unwrap();
                (expected, actual)
            }
            Op::Advance(ms) => {
                now += ms;
                continue;
            }
            Op::Force(mode) => (
                machine.force(&cfg, now, mode),
                store.force(&spec, Some(now), mode).await.unwrap(),
            ),
            Op::Exchange(picks, admissions) => {
                let (m, h) = (&mut machine, &mut held);
                exchange(store, &spec, m, &cfg, now, step, h, picks, admissions).await?;
                snapshot_matches(store, &spec, &machine, &cfg, now, step).await?;
                continue;
            }
        };
        prop_assert_eq!(&actual, &expected, "step {} of {:?}", step, cfg);
        snapshot_matches(store, &spec, &machine, &cfg, now, step).await?;
    }
    Ok(())
}

async fn snapshot_matches(
    store: &dyn Store,
    spec: &Spec,
    machine: &Machine,
    cfg: &Config,
    now: u64,
    step: usize,
) -> Result<(), TestCaseError> {
    let snapshot = store.snapshot(spec, Some(now)).await.unwrap();
    prop_assert_eq!(
        snapshot,
        machine.snapshot(cfg, now),
        "snapshot after step {}",
        step
    );
    Ok(())
}

/// One exchange against the machine taking the same operations one by one.
#[allow(clippy::too_many_arguments)]
async fn exchange(
    store: &dyn Store,
    spec: &Spec,
    machine: &mut Machine,
    cfg: &Config,
    now: u64,
    step: usize,
    held: &mut Vec<(String, u64, u64)>,
    picks: Vec<(usize, Outcome)>,
    admissions: usize,
) -> Result<(), TestCaseError> {
    let mut outcomes = Vec::new();
    for (i, outcome) in picks {
        if held.is_empty() {
            break;
        }
        let (permit, generation, admitted_at) = held.remove(i % held.len());
        outcomes.push(QueuedOutcome {
            generation,
            permit,
            admitted_at,
            outcome,
        });
    }
    let permits: Vec<String> = (0..admissions).map(|k| format!("x{step}-{k}")).collect();
    if outcomes.is_empty() && permits.is_empty() {
        // A breaker never sends an empty exchange.
        return Ok(());
    }
    let mut expected = Vec::new();
    for o in &outcomes {
        expected.push(machine.record(cfg, now, o.generation, &o.permit, o.admitted_at, o.outcome));
    }
    for permit in &permits {
        expected.push(machine.acquire(cfg, now, permit));
    }
    let actual = store
        .exchange(spec, Some(now), &outcomes, &permits)
        .await
        .unwrap()
        .replies;
    for (k, permit) in permits.iter().enumerate() {
        let reply = &actual[outcomes.len() + k];
        if reply.verdict == Verdict::Admitted {
            held.push((permit.clone(), reply.generation, reply.now_ms));
        }
    }
    prop_assert_eq!(actual, expected, "exchange at step {} of {:?}", step, cfg);
    Ok(())
}

fn run_cases(server: &RedisServer, cases: u32, functions: bool) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store: RedisStore = runtime.block_on(common::redis_store(&server.url()));
    assert_eq!(store.uses_functions(), functions);
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let case = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(
        &(config(), proptest::collection::vec(op(), 1..80)),
        |(cfg, ops)| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            runtime.block_on(check(&store, n, cfg, ops))
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn lua_scripts_match_the_state_machine() {
    let server = RedisServer::start().expect("redis-server");
    run_cases(&server, 200, true);
}

/// Redis before 7.0 has neither FUNCTION nor FCALL; renaming both away makes this one answer
/// as such.
#[test]
fn evalsha_scripts_match_the_state_machine_where_functions_are_unavailable() {
    let args = [
        "--rename-command",
        "FUNCTION",
        "",
        "--rename-command",
        "FCALL",
        "",
    ];
    let server = RedisServer::start_with(&args).expect("redis-server");
    run_cases(&server, 60, false);
}
