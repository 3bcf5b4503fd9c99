//! [`ChaosProxy`]: a TCP proxy that breaks, stalls or slows the network to an upstream.

mod connection;
mod control;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use control::{Control, Mode};

/// A TCP proxy on 127.0.0.1 in front of an upstream (usually a [`RedisServer`](crate::RedisServer)),
/// with switches for network faults.
///
/// Point the code under test at [`url`](Self::url) instead of the server's. The switches take
/// effect for every byte read after they return. Dropping the proxy stops it and closes all its
/// connections. It must be started and used inside a tokio runtime.
#[derive(Debug)]
pub struct ChaosProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    control: watch::Sender<Control>,
    live: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl ChaosProxy {
    /// Listens on a free 127.0.0.1 port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the chaos proxy")?;
        let addr = listener.local_addr()?;
        let (control, ctl) = watch::channel(Control::new());
        let live = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(accept_loop(listener, upstream, ctl, Arc::clone(&live)));
        Ok(Self {
            addr,
            upstream,
            control,
            live,
            task,
        })
    }

    /// Starts a proxy in front of a [`RedisServer`](crate::RedisServer).
    pub async fn for_server(server: &crate::RedisServer) -> anyhow::Result<Self> {
        Self::start(SocketAddr::from((Ipv4Addr::LOCALHOST, server.port()))).await
    }

    /// The proxy's listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address connections are forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// `redis://127.0.0.1:PORT/` for the proxy.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Closes every live connection and accepts-then-drops new ones until
    /// [`restore`](Self::restore), like a server that resets connections.
    pub fn break_all(&self) {
        self.control.send_modify(|c| {
            c.mode = Mode::Broken;
            c.epoch += 1;
        });
    }

    /// Keeps connections open (and accepts new ones) but forwards no bytes until
    /// [`restore`](Self::restore), like a stalled network. Held bytes are delivered afterwards.
    pub fn blackhole(&self) {
        self.control.send_modify(|c| c.mode = Mode::Blackhole);
    }

    /// Delays each forwarded chunk by `delay`, in both directions (a request-response round
    /// trip gains about twice `delay`).
    pub fn set_delay(&self, delay: Duration) {
        self.control.send_modify(|c| c.delay = delay);
    }

    /// Back to a healthy network: forwarding, no delay. Connections closed by
    /// [`break_all`](Self::break_all) stay closed; clients must reconnect.
    pub fn restore(&self) {
        self.control.send_modify(|c| {
            c.mode = Mode::Forward;
            c.delay = Duration::ZERO;
        });
    }

    /// How many client connections the proxy currently holds.
    pub fn live_connections(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.control.send_modify(|c| c.mode = Mode::Stopped);
        // Aborting drops the JoinSet of connection tasks, which aborts them too.
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    ctl: watch::Receiver<Control>,
    live: Arc<AtomicUsize>,
) {
    let mut connections = JoinSet::new();
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(e) => {
                // Such as EMFILE: back off instead of spinning.
                tracing::debug!(error = %e, "chaos proxy accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let control = *ctl.borrow();
        match control.mode {
            Mode::Broken => drop(socket),
            Mode::Stopped => return,
            Mode::Forward | Mode::Blackhole => {
                connections.spawn(connection::serve(
                    socket,
                    upstream,
                    ctl.clone(),
                    control.epoch,
                    Arc::clone(&live),
                ));
            }
        }
    }
}
