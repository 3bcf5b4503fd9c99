//! Finding instances through the discovery server and calling one of them.

use std::sync::Arc;
use std::time::Duration;

use rand::seq::IndexedRandom;
use serde::Deserialize;
use serde_json::Value;

use super::cache::{Cache, Entry, Instance};

/// Why a call to a service failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The registry lists no instance (or every one listed failed to answer).
    #[error("No instances available for service: {0}")]
    NoInstances(String),
    /// The discovery server could not be asked and nothing is cached.
    #[error("service discovery unavailable: {0}")]
    Discovery(String),
    /// An instance answered, but not with a 2xx JSON body.
    #[error("{service} answered {detail}")]
    Answer {
        /// The service called.
        service: String,
        /// What went wrong.
        detail: String,
    },
}

/// Finds instances of services and calls them; cheap to clone.
#[derive(Debug, Clone)]
pub struct Discovery {
    url: Arc<str>,
    http: reqwest::Client,
    cache: Arc<Cache>,
    cache_ttl: Duration,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Listed {
    services: Vec<Instance>,
}

impl Discovery {
    /// A client of the discovery server at `url`, caching answers `cache_ttl`, giving each
    /// call to an instance `timeout`.
    pub fn new(url: &str, http: reqwest::Client, cache_ttl: Duration, timeout: Duration) -> Self {
        Self {
            url: url.trim_end_matches('/').into(),
            http,
            cache: Arc::new(Cache::default()),
            cache_ttl,
            timeout,
        }
    }

    /// The discovery server's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The cache, by service name.
    pub fn cached(&self) -> Vec<(String, Entry)> {
        self.cache.all()
    }

    /// Asks the server whether it answers (for `/health`).
    ///
    /// # Errors
    ///
    /// What went wrong.
    pub async fn probe(&self) -> Result<(), String> {
        let answer = self
            .http
            .get(format!("{}/services", self.url))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("the discovery server answered {}", answer.status()))
        }
    }

    /// The instances of `name`: cached while fresh, else the server's answer; while the server
    /// cannot be asked, the stale cache.
    ///
    /// # Errors
    ///
    /// The server cannot be asked and nothing is cached.
    pub async fn instances(&self, name: &str) -> Result<Vec<Instance>, CallError> {
        let cached = self.cache.get(name);
        if let Some(entry) = &cached
            && entry.is_valid()
            && !entry.instances.is_empty()
        {
            return Ok(entry.instances.clone());
        }
        match self.ask(name).await {
            Ok(instances) => {
                // An empty answer is not cached: an instance that comes back is found at once.
                if !instances.is_empty() {
                    self.cache.put(name, instances.clone(), self.cache_ttl);
                }
                Ok(instances)
            }
            Err(e) => match cached {
                Some(entry) => {
                    tracing::warn!(service = name, error = %e, "discovery down; using the stale cache");
                    Ok(entry.instances)
                }
                None => Err(CallError::Discovery(e)),
            },
        }
    }

    async fn ask(&self, name: &str) -> Result<Vec<Instance>, String> {
        let answer = self
            .http
            .get(format!("{}/services/{name}", self.url))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(format!("the discovery server answered {}", answer.status()));
        }
        let listed: Listed = answer.json().await.map_err(|e| e.to_string())?;
        Ok(listed.services)
    }

    /// `GET <path>` on an instance of `service` picked at random. An instance that cannot be
    /// reached (refused, reset, timed out) is dropped from the cache and another is tried;
    /// only when none is left does the call fail.
    ///
    /// # Errors
    ///
    /// No instance answered, or one answered with an error.
    pub async fn get_json(&self, service: &str, path: &str) -> Result<Value, CallError> {
        let mut tried: Vec<String> = Vec::new();
        loop {
            let instances = self.instances(service).await?;
            let left: Vec<&Instance> = instances
                .iter()
                .filter(|i| !tried.contains(&i.id))
                .collect();
            let Some(instance) = left.choose(&mut rand::rng()).copied() else {
                return Err(CallError::NoInstances(service.to_owned()));
            };
            let url = format!("{}{path}", instance.base_url());
            let sent = self.http.get(&url).timeout(self.timeout).send().await;
            let answer = match sent {
                Ok(answer) => answer,
                Err(e) => {
                    // No answer at all: a GET is safe to send to another instance.
                    tracing::warn!(service, instance = %instance.id, error = %e, "instance unreachable; trying another");
                    self.cache.drop_instance(service, &instance.id);
                    tried.push(instance.id.clone());
                    continue;
                }
            };
            let status = answer.status();
            if !status.is_success() {
                return Err(CallError::Answer {
                    service: service.to_owned(),
                    detail: status.to_string(),
                });
            }
            return answer.json().await.map_err(|e| CallError::Answer {
                service: service.to_owned(),
                detail: e.to_string(),
            });
        }
    }
}
