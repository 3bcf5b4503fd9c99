//! Service A: the caller of the demo. Its replicas call the flaky Service B through **one**
//! circuit breaker whose state lives in Redis (`breaker:{service-b}`), so they trip together,
//! share a fleet-wide limit of half-open trial calls, and recover together. While Redis is
//! unreachable each replica keeps protecting its calls with a local breaker (degraded mode) and
//! keeps serving.
//!
//! # Routes
//!
//! Every answer is JSON; every error has a stable `code` (see [`service_kit::AppError`]), and
//! RFC 9457 problem details for clients that ask for `application/problem+json`. `breaker` below is
//! `{"name":"service-b","state":S,"generation":G,"forced":F}`: the state, generation and
//! override the call was admitted or rejected under (while degraded, those of the local
//! breaker); `S` is `closed`, `open` or `half-open`, `F` is `none`, `open`, `closed` or
//! `disabled`.
//!
//! | route | answer |
//! |---|---|
//! | `GET /call-service-b` | calls `GET {SERVICE_B_URL}/hello` through the breaker (query strings are ignored; `traceparent`, `tracestate` and `x-request-id` are passed on), once unless `RETRY__MAX_ATTEMPTS` allows retries (see [Resilience](#resilience)): |
//! | | 200 `{"instance":ID,"upstream":<B's JSON body>,"breaker":{..}}` when B answers 2xx with JSON |
//! | | 502 `{"error":"service-b call failed","code":"upstream_failed","detail":D,"upstream_status":N,"breaker":{..}}` when B answers 5xx, 3xx, 408 or 429, cannot be reached, or sends a 2xx body that is not JSON (or over 1 MiB): a **failure** for the breaker (`upstream_status` only when B answered) |
//! | | 502, same body, when B answers any other 4xx: B is healthy and refused what A sent, so the call is **ignored** by the breaker (not counted), not retried, and never answered from the fallback |
//! | | 504 `{"error":"service-b timed out","code":"upstream_timeout","timeout_ms":N,"breaker":{..}}` when B's whole answer takes longer than `SERVICE_B_TIMEOUT`: a **failure** |
//! | | 503 `{"error":"circuit open","code":"circuit_open","retry_after_ms":N,"breaker":{..}}` with `Retry-After: <seconds, rounded up, at least 1>`, without calling B, when the breaker rejects the call (open, or half-open with every trial permit taken); forced open: `"retry_after_ms":null` and no `Retry-After` |
//! | | with `FALLBACK=last-good`, instead of any of these three errors when B's last good answer is remembered: 200 `{"instance":ID,"upstream":<B's last good body>,"breaker":{..},"fallback":true}` (`fallback` appears only on such answers; `breaker` is the circuit as the last attempt saw it) |
//! | | 429 `{"error":"rate limited","code":"rate_limited","retry_after_ms":N}` with `Retry-After` (whole seconds, rounded up, at least 1), without calling B, when the client's IP address has used its `RATE_LIMIT__*` quota |
//! | | 503 `{"error":"bulkhead full","code":"bulkhead_full","retry_after_ms":N}` with `Retry-After` (`N` is `SERVICE_B_TIMEOUT`, after which a slot is free at the latest), without calling B, when `BULKHEAD__MAX_CONCURRENT` calls are already in flight on this replica (after waiting `BULKHEAD__MAX_WAIT` for a slot) |
//! | `HEAD /call-service-b` | 405 `method_not_allowed` with `Allow: GET`, without calling B (axum would run the GET handler) |
//! | `GET /breaker` | 200 `{"name":"service-b","instance":ID,"degraded":bool,"state","forced","generation","open_until_ms","requests","failures","consecutive_failures","half_open_successes","in_flight","now_ms","repaired","retry_after_ms"}` (see [`breaker_redis::Snapshot`]); 503 `{"error":"breaker state unavailable","name":"service-b","instance":ID,"degraded":true}` when Redis cannot be read |
//! | `POST /breaker/open` | forces the circuit open for every replica |
//! | `POST /breaker/close` | forces it closed for every replica (admits everything, never trips) |
//! | `POST /breaker/reset` | clears any override and every count: a fresh closed circuit |
//! | `GET /health` | service-kit's `{"status","service","instance"}` plus `"redis":"ok"` or `"redis":"degraded"` (then also `"status":"degraded"`); always 200 |
//! | `GET /metrics` | Prometheus text; adds `upstream_calls_total{upstream="service-b",result="ok|failed|refused|timeout|rejected"}` (one per attempt) and `{result="rate_limited|bulkhead_full"}` (one per request shed before any attempt), `upstream_retries_total{upstream="service-b"}` (attempts after the first) and `upstream_fallbacks_total{upstream="service-b"}` (answers from the last good answer) to the breaker's, the toolkit's (`rate_limit_*`, `bulkhead_*`) and service-kit's metrics |
//!
//! The three `POST /breaker/*` routes need `Authorization: Bearer <ADMIN_TOKEN>` (compared in
//! constant time; any body is ignored) and answer 200
//! `{"name":"service-b","instance":ID,"action":"open|close|reset","state":S,"forced":F,"generation":G}`;
//! 401 `{"error":"unauthorized","code":"unauthorized","detail":..}` with `WWW-Authenticate: Bearer`
//! without the header or with a wrong token; 400 with two `Authorization` headers; 429
//! `rate_limited` with `Retry-After` once the client has failed `ADMIN_FAILURES__LIMIT` times
//! within `ADMIN_FAILURES__PERIOD`; 404 `{"error":"admin endpoints are disabled",..}` when no
//! token is set (see [`service_kit::admin`]); 503 as `GET /breaker` when Redis cannot be reached (an override lives in Redis, so
//! it is never applied to one replica only). Unknown routes answer JSON 404, wrong methods 405
//! (service-kit).
//!
//! # Configuration
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PORT` | 8080 | 0 picks a free port (logged as `listening on <addr>`) |
//! | `INSTANCE_ID` | `service-a-<host>-<pid>` | this replica's id, in answers and as the breaker's replica id |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | where the shared circuit lives; Redis may be down at start |
//! | `SERVICE_B_URL` | `http://127.0.0.1:8081` | an `http://` URL; `/hello` is appended to its path |
//! | `SERVICE_B_TIMEOUT` | `2s` | limit on the whole call to B (humantime: `500ms`, `2s`) |
//! | `ADMIN_TOKEN` | unset | enables the `POST /breaker/*` routes; empty counts as unset; at least 16 bytes, no surrounding whitespace |
//! | `ADMIN_TOKEN_FILE` | unset | instead of `ADMIN_TOKEN`: a file holding the token (one trailing newline dropped) |
//! | `ADMIN_FAILURES__LIMIT`, `ADMIN_FAILURES__PERIOD` | 10, `1m` | failed admin attempts allowed per client (IPv4 address, IPv6 /64) per period |
//! | `BREAKER__MAX_REQUESTS` | 3 | half-open trial calls at once, fleet-wide |
//! | `BREAKER__INTERVAL` | `5s` | the closed state's counting window |
//! | `BREAKER__TIMEOUT` | `10s` | time open before trial calls |
//! | `BREAKER__MIN_REQUESTS`, `BREAKER__FAILURE_RATIO` | 3, 0.6 | trip when at least 3 calls in the window and at least 60 % failed |
//! | `BREAKER__LEASE` | `SERVICE_B_TIMEOUT` + 1 s, at least `10s` | how long an unrecorded trial permit holds its place |
//! | `BREAKER__ADMISSION` | `strict` | `cached`: closed-state calls are admitted from this replica's view of the shared state with no Redis round trip, outcomes sent in batches (`BREAKER__FLUSH_INTERVAL`, `BREAKER__MAX_BATCH`, `BREAKER__MAX_STALENESS`); see [`breaker_redis::Admission`] |
//! | `BREAKER__*` | | every other field of [`breaker_redis::Settings`]: `TRIP`, `FAILURES`, `ROLLING_WINDOW`, `BUCKETS`, `SUCCESS_THRESHOLD`, `SLOW_CALL_THRESHOLD`, `KEY_PREFIX`, `KEY_TTL`, `STORE_TIMEOUT`, `RETRY_BACKOFF`, `DEGRADED_MODE`; an unknown one is an error |
//! | `BREAKER_BACKEND` | `redis` | where the breaker lives: `redis` (shared by every replica), `memory` (a breaker of the same configuration in this process only; Redis is never used), `none` (no breaker: B is always called, `breaker` is `null` in answers, `/breaker*` answer 404). `memory` and `none` exist to measure what the shared circuit costs (`scripts/bench`); `/health` then reports `"breaker":"memory"` or `"none"` instead of `redis` |
//! | `RETRY__MAX_ATTEMPTS` | unset (1) | attempts per request, the first included; 1 is no retry |
//! | `RETRY__BASE_DELAY`, `RETRY__MAX_DELAY`, `RETRY__MULTIPLIER` | `100ms`, `2s`, 2 | backoff with full jitter: the n-th delay (from 0) is random in `[0, min(MAX_DELAY, BASE_DELAY × MULTIPLIER^n)]` |
//! | `RETRY__BUDGET_RATIO`, `RETRY__BUDGET_MIN_PER_SEC`, `RETRY__BUDGET_WINDOW` | 0.2, 10, `10s` | retry budget, per replica: retries add at most 20 % to the requests of the last 10 s, plus 10 a second (see [`resilience::retry::BudgetPolicy`]) |
//! | `RATE_LIMIT__PER_SECOND` | unset (off; 0 is off too) | requests a second per client IP address, fleet-wide (GCRA in Redis) |
//! | `RATE_LIMIT__BURST` | `PER_SECOND` | requests a client may make at once |
//! | `RATE_LIMIT__RATE` | unset | instead of `PER_SECOND`: `<count>/<period>`, e.g. `100/1m` |
//! | `RATE_LIMIT__KEY_PREFIX`, `RATE_LIMIT__STORE_TIMEOUT`, `RATE_LIMIT__RETRY_BACKOFF` | `rate-limit`, `100ms`, `1s` | keys `<prefix>:{call-service-b:<ip>}` (`<ip>` an IPv4 address or an IPv6 `<network>/64`); longest wait for Redis per check; time Redis is skipped after it failed |
//! | `BULKHEAD__MAX_CONCURRENT` | unset (off; 0 is off too) | `/call-service-b` requests in flight at once on this replica (all attempts of one request hold one slot) |
//! | `BULKHEAD__MAX_WAIT` | `0s` | how long a request waits for a slot before its 503 |
//! | `FALLBACK` | `none` | `last-good`: remember every good answer of B in Redis (`breaker:{service-b}:last-good`, shared by every replica) and serve it in place of a 502, 503 (circuit open) or 504 |
//! | `FALLBACK_TTL` | `5m` | how long a good answer may be served; one `_`, as `FALLBACK` itself is a value |
//! | `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | | see [`service_kit`] |
//!
//! A bad value (`BREAKER__MAX_REQUESTS=0`, `BREAKER__FAILURE_RATIO=2`, `SERVICE_B_TIMEOUT=abc`,
//! `SERVICE_B_URL=ftp://x`, `BREAKER_BACKEND=disk`, `RETRY__MAX_ATTEMPTS=0`,
//! `RATE_LIMIT__BURST=abc`, `FALLBACK=maybe`) or an unknown variable of a section
//! (`BREAKER__*`, `RETRY__*`, `RATE_LIMIT__*`, `BULKHEAD__*`) makes the binary print one line
//! naming the variable and exit non-zero.
//!
//! # Resilience
//!
//! Every pattern is off by default, so the plain demo shows B's failures. From the caller
//! inwards, a request to `/call-service-b` goes through:
//!
//! 1. **rate limit** (`RATE_LIMIT__*`): one budget per client IPv4 address or IPv6 /64 (the
//!    connection's peer; `X-Forwarded-For` is not trusted, so behind a proxy every client is
//!    the proxy), shared by
//!    every replica through Redis; excess is shed before it costs anything. While Redis is
//!    unreachable each replica enforces the same quota on its own (the fleet then admits up to
//!    replicas × quota), never an error; that local limiter tracks at most
//!    [`resilience::rate_limit::LOCAL_CAPACITY`] clients.
//! 2. **bulkhead** (`BULKHEAD__*`): at most N requests in flight per replica; a request holds
//!    its slot through all its attempts, so retries cannot multiply the load.
//! 3. **fallback** (`FALLBACK`): answers the outcome of the steps below (a 502, 504 or circuit
//!    open 503) with B's last good answer, which any replica may have remembered.
//! 4. **retry** (`RETRY__*`): another attempt after B failed (5xx, 3xx, 408, 429, unreachable,
//!    unreadable) or timed out, never after a refusal (another 4xx) or a rejection.
//! 5. **breaker**: every attempt asks it and is recorded by it before the next one, so an
//!    attempt that trips the circuit ends the retries.
//! 6. **time limit** (`SERVICE_B_TIMEOUT`): bounds one attempt; a timed-out attempt is one
//!    failure. A request may take `RETRY__MAX_ATTEMPTS` × `SERVICE_B_TIMEOUT` plus the delays.
//! 7. the **call** to B.
//!
//! Redis round trips per request, on top of the breaker's: 1 for the rate limit (one script),
//! none for the bulkhead and retry (each retry is one more breaker call), 1 `SET` in the
//! background after each good answer and 1 `GET` only when falling back. With
//! `BREAKER_BACKEND=memory` or `none` the rate limits and the last good answer stay in each
//! process.
//!
//! # Logs
//!
//! The breaker logs this replica's transitions at info; other replicas' transitions (learnt
//! through Redis pub/sub) are logged at info too; each call, rejection and override at debug.
//!
//! # Layout
//!
//! - `app`: [`router`], [`SERVICE`], [`StartError`], `/health`'s fields.
//! - `state`: the state the handlers share, and [`BREAKER_NAME`].
//! - `config`: [`Config`] and its validation; `config::patterns`: the `RETRY__*`,
//!   `RATE_LIMIT__*`, `BULKHEAD__*` sections (the `resilience` crate's settings types) and
//!   [`FallbackMode`].
//! - `patterns`: the rate limiter, bulkhead, retry policy and last good answer, built from
//!   the configuration.
//! - `call`: `GET /call-service-b`; `call::stack`: the tower `ServiceBuilder` stack, in the
//!   order above; `call::breaker`: the breaker step, which reports the circuit each attempt
//!   saw; `call::respond`: its answers.
//! - `client`: the client's IP address, the key of its rate limit.
//! - `upstream`: the HTTP client for B and how its answers fail.
//! - `admin`: `GET /breaker`, `POST /breaker/*`, guarded by [`service_kit::admin`].

mod admin;
mod app;
mod call;
mod client;
mod config;
mod patterns;
mod state;
mod upstream;

pub use app::{SERVICE, StartError, router};
pub use config::{Backend, Config, FallbackMode};
pub use patterns::RATE_LIMITER_NAME;
pub use state::BREAKER_NAME;
