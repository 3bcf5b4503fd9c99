//! Serving a router until a shutdown future resolves, with a bounded drain, under the
//! connection limits of [`Limits`] (`HTTP_*`).
//!
//! Every connection is served by hyper's HTTP/1.1 over a guarded socket (`io`): request heads
//! are checked as they arrive (`scan`), so that a head hyper would refuse with an empty body is
//! answered with a JSON error instead (400, 414, 431), a head that does not arrive in time gets a
//! 408, and an idle keep-alive connection is closed. Connections over the service's or a
//! client's limit (`tracker`) are answered 503 or 429 (`too_many_connections`, `Retry-After: 1`)
//! and closed at once.
//!
//! Layout: `limits` ([`Limits`]), `tracker` (connection counts), `scan` (the head checks), `io`
//! (the guarded socket), `reply` (answers written straight to a socket), `conn` (one
//! connection).

mod conn;
mod io;
mod limits;
mod reply;
mod scan;
mod tracker;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use limits::Limits;
use tracker::{Full, Tracker};

/// How long open connections may take to finish after shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Refusals being written at once; beyond this, refused connections are just closed, so that a
/// flood cannot turn refusals into open sockets.
const MAX_REFUSING: usize = 64;

/// [`serve_with`] and the default [`Limits`].
///
/// # Errors
///
/// Never in practice: accept errors (e.g. out of file descriptors) are logged and retried.
pub async fn serve<F>(listener: TcpListener, router: Router, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with(listener, router, Limits::default(), shutdown).await
}

/// Serves `router` on `listener` under `limits` until `shutdown` resolves, then stops accepting,
/// closes idle connections and lets open requests finish for at most [`SHUTDOWN_GRACE`].
///
/// Each request carries its connection's peer address as
/// [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo) (for per-client limits).
///
/// # Errors
///
/// Never in practice: accept errors (e.g. out of file descriptors) are logged and retried.
pub async fn serve_with<F>(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let tracker = Tracker::new(&limits);
    let refusing = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of descriptors or memory: the next accept may work once some close.
                tracing::warn!("cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match tracker.admit(peer.ip()) {
            Ok(slot) => {
                let (router, stopped) = (router.clone(), stopped.clone());
                tokio::spawn(conn::serve(stream, peer, router, limits, slot, stopped));
            }
            Err(full) => refuse(stream, peer, full, &refusing),
        }
    }
    drop(listener);
    let _ = stop.send(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.drained())
        .await
        .is_err()
    {
        tracing::warn!("requests still running {SHUTDOWN_GRACE:?} after shutdown; stopping");
    }
    Ok(())
}

/// Answers a connection over a limit and closes it, in the background.
fn refuse(mut stream: TcpStream, peer: SocketAddr, full: Full, refusing: &Arc<AtomicUsize>) {
    let (status, message) = match full {
        Full::Service => (503, "too many connections to this service"),
        Full::Client => (429, "too many connections from this client"),
    };
    tracing::debug!(client = %peer, status, "connection refused: {message}");
    if refusing.fetch_add(1, Ordering::SeqCst) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let refusing = Arc::clone(refusing);
    let reply = reply::with_code(
        status,
        message,
        "too_many_connections",
        &[("retry-after", "1")],
    );
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.write_all(&reply).await?;
            stream.shutdown().await?;
            // Reading what the client already sent lets the close be a FIN, not a reset that
            // could destroy our answer before the client reads it.
            let mut sink = [0u8; 4096];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
        refusing.fetch_sub(1, Ordering::SeqCst);
    });
}

/// A router served on `127.0.0.1:<free port>` in a background task; for tests.
///
/// Dropping it asks the server to stop; [`Spawned::stop`] also waits for it.
#[derive(Debug)]
pub struct Spawned {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Serves `router` on a free loopback port in a background task, with the default limits.
///
/// # Errors
///
/// No port could be bound.
pub async fn spawn(router: Router) -> std::io::Result<Spawned> {
    spawn_with(router, Limits::default()).await
}

/// [`spawn`] under `limits`.
///
/// # Errors
///
/// No port could be bound.
pub async fn spawn_with(router: Router, limits: Limits) -> std::io::Result<Spawned> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(serve_with(listener, router, limits, shutdown));
    Ok(Spawned {
        addr,
        stop: Some(stop),
        task,
    })
}

impl Spawned {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server and waits until it has.
    ///
    /// # Errors
    ///
    /// The server failed, or its task panicked.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(std::io::Error::other)?
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
