//! The degraded mode's local breaker keeps time on a monotonic clock: a wall clock stepped
//! backwards (NTP, an operator) must not keep a local circuit open for the length of the step.
//!
//! The step is real: the test runs itself again as a child process under libfaketime, whose
//! wall clock the child then moves two hours back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

use breaker_redis::{Breaker, Config, RedisStore, RedisStoreOptions, TripPolicy};
use test_support::{faketime_library, wait_until};

const CHILD: &str = "LOCAL_CLOCK_STEP_FILE";
const NAME: &str = "a_wall_clock_stepped_backwards_does_not_keep_the_local_breaker_open";

#[test]
fn a_wall_clock_stepped_backwards_does_not_keep_the_local_breaker_open() {
    if let Some(file) = std::env::var_os(CHILD) {
        return child(file.into());
    }
    let file = std::env::temp_dir().join(format!("breaker-clock-step-{}", std::process::id()));
    std::fs::write(&file, "+0\n").unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD, &file)
        .env("LD_PRELOAD", faketime_library().unwrap())
        .env("FAKETIME_TIMESTAMP_FILE", &file)
        .env("FAKETIME_NO_CACHE", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "the child under a stepped clock failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn child(step_file: std::path::PathBuf) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        // Nothing listens there: every call finds Redis unreachable and the local breaker decides.
        let refusing = test_support::refusing_port();
        let url = format!("redis://127.0.0.1:{}/", refusing.port());
        let options = RedisStoreOptions {
            response_timeout: Duration::from_millis(200),
            connection_timeout: Duration::from_millis(200),
            ..Default::default()
        };
        let config = Config::builder()
            .trip(TripPolicy::consecutive_failures(1))
            .open_timeout(Duration::from_millis(500))
            .retry_backoff(Duration::from_secs(60))
            .build()
            .unwrap();
        let b = Breaker::builder("svc")
            .config(config)
            .store(RedisStore::connect_with(&url, options).await.unwrap())
            .build()
            .unwrap();
        b.acquire().await.unwrap().failure().await;
        assert!(b.is_degraded());
        assert!(b.acquire().await.is_err(), "the local breaker has opened");

        let before = std::time::SystemTime::now();
        std::fs::write(&step_file, "-2h\n").unwrap();
        assert!(
            std::time::SystemTime::now() < before,
            "libfaketime stepped the wall clock back"
        );
        wait_until(
            Duration::from_secs(10),
            "the local breaker to admit a trial call",
            || async { b.acquire().await.is_ok() },
        )
        .await
        .unwrap();
    });
}
