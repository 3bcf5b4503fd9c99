//! One accepted connection, served by hyper over a [`Guarded`] socket until it closes or the
//! server shuts down.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::ServiceExt;

use super::io::{Guarded, Progress};
use super::limits::Limits;
use super::tracker::Slot;

/// Serves `stream` until it closes; the connection holds `slot` meanwhile.
pub(super) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    slot: Slot,
    mut stop: watch::Receiver<bool>,
) {
    let _slot = slot;
    // Answers are small and written whole; waiting to fill a segment only adds latency.
    let _ = stream.set_nodelay(true);
    let progress = Progress::new();
    let io = TokioIo::new(Guarded::new(stream, limits, Arc::clone(&progress)));
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        progress.start();
        let done = Done(Arc::clone(&progress));
        async move {
            let response = match router.oneshot(req.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(response.map(|inner| Tracked { inner, _done: done }))
        }
    });
    let mut builder = http1::Builder::new();
    // Our own timeouts apply (see `io`); hyper's would also close idle keep-alive connections
    // after the head timeout.
    builder.header_read_timeout(None).keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(client = %peer, "connection ended: {e}");
    }
}

/// Resolves once the server stops (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Tells the socket's guard that an answer is finished when dropped: after its body was sent,
/// or when the request was abandoned.
struct Done(Arc<Progress>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// An answer's body, carrying its [`Done`] until hyper has sent it and drops it.
struct Tracked {
    inner: Body,
    _done: Done,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
