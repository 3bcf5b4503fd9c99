//! Serving a router until a shutdown future resolves, with a bounded drain.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// How long open connections may take to finish after shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish for
/// at most [`SHUTDOWN_GRACE`].
///
/// Each connection's peer address is available to handlers as
/// [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo) (for per-client limits).
///
/// # Errors
///
/// The listener fails.
pub async fn serve<F>(listener: TcpListener, router: Router, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let asked = Arc::new(Notify::new());
    let notify = Arc::clone(&asked);
    let make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, make_service)
        .with_graceful_shutdown(async move {
            shutdown.await;
            notify.notify_one();
        })
        .into_future();
    let deadline = async move {
        asked.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!("requests still running {SHUTDOWN_GRACE:?} after shutdown; stopping");
            Ok(())
        }
    }
}

/// A router served on `127.0.0.1:<free port>` in a background task; for tests.
///
/// Dropping it asks the server to stop; [`Spawned::stop`] also waits for it.
#[derive(Debug)]
pub struct Spawned {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

/// Serves `router` on a free loopback port in a background task.
///
/// # Errors
///
/// No port could be bound.
pub async fn spawn(router: Router) -> io::Result<Spawned> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(serve(listener, router, shutdown));
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
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(io::Error::other)?
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
