//! [`UserLookup`]: the user lookup, retried inside one call of the breaker `user-service`.
//!
//! The seed wrapped a retried function in its breaker, so one breaker call is one whole retried
//! sequence: the circuit counts a lookup that failed three times as one failure. A 404 is an
//! answer: it ends the sequence at once and counts as a success.

use std::time::Duration;

use breaker_redis::{Breaker, CircuitOpen};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use tracing::{debug, warn};

/// What one lookup came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// The user's record, as the user service answered it.
    User(Value),
    /// The user service answered 404.
    NotFound,
}

/// Why a lookup gave no answer.
#[derive(Debug)]
pub enum LookupError {
    /// The circuit is open: the user service was not called.
    Open(CircuitOpen),
    /// Every attempt got a 5xx other than 503.
    ServerError(StatusCode),
    /// The last attempt could not reach the service, timed out, or got a 503.
    Unavailable(String),
}

/// The user service behind its breaker, with the retry policy of one breaker call.
#[derive(Debug, Clone)]
pub struct UserLookup {
    breaker: Breaker,
    http: reqwest::Client,
    base: Url,
    attempts: u32,
    interval: Duration,
    timeout: Duration,
}

impl UserLookup {
    /// Looks users up at `base` through `breaker`: `attempts` tries `interval` apart, each
    /// limited to `timeout`.
    pub fn new(
        breaker: Breaker,
        base: Url,
        attempts: u32,
        interval: Duration,
        timeout: Duration,
    ) -> Self {
        Self {
            breaker,
            http: reqwest::Client::new(),
            base,
            attempts,
            interval,
            timeout,
        }
    }

    /// The breaker.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// The longest one breaker call can last: every attempt timing out, with the pauses.
    pub fn longest_call(attempts: u32, interval: Duration, timeout: Duration) -> Duration {
        timeout * attempts + interval * attempts.saturating_sub(1)
    }

    /// User `id`, through one breaker call of up to `attempts` tries.
    ///
    /// # Errors
    ///
    /// The circuit is open, or every attempt failed (the last failure is given).
    pub async fn find(&self, id: i64) -> Result<Found, LookupError> {
        let permit = self.breaker.acquire().await.map_err(|open| {
            debug!(%open, "user lookup rejected by the breaker");
            LookupError::Open(open)
        })?;
        let mut attempt = 1;
        let result = loop {
            match self.attempt(id).await {
                Ok(found) => break Ok(found),
                Err(error) if attempt >= self.attempts => break Err(error),
                Err(error) => {
                    debug!(attempt, ?error, "user lookup failed; retrying");
                    tokio::time::sleep(self.interval).await;
                    attempt += 1;
                }
            }
        };
        match &result {
            Ok(_) => permit.success().await,
            Err(error) => {
                warn!(attempts = attempt, ?error, "user lookup failed");
                permit.failure().await;
            }
        }
        result
    }

    async fn attempt(&self, id: i64) -> Result<Found, LookupError> {
        let url = format!("{}/users/{id}", self.base.as_str().trim_end_matches('/'));
        let exchange = async {
            let response = self.http.get(&url).send().await?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            Ok::<_, reqwest::Error>((status, body))
        };
        let (status, body) = match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => return Err(LookupError::Unavailable("timed out".to_owned())),
            Ok(Err(error)) => return Err(LookupError::Unavailable(error.to_string())),
            Ok(Ok(answer)) => answer,
        };
        match status {
            StatusCode::NOT_FOUND => Ok(Found::NotFound),
            StatusCode::SERVICE_UNAVAILABLE => {
                Err(LookupError::Unavailable(format!("answered {status}")))
            }
            s if s.is_server_error() => Err(LookupError::ServerError(s)),
            s if s.is_success() => Ok(Found::User(body)),
            s => Err(LookupError::ServerError(s)),
        }
    }
}
