//! The fleet dashboard: every breaker in Redis with its state, counts, settings and history,
//! its transitions live as they happen, and the operator's overrides behind `ADMIN_TOKEN`.
//!
//! It needs no service: it reads the keys each breaker keeps in Redis (the state hash, the
//! capped `:history` stream, the `:settings` hash) through [`breaker_redis::admin`] and its
//! own pool, and listens on their `:events` channels.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the page (HTML, script and stylesheet compiled in; `Content-Security-Policy: default-src 'self'`) |
//! | `GET /api/breakers` | 200 `{"breakers":[B...],"truncated":bool}`, sorted by name, at most `MAX_BREAKERS`; `B` = [`breaker_redis::admin::BreakerSummary`]: `{"name","state","forced","generation","requests","failures","consecutive_failures","half_open_successes","open_until_ms","updated_at_ms","ttl_ms","stored","settings"}` (`ttl_ms` null while forced: no expiry; `settings` = `{"settings":{..},"replica","instance","written_at_ms"}` as a replica published them, or null) |
//! | `GET /api/breakers/{name}` | 200 `B` plus `"in_flight","window_start_ms","history_len","now_ms"` (counts of the current window) and `"history":[T...]`, the 20 latest transitions, newest first; 404 `{"error":"unknown breaker","name":N}` when Redis holds neither its state nor its settings |
//! | `GET /api/breakers/{name}/history?limit=N` | 200 `{"name":N,"history":[T...]}`, newest first, `limit` 1 to 1000 (default 50); 404 for an unknown breaker |
//! | `GET /api/events[?breaker=NAME]` | Server-Sent Events: `transition` events (data `T`, `id` = its history stream id) of every breaker or of one, resumed after `Last-Event-ID`; `status` events `{"redis":"up"\|"down"}`; a `keep-alive` comment every `SSE_KEEP_ALIVE` (see [`sse`]) |
//! | `POST /api/breakers/{name}/{open\|close\|disable\|reset}` | behind `Authorization: Bearer <ADMIN_TOKEN>`: 200 `{"action","breaker","from","to","forced","generation","at_ms"}`; 409 `{"error":"no usable settings"}` when the breaker's replicas have not published settings to build the override from |
//! | `GET /ready` | 200 `{"status":"ready",...}` when Redis answers and the live feed is subscribed; 503 `{"status":"not-ready","reason":...}` otherwise (service-kit's `/ready`) |
//! | `GET /health` | service-kit's `{"status","service","instance"}` plus `"redis":"ok"\|"down"` and `"feed":"ok"\|"down"`, `"status":"degraded"` while Redis is down; always 200: the dashboard is alive and says what it cannot see |
//! | `GET /metrics` | Prometheus text (service-kit's HTTP metrics) |
//!
//! `T` = `{"id","breaker","from","to","forced","generation","reason","at_ms","origin","instance"}`.
//!
//! Errors are JSON `{"error":..,"detail":..}`: 400 for a name that cannot be a breaker's
//! (`A-Z a-z 0-9 . _ - :`, 1 to 128 characters), a bad `limit`, query or `Last-Event-ID`;
//! 404 for an unknown breaker or override; 503 `{"error":"redis unavailable"}` while Redis
//! cannot be read (every API route, and the page says so), and 503 `{"error":"too many live
//! feeds"}` beyond `SSE_MAX_CLIENTS`. The override routes are guarded by
//! [`service_kit::admin`], checked before anything else: 404 `{"error":"admin endpoints are
//! disabled"}` without a token, 401 with `WWW-Authenticate: Bearer` without the header or with
//! a wrong token (compared in constant time), 429 once a client has failed too often.
//! A live feed opened while Redis is down still opens (200), sends `status` down, and catches
//! up from the streams once Redis is back.
//!
//! # Configuration
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PORT` | 8088 | 0 picks a free port (logged as `listening on <addr>`) |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | where the breakers live; Redis may be down at start |
//! | `ADMIN_TOKEN` | unset | enables the override routes; empty counts as unset; at least 16 bytes |
//! | `ADMIN_TOKEN_FILE` | unset | a file holding the token instead |
//! | `ADMIN_FAILURES__LIMIT`, `ADMIN_FAILURES__PERIOD` | 10, `1m` | failed override attempts per client and period before 429 |
//! | `KEY_PREFIX` | `breaker` | the breakers' key prefix (`BREAKER__KEY_PREFIX` of the services) |
//! | `REDIS_POOL_SIZE` | 8 | pooled Redis connections at most |
//! | `REDIS_TIMEOUT` | `2s` | longest wait for a pooled connection, a connection, an answer, and a whole read |
//! | `SSE_MAX_CLIENTS` | 64 | live feeds open at once |
//! | `SSE_KEEP_ALIVE` | `15s` | comment period of an idle live feed |
//! | `MAX_BREAKERS` | 1000 | breakers listed, and followed by a feed of every breaker, at most |
//! | `BIND_ADDR`, `INSTANCE_ID`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | | see [`service_kit`] |
//!
//! A bad value (`SSE_MAX_CLIENTS=0`, `REDIS_TIMEOUT=abc`, `REDIS_URL=http://x`,
//! `ADMIN_TOKEN=short`) makes the
//! binary print one line naming the variable and exit non-zero.
//!
//! # Redis
//!
//! Reads go through a deadpool-redis pool (`REDIS_POOL_SIZE`, every timeout set to
//! `REDIS_TIMEOUT`; deadpool's defaults would wait forever), never a breaker's multiplexed
//! connection. The live feed is one `PSUBSCRIBE <prefix>:{*}:events` on a dedicated
//! connection, shared by every browser through a broadcast channel and checked with a PING
//! every second; it reconnects with a back-off. The list, detail, history and overrides go
//! through [`breaker_redis::admin`] on a connection of the dashboard's own (one short
//! command or pipeline each, bounded by `REDIS_TIMEOUT`); overrides run the breakers' own
//! override script with the settings the breaker published.
//!
//! # Layout
//!
//! - `app`: [`router`], [`SERVICE`], the shared state, `/ready`, `/health`'s fields.
//! - `config`: [`Config`] and its validation into [`Limits`].
//! - `fleet`: [`Fleet`], the pool and the live feed's reads (which breakers have a history
//!   stream, what each holds after an id); `fleet::model`: [`Transition`], [`StreamId`].
//! - `feed`: the shared subscription and its broadcast.
//! - [`sse`]: `GET /api/events`, resuming from the streams without gaps or duplicates.
//! - `api`: the JSON routes; `admin`: the list, detail, history and overrides through
//!   [`breaker_redis::admin`], its errors as JSON answers.
//! - `page`: the page and its assets (`page/assets/`).

mod admin;
mod api;
mod app;
mod config;
mod feed;
mod fleet;
mod page;
pub mod sse;

pub use admin::{Action, Applied};
pub use app::{SERVICE, router};
pub use config::{Config, Limits};
pub use fleet::{BadStreamId, Fleet, FleetError, HISTORY_MAX, StreamId, Transition};
