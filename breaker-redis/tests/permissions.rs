//! A Redis ACL user that lacks a command the breaker needs (`PUBLISH`, `XADD`, `ZREM`), and one
//! that cannot log in: the refusal is logged with its fix, again while it lasts, counted, and
//! the replica's local breaker protects the calls until the ACL is fixed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use breaker_redis::{
    Breaker, Clock, Config, ManualClock, RedisStore, RedisStoreOptions, State, TripPolicy,
};
use common::metrics::{recorded, value};
use test_support::{RedisServer, wait_until};

const DEADLINE: Duration = Duration::from_secs(10);
const PASSWORD: &str = "breaker-test";

/// Log lines written while a test runs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn count(&self, needle: &str) -> usize {
        self.text().lines().filter(|l| l.contains(needle)).count()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with its logs captured (on one thread, so spawned tasks log there too).
fn with_logs(logs: &Logs, f: impl FnOnce()) {
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
}

/// A server whose user `svc` has every permission the breaker needs except `missing`.
fn server_without(missing: Option<&str>) -> RedisServer {
    let server = RedisServer::start().unwrap();
    let mut conn = server.client().get_connection().unwrap();
    let rules = "on >breaker-test ~breaker:* &breaker:* -@all +ping +exists +hget +evalsha +script|load +time \
        +hmget +hset +hgetall +pexpire +persist +pttl +del +zadd +zrem +zcard +zcount +zrange \
        +zremrangebyscore +xadd +publish +subscribe +unsubscribe +xrange +xrevrange";
    let mut cmd = redis::cmd("ACL");
    cmd.arg("SETUSER").arg("svc");
    for rule in rules.split_whitespace() {
        cmd.arg(rule);
    }
    if let Some(missing) = missing {
        cmd.arg(format!("-{missing}"));
    }
    let _: () = cmd.query(&mut conn).unwrap();
    server
}

fn grant(server: &RedisServer, command: &str) {
    let mut conn = server.client().get_connection().unwrap();
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("svc")
        .arg(format!("+{command}"))
        .query(&mut conn)
        .unwrap();
}

async fn store(server: &RedisServer, user: &str, password: &str) -> RedisStore {
    let options = RedisStoreOptions {
        response_timeout: Duration::from_secs(2),
        connection_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    RedisStore::connect_with(&server.url_as(user, password), options)
        .await
        .unwrap()
}

fn breaker(store: RedisStore, name: &str, clock: &ManualClock) -> Breaker {
    let config = Config::builder()
        .trip(TripPolicy::consecutive_failures(2))
        .open_timeout(Duration::from_secs(5))
        .retry_backoff(Duration::from_millis(100))
        .build()
        .unwrap();
    Breaker::builder(name)
        .config(config)
        .store(store)
        .clock(Clock::Manual(clock.clone()))
        .build()
        .unwrap()
}

/// Fails calls until the breaker rejects one (at most `limit` calls): its state then.
async fn fail_until_rejected(breaker: &Breaker, limit: usize) -> State {
    for _ in 0..limit {
        match breaker.acquire().await {
            Ok(permit) => permit.failure().await,
            Err(open) => return open.state,
        }
    }
    panic!("still admitting after {limit} failures");
}

async fn exists(server: &RedisServer, key: &str) -> bool {
    let mut conn = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<u64>(&mut conn)
        .await
        .unwrap()
        == 1
}

/// Without `missing`, failures still trip the circuit for this replica (its local breaker), no
/// half-made transition reaches Redis, the refusal is logged naming the command and its fix
/// and counted; once granted, the breaker goes back to the shared state.
fn a_refused_transition_still_protects(missing: &str) {
    let logs = Logs::default();
    with_logs(&logs, || {
        let probe = recorded(async |probe| {
            let server = server_without(Some(missing));
            let clock = ManualClock::new(common::T0);
            let b = breaker(store(&server, "svc", PASSWORD).await, missing, &clock);
            assert_eq!(fail_until_rejected(&b, 10).await, State::Open);
            assert!(b.is_degraded(), "the shared state is not used");
            let history = format!("breaker:{{{missing}}}:history");
            assert!(!exists(&server, &history).await, "no half-made transition");
            let counted = value(
                &probe.read(),
                "breaker_store_errors_total",
                ("class", "permission"),
            );
            assert!(counted >= Some(1.0), "counted: {counted:?}");
            // Repeated while it lasts: the check after each back-off says so again.
            wait_until(DEADLINE, "the refusal logged again", || async {
                logs.count("still lacks permissions") >= 2
            })
            .await
            .unwrap();
            grant(&server, missing);
            wait_until(DEADLINE, "the shared state used again", || async {
                !b.is_degraded()
            })
            .await
            .unwrap();
        });
        drop(probe);
    });
    let text = logs.text();
    let upper = missing.to_uppercase();
    assert!(
        text.contains(&format!("may not run {upper} on breaker:{{{missing}}}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("ACL SETUSER <user> +{missing}")),
        "{text}"
    );
    assert!(
        text.contains("every permission the breaker needs again"),
        "{text}"
    );
}

#[test]
fn without_publish_the_circuit_still_trips_for_the_replica() {
    a_refused_transition_still_protects("publish");
}

#[test]
fn without_xadd_the_circuit_still_trips_for_the_replica() {
    a_refused_transition_still_protects("xadd");
}

#[test]
fn without_zrem_a_trial_call_does_not_leave_the_replica_stuck_in_half_open() {
    let logs = Logs::default();
    with_logs(&logs, || {
        let _ = recorded(async |_| {
            let server = server_without(Some("zrem"));
            let clock = ManualClock::new(common::T0);
            let b = breaker(store(&server, "svc", PASSWORD).await, "zrem", &clock);
            assert_eq!(fail_until_rejected(&b, 10).await, State::Open);
            assert!(!b.is_degraded(), "tripping needs no ZREM");
            clock.advance(Duration::from_secs(6));
            let trial = b.acquire().await.expect("a trial permit");
            trial.success().await;
            assert!(
                b.is_degraded(),
                "the refused ZREM moves the replica to its local breaker"
            );
            // The local breaker admits (it is closed): the replica is not stuck waiting for
            // a permit that Redis cannot release.
            b.acquire().await.expect("admitted locally").success().await;
            grant(&server, "zrem");
            wait_until(DEADLINE, "the shared state used again", || async {
                !b.is_degraded()
            })
            .await
            .unwrap();
        });
    });
    let text = logs.text();
    assert!(
        text.contains("may not run ZREM on breaker:{zrem}:leases"),
        "{text}"
    );
    assert!(text.contains("+zrem"), "{text}");
}

#[test]
fn a_wrong_password_is_logged_with_its_fix_once_per_back_off() {
    let logs = Logs::default();
    with_logs(&logs, || {
        let _ = recorded(async |_| {
            let server = server_without(None);
            let clock = ManualClock::new(common::T0);
            let b = breaker(store(&server, "svc", "wrong").await, "auth", &clock);
            // Calls go on for 2 s (20 back-offs of 100 ms), each one protected locally.
            let end = tokio::time::Instant::now() + Duration::from_secs(2);
            let mut calls = 0;
            while tokio::time::Instant::now() < end {
                if let Ok(permit) = b.acquire().await {
                    permit.success().await;
                }
                calls += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(calls > 50, "{calls}");
            assert!(b.is_degraded());
        });
    });
    // The breaker's warnings (the failing call's, then the background probe's): the
    // back-off doubles from 100 ms, so at 0, 0.1, 0.3, 0.7, 1.5 s; never one per call.
    let breaker = logs
        .text()
        .lines()
        .filter(|l| l.contains("WARN") && (l.contains("fail_safe") || l.contains("probe")))
        .count();
    assert!(
        (2..=6).contains(&breaker),
        "{breaker} lines:\n{}",
        logs.text()
    );
    assert!(
        logs.text().contains("redis://USER:PASSWORD@"),
        "{}",
        logs.text()
    );
}

/// The commands a Lua file calls: `redis.call('X'`, `redis.pcall('X'`, and the breaker's
/// `on_key(K, 'X'`, `on_leases('X'`, `on_window('X'` helpers.
fn commands_in(lua: &str) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    for line in lua.lines().filter(|l| !l.trim_start().starts_with("--")) {
        for marker in ["call(", "on_key(", "on_leases(", "on_window("] {
            for (i, _) in line.match_indices(marker) {
                let rest = &line[i + marker.len()..];
                let Some(quote) = rest.find('\'') else {
                    continue;
                };
                let word: String = rest[quote + 1..]
                    .chars()
                    .take_while(char::is_ascii_uppercase)
                    .collect();
                if word.len() > 1 {
                    found.insert(word);
                }
            }
        }
    }
    found
}

fn repo_file(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn the_rights_check_covers_every_command_of_the_breaker_scripts() {
    let rights = repo_file("lua/rights.lua");
    for script in [
        "lib",
        "acquire",
        "record",
        "record_batch",
        "force",
        "snapshot",
    ] {
        for command in commands_in(&repo_file(&format!("lua/{script}.lua"))) {
            assert!(
                rights.contains(&format!("{{ '{command}'")),
                "lua/rights.lua does not check {command}, which lua/{script}.lua runs"
            );
        }
    }
}

#[test]
fn the_deployed_acl_grants_every_command_of_every_script() {
    let acl = repo_file("deploy/redis-acl.conf");
    let services = acl
        .lines()
        .find(|l| l.starts_with("user services "))
        .expect("a services user");
    let granted: Vec<&str> = services
        .split_whitespace()
        .filter_map(|w| w.strip_prefix('+'))
        .collect();
    let scripts = [
        "lua/lib.lua",
        "lua/acquire.lua",
        "lua/record.lua",
        "lua/record_batch.lua",
        "lua/force.lua",
        "lua/snapshot.lua",
        "lua/settings.lua",
        "lua/rate_limit.lua",
        "systems/shop/src/gateway/lua/claim.lua",
        "systems/shop/src/gateway/lua/replace.lua",
        "systems/shop/src/gateway/lua/order_id.lua",
        "systems/discovery/src/server/lua/beat.lua",
        "systems/discovery/src/server/lua/alive.lua",
        "systems/discovery/src/server/lua/remove.lua",
    ];
    for script in scripts {
        for command in commands_in(&repo_file(script)) {
            assert!(
                granted.contains(&command.to_lowercase().as_str()),
                "deploy/redis-acl.conf does not grant {command}, which {script} runs"
            );
        }
    }
}

#[test]
fn a_refused_subscription_is_logged_with_its_fix_on_a_back_off() {
    let logs = Logs::default();
    with_logs(&logs, || {
        let _ = recorded(async |_| {
            let server = server_without(Some("subscribe"));
            let clock = ManualClock::new(common::T0);
            let b = breaker(
                store(&server, "svc", PASSWORD).await,
                "no-subscribe",
                &clock,
            );
            wait_until(DEADLINE, "the refused subscription logged", || async {
                logs.count("refused the transition subscription") >= 1
            })
            .await
            .unwrap();
            // The breaker itself works: only other replicas' news arrive later.
            b.acquire().await.expect("closed").success().await;
            assert!(!b.is_degraded());
            // The subscriber retries within 2 s at first; the warning does not follow it.
            tokio::time::sleep(Duration::from_secs(3)).await;
        });
    });
    let lines = logs.count("refused the transition subscription");
    assert!((1..=2).contains(&lines), "{lines}:\n{}", logs.text());
    assert!(logs.text().contains("+subscribe"), "{}", logs.text());
}
