//! [`Hop`]: the next service of the chain behind its breaker and time limit, and the answers a
//! service gives when the call to it fails (see the crate's "Errors through the chain").

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use breaker_redis::{Breaker, CircuitOpen, Outcome};
use reqwest::Url;
use serde_json::{Value, json};
use service_kit::trace::TraceContext;
use service_kit::{App, AppError, ConfigError, HealthFields, Overrides, ServerConfig};

use super::breaker_config;

/// The most of an answer read: the chain's bodies are a few dozen bytes, and a service that
/// answers without end must not fill this one's memory.
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Which service a hop calls, and the settings that name it.
#[derive(Debug, Clone, Copy)]
pub struct HopSpec {
    /// The service, which also names its breaker: `inventory-service`.
    pub name: &'static str,
    /// What the call gets, as the seed's errors say it: `inventory` (`failed to get inventory`).
    pub what: &'static str,
    /// The variable giving its base URL: `INVENTORY_SERVICE_URL`.
    pub url_var: &'static str,
}

/// The next service: its breaker (`breaker:{<name>}` in Redis), base URL and time limit.
#[derive(Debug, Clone)]
pub struct Hop {
    spec: HopSpec,
    breaker: Breaker,
    base: Url,
    http: reqwest::Client,
    timeout: Duration,
}

/// What a call that got through gave: the status, `Retry-After` and the JSON body.
struct Reply {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Value,
}

impl Hop {
    /// The service `spec` at `url`, its breaker on the Redis at `redis_url` with the seed's
    /// policy and `breaker` over it, each call limited to `timeout`.
    ///
    /// # Errors
    ///
    /// An invalid setting, naming its variable.
    pub async fn connect(
        spec: HopSpec,
        url: &str,
        redis_url: &str,
        timeout: Duration,
        breaker: &Overrides,
        server: &ServerConfig,
    ) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::invalid("CALL_TIMEOUT", "must be above 0"));
        }
        let base = base_url(url, spec.url_var)?;
        let config = breaker_config(breaker, timeout)?;
        let store = service_kit::breaker::connect_with(redis_url, &server.redis).await?;
        let breaker = Breaker::builder(spec.name)
            .config(config)
            .store(store)
            .replica_id(server.instance_id.clone())
            .build()
            .map_err(|e| {
                ConfigError::invalid(format!("BREAKER__{}", e.setting.to_uppercase()), e.reason)
            })?;
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| ConfigError::Other(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            spec,
            breaker,
            base,
            http,
            timeout,
        })
    }

    /// `GET path` with `query`, through the breaker and within the time limit, passing on the
    /// request's `traceparent`, `tracestate` and `x-request-id` so that one id follows a call
    /// down the chain in every log: the
    /// JSON body of a 2xx answer, or the error this service answers with.
    ///
    /// A network error, the time limit or a 5xx counts as a failure of the breaker, except a
    /// 5xx whose `hop` names another service: the service answered at once, reporting a
    /// failure further down, which that hop's own breaker counts. Opening this circuit too
    /// would hide which hop failed and keep this one shut for longer once that one heals.
    ///
    /// # Errors
    ///
    /// The answer for a call that failed or was not made.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        trace: &TraceContext,
    ) -> Result<Value, AppError> {
        let permit = self
            .breaker
            .acquire()
            .await
            .map_err(|open| self.open(&open))?;
        let mut url = self.base.clone();
        url.set_path(path);
        url.query_pairs_mut().extend_pairs(query);
        let result = tokio::time::timeout(self.timeout, self.exchange(url, trace)).await;
        let outcome = match &result {
            Ok(Ok(reply)) if reply.status.is_server_error() && !self.further_down(reply) => {
                Outcome::Failure
            }
            Ok(Ok(_)) => Outcome::Success,
            Ok(Err(_)) | Err(_) => Outcome::Failure,
        };
        permit.finish(outcome).await;
        match result {
            Ok(Ok(reply)) if reply.status.is_success() => Ok(reply.body),
            Ok(Ok(reply)) => Err(self.refused(reply)),
            Ok(Err(cause)) => Err(self.failed(StatusCode::BAD_GATEWAY, &cause)),
            Err(_) => {
                let waited = humantime::format_duration(self.timeout);
                Err(self.failed(
                    StatusCode::GATEWAY_TIMEOUT,
                    &format!("timed out after {waited}"),
                ))
            }
        }
    }

    async fn exchange(&self, url: Url, trace: &TraceContext) -> Result<Reply, String> {
        let mut request = self.http.get(url);
        for (name, value) in trace.headers() {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(|e| causes(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| causes(&e))? {
            if bytes.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(format!("answer over {MAX_REPLY_BYTES} bytes"));
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// 503 `circuit breaker is open`, with the time until trial calls.
    fn open(&self, open: &CircuitOpen) -> AppError {
        let error = AppError::unavailable("circuit breaker is open")
            .with_code("circuit_open")
            .with_field("hop", self.spec.name);
        match open.retry_after {
            Some(after) => error.with_retry_after(after),
            None => error,
        }
    }

    /// Whether `reply` names a failing service other than this hop's.
    fn further_down(&self, reply: &Reply) -> bool {
        reply.body["hop"]
            .as_str()
            .is_some_and(|hop| hop != self.spec.name)
    }

    /// `status` with `failed to get <what>: <cause>`, naming this hop.
    fn failed(&self, status: StatusCode, cause: &str) -> AppError {
        AppError::new(status, format!("failed to get {}: {cause}", self.spec.what))
            .with_field("hop", self.spec.name)
    }

    /// The answer for a service's own error answer: 502 with its status, naming the hop it
    /// names (the failure may lie further down) and its error; a 503 with `Retry-After` stays
    /// a 503 with that delay (its `retry_after_ms` when it gives one, more precise).
    fn refused(&self, reply: Reply) -> AppError {
        let hop = reply.body["hop"]
            .as_str()
            .unwrap_or(self.spec.name)
            .to_owned();
        let shed_for = reply
            .retry_after
            .filter(|_| reply.status == StatusCode::SERVICE_UNAVAILABLE);
        let status = if shed_for.is_some() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::BAD_GATEWAY
        };
        let mut error = self
            .failed(status, &reply.status.to_string())
            .with_field("hop", hop);
        if let Some(cause) = reply.body["error"].as_str() {
            error = error.with_field("cause", cause);
        }
        if let Some(after) = shed_for {
            // The reason a service further down shed the call is the reason here too.
            if let Some(code) = reply.body["code"].as_str() {
                error = error.with_code(code);
            }
            let precise = reply.body["retry_after_ms"]
                .as_u64()
                .map(Duration::from_millis);
            error = error.with_retry_after(precise.unwrap_or(after));
        }
        error
    }

    /// The standard routes of a service that calls through `hop`: its `/health` says `UP` and
    /// shows the hop's breaker.
    pub fn app(hop: &Arc<Self>, server: &ServerConfig) -> App {
        let hop = Arc::clone(hop);
        App::new(server).health_check(move || {
            let hop = Arc::clone(&hop);
            async move {
                let mut fields = HealthFields::new();
                fields.insert("status".to_owned(), "UP".into());
                fields.insert("breaker".to_owned(), hop.health().await);
                fields
            }
        })
    }

    /// The breaker's name and shared state (`unknown` while Redis cannot say), for `/health`.
    pub async fn health(&self) -> Value {
        let state = match self.breaker.snapshot().await {
            Ok(snapshot) => snapshot.state.as_str(),
            Err(_) => "unknown",
        };
        json!({ "name": self.spec.name, "state": state })
    }
}

/// `raw` as the base URL of a service: `http://host:port`, nothing more.
fn base_url(raw: &str, setting: &str) -> Result<Url, ConfigError> {
    let url = service_kit::config::http_url(setting, raw)?;
    if url.path() != "/" {
        return Err(ConfigError::invalid(
            setting,
            format!("{raw:?} must be scheme, host and port only"),
        ));
    }
    Ok(url)
}

/// The error and its causes, as one line.
fn causes(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_is_an_http_origin() {
        assert!(base_url("http://127.0.0.1:8082", "X").is_ok());
        assert!(base_url("http://inventory:8082/", "X").is_ok());
        for bad in [
            "inventory:8082",
            "https://a:1",
            "http://a:1/api",
            "http://a:1?x=1",
            "nope",
        ] {
            let err = base_url(bad, "INVENTORY_SERVICE_URL").expect_err(bad);
            assert!(err.to_string().contains("INVENTORY_SERVICE_URL"), "{err}");
        }
    }
}
