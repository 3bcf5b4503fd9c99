//! An instance's registration: register, heartbeat at once and every interval, unregister.

use std::time::Duration;

use serde_json::json;
use tokio::task::JoinHandle;

/// Who registers, and where.
#[derive(Debug, Clone)]
pub struct Registrant {
    /// The discovery server's base URL, e.g. `http://127.0.0.1:3000`.
    pub discovery_url: String,
    /// The service's name.
    pub name: String,
    /// The port the instance listens on.
    pub port: u16,
    /// The address others reach it at; `None` lets the server take the caller's address.
    pub host: Option<String>,
    /// Seconds between heartbeats.
    pub interval: f64,
}

/// A running registration: heartbeats until [`Registration::stop`] (or drop).
#[derive(Debug)]
pub struct Registration {
    registrant: Registrant,
    http: reqwest::Client,
    task: JoinHandle<()>,
}

/// How long one call to the discovery server may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

impl Registration {
    /// Registers in the background and keeps heart-beating; a discovery server that is down is
    /// tried again at every interval (a heartbeat also registers a missing instance).
    pub fn start(registrant: Registrant, http: reqwest::Client) -> Self {
        let task = tokio::spawn(beat_forever(registrant.clone(), http.clone()));
        Self {
            registrant,
            http,
            task,
        }
    }

    /// Stops heart-beating and removes the instance from the registry, so that clients stop
    /// picking it now rather than when its heartbeat deadline passes.
    pub async fn stop(self) {
        self.task.abort();
        let r = &self.registrant;
        let url = format!("{}/services/{}/{}", r.discovery_url, r.name, r.port);
        match self.http.delete(&url).timeout(CALL_TIMEOUT).send().await {
            Ok(answer) => tracing::info!(status = %answer.status(), "unregistered"),
            Err(e) => tracing::warn!(error = %e, "cannot unregister"),
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn beat_forever(r: Registrant, http: reqwest::Client) {
    // A whole number of seconds goes as an integer, as the seed's clients sent it.
    let interval = if r.interval.fract() == 0.0 {
        json!(r.interval as u64)
    } else {
        json!(r.interval)
    };
    let body = json!({
        "name": r.name,
        "port": r.port,
        "heartbeatInterval": interval,
        "host": r.host,
    });
    let every = Duration::from_secs_f64(r.interval);
    let register = format!("{}/register", r.discovery_url);
    let heartbeat = format!("{}/heartbeat", r.discovery_url);
    match post(&http, &register, &body).await {
        Ok(()) => tracing::info!(service = %r.name, port = r.port, "registered"),
        Err(e) => tracing::warn!(error = %e, "cannot register; the heartbeats will"),
    }
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = post(&http, &heartbeat, &body).await {
            tracing::warn!(error = %e, "heartbeat failed");
        }
    }
}

async fn post(http: &reqwest::Client, url: &str, body: &serde_json::Value) -> Result<(), String> {
    let answer = http
        .post(url)
        .json(body)
        .timeout(CALL_TIMEOUT)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", answer.status()))
    }
}
