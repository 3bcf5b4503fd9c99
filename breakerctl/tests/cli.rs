//! The real `breakerctl` binary against a real redis-server and real breakers built here with
//! breaker-redis: tables and JSON, a live trip on `watch`, overrides a running breaker
//! follows, and the exit codes of the three errors an operator meets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};
use std::time::Duration;

use breaker_redis::{Breaker, Config, Forced, RedisStore, RedisStoreOptions, TripPolicy};
use serde_json::Value;
use test_support::{ChildProcess, RedisServer, wait_until};

const WAIT: Duration = Duration::from_secs(15);

fn ctl_command(server: &RedisServer, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_breakerctl"));
    cmd.args(args).env("REDIS_URL", server.url());
    cmd
}

/// Runs `breakerctl args` to the end.
async fn ctl(server: &RedisServer, args: &[&str]) -> Output {
    let mut cmd = ctl_command(server, args);
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Runs `breakerctl args`, expecting success, and returns its stdout.
async fn ok(server: &RedisServer, args: &[&str]) -> String {
    let out = ctl(server, args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "breakerctl {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

async fn json(server: &RedisServer, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&ok(server, &args).await).unwrap()
}

/// A breaker opening after 2 failures in a row, whose settings are already in Redis.
async fn breaker(server: &RedisServer, name: &str) -> Breaker {
    let options = RedisStoreOptions {
        response_timeout: Duration::from_secs(2),
        connection_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let store = RedisStore::connect_with(&server.url(), options)
        .await
        .unwrap();
    let config = Config::builder()
        .trip(TripPolicy::consecutive_failures(2))
        .open_timeout(Duration::from_secs(60))
        .store_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let b = Breaker::builder(name)
        .config(config)
        .store(store)
        .replica_id("replica-a")
        .build()
        .unwrap();
    let client = server.client();
    let key = format!("breaker:{{{name}}}:settings");
    wait_until(WAIT, "the breaker's settings in redis", || {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            redis::cmd("EXISTS")
                .arg(&key)
                .query_async::<u64>(&mut con)
                .await
                .unwrap()
                == 1
        }
    })
    .await
    .unwrap();
    b.listening().await;
    b
}

async fn fail(b: &Breaker, n: usize) {
    for _ in 0..n {
        b.acquire().await.unwrap().failure().await;
    }
}

/// Waits until Redis counts `n` subscribers on the channel, or pattern subscribers.
async fn subscribers(server: &RedisServer, channel: Option<&str>, n: u64) {
    let client = server.client();
    wait_until(WAIT, "breakerctl subscribed", || {
        let client = client.clone();
        async move {
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            match channel {
                Some(c) => {
                    let (_, count): (String, u64) = redis::cmd("PUBSUB")
                        .arg("NUMSUB")
                        .arg(c)
                        .query_async(&mut con)
                        .await
                        .unwrap();
                    count >= n
                }
                None => {
                    redis::cmd("PUBSUB")
                        .arg("NUMPAT")
                        .query_async::<u64>(&mut con)
                        .await
                        .unwrap()
                        >= n
                }
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_and_history_print_aligned_tables_and_json() {
    let server = RedisServer::start().unwrap();
    let payments = breaker(&server, "payments").await;
    let _search = breaker(&server, "search").await;
    fail(&payments, 2).await;

    let table = ok(&server, &["list"]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("NAME "), "{table}");
    let state_at = lines[0].find("STATE").unwrap();
    assert_eq!(
        &lines[1][state_at..state_at + 4],
        "open",
        "aligned:\n{table}"
    );
    assert!(
        lines[1].starts_with("payments ") && lines[1].contains("2 in a row"),
        "{table}"
    );
    assert!(lines[1].ends_with("replica-a"), "{table}");
    assert!(
        lines[2].starts_with("search ") && lines[2].contains("(no state)"),
        "{table}"
    );

    let list = json(&server, &["list"]).await;
    assert_eq!(list[0]["name"], "payments");
    assert_eq!(list[0]["state"], "open");
    assert_eq!(list[0]["forced"], "none");
    assert_eq!(
        list[0]["settings"]["settings"]["trip"],
        "consecutive_failures"
    );
    assert_eq!(list[0]["settings"]["replica"], "replica-a");
    assert_eq!(list[1]["stored"], false);

    let show = json(&server, &["show", "payments"]).await;
    assert_eq!(
        (show["state"].as_str(), show["history_len"].as_u64()),
        (Some("open"), Some(1))
    );
    assert!(show["open_until_ms"].as_u64().unwrap() > show["now_ms"].as_u64().unwrap());
    let text = ok(&server, &["show", "payments"]).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("state:") && l.ends_with(" open")),
        "{text}"
    );
    assert!(
        text.contains("open timeout:") && text.contains("1m"),
        "{text}"
    );

    payments.reset().await.unwrap();
    let history = json(&server, &["history", "payments", "--limit", "5"]).await;
    let reasons: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["reset", "failure threshold reached"],
        "newest first"
    );
    assert_eq!(history[1]["origin"], "replica-a");
    assert_eq!(
        json(&server, &["history", "payments", "--limit", "1"])
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let table = ok(&server, &["history", "payments"]).await;
    assert!(table.lines().next().unwrap().starts_with("ID "), "{table}");
    assert!(
        table.contains("failure threshold reached (replica-a)"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_a_trip_made_by_a_breaker_and_an_override() {
    let server = RedisServer::start().unwrap();
    let b = breaker(&server, "svc").await;
    let all = ChildProcess::spawn(
        ctl_command(
            &server,
            &["watch", "--json", "--count", "2", "--timeout", "60s"],
        ),
        "watch-all",
    )
    .unwrap();
    subscribers(&server, None, 1).await;
    let one = ChildProcess::spawn(
        ctl_command(&server, &["watch", "svc", "--count", "1"]),
        "watch-svc",
    )
    .unwrap();
    // The breaker's own subscription is the first on its channel.
    subscribers(&server, Some("breaker:{svc}:events"), 2).await;

    fail(&b, 2).await;
    let line = all
        .wait_for_line_async("\"to\":\"open\"", WAIT)
        .await
        .unwrap();
    let record: Value = serde_json::from_str(&line[line.find('{').unwrap()..]).unwrap();
    assert_eq!(record["breaker"], "svc");
    assert_eq!(record["reason"], "failure threshold reached");
    assert_eq!(record["origin"], "replica-a");
    assert!(
        record["id"].as_str().unwrap().contains('-'),
        "carries its stream id"
    );
    assert!(one.wait_exit(WAIT).unwrap().success(), "{}", one.output());
    let output = one.output();
    assert!(
        output.contains("ID ") && output.contains("failure threshold reached (replica-a)"),
        "{output}"
    );

    ok(&server, &["open", "svc"]).await;
    all.wait_for_line_async("forced open", WAIT).await.unwrap();
    assert!(
        all.wait_exit(WAIT).unwrap().success(),
        "stops after --count: {}",
        all.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_stops_cleanly_on_sigterm_and_at_its_timeout() {
    let server = RedisServer::start().unwrap();
    let _b = breaker(&server, "svc").await;
    let watch = ChildProcess::spawn(ctl_command(&server, &["watch"]), "watch").unwrap();
    watch.wait_for_line_async("REASON", WAIT).await.unwrap();
    watch.terminate().unwrap();
    let status = watch.wait_exit(WAIT).unwrap();
    assert!(status.success(), "{status:?}: {}", watch.output());

    let out = ok(&server, &["watch", "svc", "--timeout", "200ms"]).await;
    assert_eq!(out.lines().count(), 1, "the header only: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_reach_a_running_breaker_at_once() {
    let server = RedisServer::start().unwrap();
    let b = breaker(&server, "svc").await;
    let mut events = b.events();
    let out = ok(&server, &["open", "svc"]).await;
    assert!(
        out.starts_with("svc: closed -> open (forced: open), generation "),
        "{out}"
    );
    let event = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (event.forced, event.origin.as_str()),
        (Forced::Open, "breakerctl")
    );
    assert_eq!(b.acquire().await.unwrap_err().forced, Forced::Open);

    let disabled = json(&server, &["disable", "svc"]).await;
    assert_eq!(
        (disabled["to"].as_str(), disabled["forced"].as_str()),
        (Some("closed"), Some("disabled"))
    );
    fail(&b, 3).await;
    let close = json(&server, &["close", "svc"]).await;
    assert_eq!(close["forced"], "closed");
    let reset = json(&server, &["reset", "svc"]).await;
    assert_eq!(
        (reset["from"].as_str(), reset["forced"].as_str()),
        (Some("closed"), Some("none"))
    );
    fail(&b, 2).await;
    assert_eq!(
        json(&server, &["show", "svc"]).await["state"],
        "open",
        "trips normally after reset"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_problem_with_their_exit_code() {
    let server = RedisServer::start().unwrap();
    let unknown = ctl(&server, &["show", "nobody"]).await;
    assert_eq!(unknown.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no breaker named \"nobody\""));
    assert_eq!(
        ctl(&server, &["history", "nobody"]).await.status.code(),
        Some(3)
    );
    assert_eq!(
        ctl(&server, &["open", "nobody"]).await.status.code(),
        Some(3)
    );
    assert_eq!(
        ctl(&server, &["watch", "nobody", "--timeout", "1s"])
            .await
            .status
            .code(),
        Some(3)
    );

    let refusing = test_support::refusing_port();
    let down = format!("redis://127.0.0.1:{}", refusing.port());
    let unreachable = ctl(&server, &["--redis-url", &down, "list"]).await;
    assert_eq!(unreachable.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("unreachable"));

    let bad = ctl(&server, &["--redis-url", "http://localhost", "list"]).await;
    assert_eq!(bad.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid redis url"));

    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("HSET")
        .arg("breaker:{legacy}")
        .arg(&["state", "closed", "forced", "none", "generation", "7"])
        .query_async(&mut con)
        .await
        .unwrap();
    let missing = ctl(&server, &["open", "legacy"]).await;
    assert_eq!(missing.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no settings"));
    let generation: String = redis::cmd("HGET")
        .arg("breaker:{legacy}")
        .arg("generation")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(generation, "7", "nothing changed");
    assert_eq!(ctl(&server, &["bogus"]).await.status.code(), Some(2));
}
