//! [`RedisStore`]: breakers in Redis, every operation one Lua script.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, ScriptInvocation, ToRedisArgs, Value};
use tracing::{debug, info, warn};

use super::ops::{Exchanged, QueuedOutcome};
use super::scripts::{Op, SCRIPTS};
use super::settings_hash;
use super::subscriber::Subscriber;
use super::tls::RedisTls;
use super::{EventSink, Spec, StoreError, StoreFuture, StoreHealth, StoreOps, Subscription};
use crate::protocol::{ForceMode, Outcome, Reply, Snapshot};
use crate::wire;

/// Connection settings of a [`RedisStore`].
#[derive(Debug, Clone)]
pub struct RedisStoreOptions {
    /// Longest wait for a reply (default 100 ms). Breakers also apply their own
    /// `store_timeout` around every protected call.
    pub response_timeout: Duration,
    /// Longest wait for a new connection (default 500 ms).
    pub connection_timeout: Duration,
    /// Certificates for a `rediss://` URL (default: none, the system's roots).
    pub tls: RedisTls,
}

impl Default for RedisStoreOptions {
    fn default() -> Self {
        RedisStoreOptions {
            response_timeout: Duration::from_millis(100),
            connection_timeout: Duration::from_millis(500),
            tls: RedisTls::default(),
        }
    }
}

/// A multiplexed connection: one socket carries every concurrent call, so the hot path never
/// waits for a pool check-out (which costs a round trip of its own). Cheap to clone.
#[derive(Clone)]
pub enum Conn {
    /// A standalone Redis, reconnecting after failures.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Breakers in Redis (standalone or Cluster). Cheap to clone; clones share the connection and
/// one pub/sub subscriber, which every breaker built on them uses.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    /// Pub/sub needs a connection of its own; in a Cluster any node hears every PUBLISH.
    subscriber: Arc<Subscriber>,
    label: Arc<str>,
    /// Shared by every clone, so every breaker on this connection shares one health tracker.
    health: Arc<std::sync::OnceLock<StoreHealth>>,
    /// For connections of their own (pub/sub for tools watching transitions).
    client: redis::Client,
    /// The settings hashes being written now, so that replies reporting one missing while it
    /// is being written start no second write.
    writing: Arc<Mutex<HashSet<String>>>,
    /// How the scripts run: [`FUNCTIONS`] or [`SCRIPTS_ONLY`] once known, shared by clones.
    mode: Arc<AtomicU8>,
}

/// The scripts run as Redis Functions (`FCALL`): the prelude is loaded once, not run per call.
const FUNCTIONS: u8 = 0;
/// The scripts run with `EVALSHA`: Redis has no functions (before 7.0), or the user may not
/// load or call them.
const SCRIPTS_ONLY: u8 = 1;

/// One call of a breaker operation: its keys, and its arguments after `ARGV[1]` (`now`).
pub(crate) struct Call<'a> {
    op: Op,
    spec: &'a Spec,
    now: Option<u64>,
    args: Vec<Vec<u8>>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(op: Op, spec: &'a Spec, now: Option<u64>) -> Self {
        Call {
            op,
            spec,
            now,
            args: Vec::new(),
        }
    }

    pub(crate) fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        arg.write_redis_args(&mut self.args);
        self
    }

    fn now_arg(&self) -> String {
        self.now.map(|n| n.to_string()).unwrap_or_default()
    }

    fn fcall(&self) -> Cmd {
        let mut cmd = redis::cmd("FCALL");
        cmd.arg(SCRIPTS.function(self.op))
            .arg(self.spec.keys().len());
        cmd.arg(self.spec.keys().as_slice()).arg(self.now_arg());
        cmd.arg(self.spec.args()).arg(&self.args);
        cmd
    }

    fn invocation(&self) -> ScriptInvocation<'static> {
        let mut inv = SCRIPTS.script(self.op).prepare_invoke();
        for key in self.spec.keys() {
            inv.key(key);
        }
        inv.arg(self.now_arg());
        for arg in self.spec.args() {
            inv.arg(arg);
        }
        for arg in &self.args {
            inv.arg(arg.as_slice());
        }
        inv
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("redis", &self.label)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the standalone Redis at `url` (`redis://[user:password@]host:port/db`, or
    /// `rediss://` for TLS with [`RedisStoreOptions::tls`]). Does not fail when
    /// Redis is down: it connects on first use and reconnects after failures, so a service can
    /// start (degraded) before Redis does. Fails only for an invalid URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, RedisStoreOptions::default()).await
    }

    /// [`connect`](Self::connect) with explicit options.
    pub async fn connect_with(url: &str, options: RedisStoreOptions) -> Result<Self, StoreError> {
        let client = super::tls::client(url, &options.tls)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(options.response_timeout))
            .set_connection_timeout(Some(options.connection_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let conn = Conn::Single(ConnectionManager::new_lazy_with_config(
            client.clone(),
            config,
        )?);
        let store = RedisStore {
            subscriber: Arc::new(Subscriber::new(
                client.clone(),
                conn.clone(),
                options.connection_timeout,
            )),
            conn,
            label: redact(url).into(),
            health: Arc::default(),
            client,
            writing: Arc::default(),
            mode: Arc::new(AtomicU8::new(FUNCTIONS)),
        };
        if let Err(e) = store.load_scripts().await {
            let fix = super::refusal::Refusal::of(&e)
                .map(|r| r.to_string())
                .unwrap_or_default();
            warn!(redis = %store.label, error = %e, fix, "could not preload the breaker scripts; will load them on first use");
        }
        Ok(store)
    }

    /// A store on a Redis Cluster reached through any of `urls`. Connects at once.
    pub async fn connect_cluster(
        urls: &[String],
        options: RedisStoreOptions,
    ) -> Result<Self, StoreError> {
        let first = urls
            .first()
            .ok_or_else(|| StoreError::Protocol("no cluster node given".into()))?;
        let mut builder = redis::cluster::ClusterClientBuilder::new(urls.to_vec())
            .response_timeout(options.response_timeout)
            .connection_timeout(options.connection_timeout);
        if let Some(Some(certs)) = super::tls::certificates_for(first, &options.tls)? {
            builder = builder.certs(certs);
        }
        let client = builder.build()?;
        let conn = Conn::Cluster(client.get_async_connection().await?);
        let client = super::tls::client(first, &options.tls)?;
        let store = RedisStore {
            subscriber: Arc::new(Subscriber::new(
                client.clone(),
                conn.clone(),
                options.connection_timeout,
            )),
            conn,
            label: redact(first).into(),
            health: Arc::default(),
            client,
            writing: Arc::default(),
            mode: Arc::new(AtomicU8::new(FUNCTIONS)),
        };
        store.load_scripts().await?;
        Ok(store)
    }

    /// The multiplexed connection, for other features that keep state in the same Redis.
    pub fn connection(&self) -> Conn {
        self.conn.clone()
    }

    /// The client this store connects with, for connections of its own (pub/sub).
    pub(crate) fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The URL without its password, for logs and errors.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Loads the scripts now, so that a script Redis rejects fails at start rather than on the
    /// first call: the function library where Redis has functions (and the user may load and
    /// call them), every `EVALSHA` script otherwise. Later a missing library (after `FUNCTION
    /// FLUSH` or a restart) or a `NOSCRIPT` reloads on its own.
    pub async fn load_scripts(&self) -> Result<(), StoreError> {
        if self.mode.load(Ordering::Acquire) == FUNCTIONS {
            match self.load_library().await {
                Ok(()) => return Ok(()),
                Err(e) if functions_unavailable(&e) => self.without_functions(&e),
                Err(e) => return Err(e),
            }
        }
        let mut conn = self.conn.clone();
        for script in SCRIPTS.all() {
            script.load_async(&mut conn).await?;
        }
        Ok(())
    }

    /// `FUNCTION LOAD REPLACE` of the breaker's library (on every primary of a Cluster).
    async fn load_library(&self) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("FUNCTION");
        cmd.arg("LOAD").arg("REPLACE").arg(&SCRIPTS.library);
        let mut conn = self.conn.clone();
        let _: Value = cmd.query_async(&mut conn).await?;
        debug!(redis = %self.label, library = %SCRIPTS.library_name, "breaker function library loaded");
        Ok(())
    }

    /// Runs the scripts with `EVALSHA` from now on, saying why once.
    fn without_functions(&self, error: &StoreError) {
        if self.mode.swap(SCRIPTS_ONLY, Ordering::AcqRel) == FUNCTIONS {
            info!(redis = %self.label, reason = %error,
                "redis functions unavailable (Redis before 7.0, or a user without FUNCTION and FCALL); running the breaker scripts with EVALSHA");
        }
    }

    /// Runs one breaker operation: `FCALL` of its function, loading the library when Redis
    /// has lost it, or `EVALSHA` of its script where functions are unavailable.
    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        call: &Call<'_>,
    ) -> Result<T, StoreError> {
        if self.mode.load(Ordering::Acquire) == FUNCTIONS {
            let cmd = call.fcall();
            match self.query(&cmd).await {
                Err(e) if missing_function(&e) => {
                    debug!(redis = %self.label, "the breaker function library is missing; loading it");
                    match self.load_library().await {
                        Ok(()) => return self.query(&cmd).await,
                        Err(e) if functions_unavailable(&e) => self.without_functions(&e),
                        Err(e) => return Err(e),
                    }
                }
                Err(e) if functions_unavailable(&e) => self.without_functions(&e),
                result => return result,
            }
        }
        self.invoke(call.invocation()).await
    }

    /// Sends one command, trying once more on a connection that broke under it (see
    /// [`invoke`](Self::invoke)).
    async fn query<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        self.once_more(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// Runs a script on this store's connection (other features' scripts use it too).
    ///
    /// A connection that broke under the request (Redis restarted, a proxy reset it) is tried
    /// once more: the connection manager has reconnected by then, and a stale socket should
    /// not send a call into degraded mode while Redis answers. A timeout or an error Redis
    /// answered is not retried: the first would double the wait, the second would fail again.
    pub async fn invoke<T: redis::FromRedisValue>(
        &self,
        inv: ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let inv = &inv;
        self.once_more(|mut conn| async move { inv.invoke_async(&mut conn).await })
            .await
    }

    /// `send` on this store's connection, and once more if the connection broke under it.
    async fn once_more<T, F, Fut>(&self, send: F) -> Result<T, StoreError>
    where
        F: Fn(Conn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match send(self.conn.clone()).await {
            Ok(value) => Ok(value),
            Err(e) if super::is_broken_connection(&e) => {
                debug!(redis = %self.label, error = %e, "connection broke under a request; trying once more");
                Ok(send(self.conn.clone()).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the scripts run as functions (`FCALL`) rather than with `EVALSHA`.
    pub fn uses_functions(&self) -> bool {
        self.mode.load(Ordering::Acquire) == FUNCTIONS
    }

    async fn reply(&self, call: Call<'_>) -> Result<Reply, StoreError> {
        let raw: wire::RawReply = self.run(&call).await?;
        let (reply, settings_missing) = wire::reply(raw)?;
        if settings_missing {
            self.write_settings_soon(call.spec);
        }
        Ok(reply)
    }

    /// Publishes `spec`'s settings in its settings hash (`lua/settings.lua`), replacing what
    /// another replica wrote there.
    pub(crate) async fn write_settings(&self, spec: &Spec) -> Result<(), StoreError> {
        let mut call = Call::new(Op::Settings, spec, None);
        let fields = settings_hash::fields(spec);
        call.arg(fields.len() * 2);
        for (field, value) in &fields {
            call.arg(field).arg(value);
        }
        let _written_at: u64 = self.run(&call).await?;
        Ok(())
    }

    /// [`write_settings`](Self::write_settings) in the background (a breaker never waits on
    /// it, and a failure only means the next write of the state asks again), one write per
    /// breaker at a time. Does nothing outside a tokio runtime.
    fn write_settings_soon(&self, spec: &Spec) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let key = spec.settings().to_owned();
        if !lock(&self.writing).insert(key.clone()) {
            return;
        }
        let (store, spec) = (self.clone(), spec.clone());
        runtime.spawn(async move {
            let timeout = spec.config().store_timeout.max(SETTINGS_WRITE_TIMEOUT);
            let result = tokio::time::timeout(timeout, store.write_settings(&spec)).await;
            lock(&store.writing).remove(&key);
            match result {
                Ok(Ok(())) => debug!(breaker = spec.name(), "settings published in redis"),
                Ok(Err(e)) => {
                    debug!(breaker = spec.name(), error = %e, "could not publish the settings; the next write of the state asks again")
                }
                Err(_) => debug!(
                    breaker = spec.name(),
                    "publishing the settings timed out; the next write of the state asks again"
                ),
            }
        });
    }
}

/// `FCALL` of a function Redis does not have: the library was flushed, or Redis restarted
/// without it.
fn missing_function(e: &StoreError) -> bool {
    let StoreError::Redis(e) = e else {
        return false;
    };
    e.to_string().contains("Function not found")
}

/// Redis has no functions (an unknown command before 7.0, or one renamed away), or the user
/// may not load or call them.
fn functions_unavailable(e: &StoreError) -> bool {
    let StoreError::Redis(e) = e else {
        return false;
    };
    let text = e.to_string().to_lowercase();
    let unknown = text.contains("unknown command") || text.contains("unknown subcommand");
    // The refusal of FCALL or FUNCTION itself, not of a command a function runs.
    let refused =
        text.contains("noperm") && (text.contains("'fcall'") || text.contains("'function"));
    unknown || refused
}

/// The longest a background settings write may take (at least the breaker's store timeout).
const SETTINGS_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The URL without its password, for logs.
fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((scheme_user, host)) => {
            let scheme = scheme_user.split("://").next().unwrap_or("redis");
            format!("{scheme}://***@{host}")
        }
        None => url.to_owned(),
    }
}

impl StoreOps for RedisStore {
    fn acquire<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        permit: &'a str,
    ) -> StoreFuture<'a, Reply> {
        let mut call = Call::new(Op::Acquire, spec, now);
        call.arg(permit);
        Box::pin(self.reply(call))
    }

    fn record<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        permit: &'a str,
        admitted_at: u64,
        outcome: Outcome,
    ) -> StoreFuture<'a, Reply> {
        let mut call = Call::new(Op::Record, spec, now);
        call.arg(generation)
            .arg(permit)
            .arg(outcome.as_wire())
            .arg(admitted_at);
        Box::pin(self.reply(call))
    }

    fn exchange<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        outcomes: &'a [QueuedOutcome],
        permits: &'a [String],
    ) -> StoreFuture<'a, Exchanged> {
        let mut call = Call::new(Op::Exchange, spec, now);
        call.arg(outcomes.len());
        for o in outcomes {
            call.arg(o.generation)
                .arg(&o.permit)
                .arg(o.outcome.as_wire())
                .arg(o.admitted_at);
        }
        for permit in permits {
            call.arg(permit);
        }
        Box::pin(async move {
            let raw: wire::RawExchange = self.run(&call).await?;
            let (exchanged, settings_missing) = wire::exchange(raw, outcomes.len(), permits.len())?;
            if settings_missing {
                self.write_settings_soon(spec);
            }
            Ok(exchanged)
        })
    }

    fn coalesces(&self) -> bool {
        true
    }

    fn record_batch<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        generation: u64,
        outcomes: &'a [Outcome],
    ) -> StoreFuture<'a, Reply> {
        let letters: String = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Success => Some('S'),
                Outcome::Failure => Some('F'),
                Outcome::Ignored => None,
            })
            .collect();
        let mut call = Call::new(Op::RecordBatch, spec, now);
        call.arg(generation).arg(letters);
        Box::pin(self.reply(call))
    }

    fn force<'a>(
        &'a self,
        spec: &'a Spec,
        now: Option<u64>,
        mode: ForceMode,
    ) -> StoreFuture<'a, Reply> {
        let mut call = Call::new(Op::Force, spec, now);
        call.arg(mode.as_str());
        Box::pin(self.reply(call))
    }

    fn snapshot<'a>(&'a self, spec: &'a Spec, now: Option<u64>) -> StoreFuture<'a, Snapshot> {
        let call = Call::new(Op::Snapshot, spec, now);
        Box::pin(async move { wire::snapshot(self.run(&call).await?) })
    }

    fn subscribe(&self, spec: &Spec, sink: EventSink) -> Option<Subscription> {
        self.subscriber.register(spec, sink)
    }

    fn publish_settings(&self, spec: &Spec) {
        self.write_settings_soon(spec);
    }

    fn missing_rights<'a>(&'a self, spec: &'a Spec) -> StoreFuture<'a, Vec<String>> {
        Box::pin(self.rights(spec))
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn health(&self, retry_backoff: Duration) -> Option<StoreHealth> {
        Some(
            self.health
                .get_or_init(|| StoreHealth::new(retry_backoff))
                .clone(),
        )
    }
}
