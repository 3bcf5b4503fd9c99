//! Waiting until a started process answers: `GET /health` for the services, PING for Redis.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Pause between two checks.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Limit on a single check, so one hung request cannot use up the whole deadline unseen.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// How to tell that a process is ready.
#[derive(Debug, Clone)]
pub enum Check {
    /// `GET <url>` answers 200.
    Http {
        /// e.g. `http://127.0.0.1:8081/health`.
        url: String,
    },
    /// The Redis at `url` answers, and it is the process `pid` (not another server that took
    /// the port in the meantime).
    Redis {
        /// `redis://127.0.0.1:<port>`.
        url: String,
        /// Our `redis-server`.
        pid: u32,
    },
}

impl Check {
    /// Polls until the check passes; fails at `deadline` with the last reason it did not.
    pub async fn wait(&self, deadline: Duration) -> anyhow::Result<Duration> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(CHECK_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        let started = Instant::now();
        loop {
            let last_error = match self.once(&http).await {
                Ok(()) => return Ok(started.elapsed()),
                Err(e) => e,
            };
            if started.elapsed() >= deadline {
                bail!("{self} within {deadline:?}; last attempt: {last_error:#}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn once(&self, http: &reqwest::Client) -> anyhow::Result<()> {
        match self {
            Self::Http { url } => {
                let status = http.get(url).send().await?.status();
                if status != reqwest::StatusCode::OK {
                    bail!("answered {status}");
                }
                Ok(())
            }
            Self::Redis { url, pid } => {
                let pong = tokio::time::timeout(CHECK_TIMEOUT, redis_pid(url))
                    .await
                    .context("no answer")??;
                if pong != *pid {
                    bail!("the Redis answering there is process {pong}, not ours ({pid})");
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http { url } => write!(f, "no 200 from GET {url}"),
            Self::Redis { url, .. } => write!(f, "no answer from the Redis at {url}"),
        }
    }
}

/// The `process_id` that `INFO server` reports.
async fn redis_pid(url: &str) -> anyhow::Result<u32> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_multiplexed_async_connection().await?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut con)
        .await?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .context("INFO server has no process_id")
}
