//! Test harness for the workspace: real `redis-server` processes on free ports, a Redis
//! Cluster, a chaos TCP proxy, deadline polling, child processes that die with the test, and a
//! headless Chromium for the web pages.
//!
//! Everything here runs real processes on 127.0.0.1 and cleans up on drop; nothing is mocked.
//! Tests wait on conditions with a deadline ([`wait_until`]) rather than fixed sleeps.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use test_support::{ChaosProxy, RedisServer, wait_until};
//!
//! let server = RedisServer::start()?;
//! let proxy = ChaosProxy::for_server(&server).await?;
//! let client = redis::Client::open(proxy.url())?;
//! proxy.break_all();
//! proxy.restore();
//! wait_until(Duration::from_secs(5), "PING through the proxy", || async {
//!     match client.get_multiplexed_async_connection().await {
//!         Ok(mut con) => redis::cmd("PING").query_async::<String>(&mut con).await.is_ok(),
//!         Err(_) => false,
//!     }
//! })
//! .await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `server`: [`RedisServer`] and [`RedisServerBuilder`]; `spawn` starts one process and waits
//!   until it answers PING with our pid, `log` reads its log tail, `faketime` skews its clock
//!   ([`faketime_library`]).
//! - `tls`: [`TestCerts`], a throwaway CA with server and client certificates (rcgen), for a
//!   server started with [`RedisServerBuilder::tls`].
//! - `cluster`: [`RedisCluster`], three cluster-mode servers joined by `redis-cli`.
//! - `proxy`: [`ChaosProxy`]; `control` is its switchboard, `connection` one proxied connection.
//! - `wait`: [`wait_until`] and [`wait_until_blocking`].
//! - `child`: [`ChildProcess`]; `output` captures its lines.
//! - `cargo_bin`: [`cargo_bin`], the path of a workspace binary.
//! - `cli`: [`ServiceCli`], the command line every service binary must have.
//! - `ports`: [`free_port`], [`free_ports`].
//! - `process`: signals via the `kill` command, [`process_exists`].
//! - `promtool`: [`promtool_check_metrics`], `promtool check metrics` on a `/metrics` body.
//! - `browser`: [`Browser`], a headless Chromium, and its tabs ([`Page`]) driven over the
//!   DevTools protocol (`cdp`): navigate, evaluate, wait for text, collect console errors.
//! - `error_code`: [`take_error_code`], the `code` every JSON error answer must carry.
//! - `open_files`: [`raise_open_files`], for tests that hold many sockets.

mod browser;
mod cargo_bin;
mod child;
mod cli;
mod cluster;
mod error_code;
mod open_files;
mod ports;
mod process;
mod promtool;
mod proxy;
mod server;
mod tls;
mod wait;

pub use browser::{Browser, INSTALL_CHROMIUM, Page};
pub use cargo_bin::{cargo_bin, try_cargo_bin};
pub use child::ChildProcess;
pub use cli::ServiceCli;
pub use cluster::RedisCluster;
pub use error_code::take_error_code;
pub use open_files::{open_file_limits, raise_open_files};
pub use ports::{
    RefusingPort, free_port, free_ports, free_ports_besides, refusing_port, try_free_port,
};
pub use process::process_exists;
pub use promtool::{INSTALL_PROMETHEUS, promtool_check_metrics};
pub use proxy::ChaosProxy;
pub use server::{RedisServer, RedisServerBuilder, faketime_library};
pub use tls::TestCerts;
pub use wait::{POLL_INTERVAL, wait_until, wait_until_blocking};
