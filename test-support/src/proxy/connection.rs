//! One proxied connection: two pipes that obey the [`Control`] switchboard.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::control::{Control, cut, may_forward};

const CHUNK: usize = 16 * 1024;

/// Counts a connection as live for as long as it exists.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Proxies `client` to `upstream` until either side finishes or the connection is cut.
pub(crate) async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    mut ctl: watch::Receiver<Control>,
    epoch: u64,
    live: Arc<AtomicUsize>,
) {
    let _live = Live::new(live);
    let server = tokio::select! {
        connected = TcpStream::connect(upstream) => match connected {
            Ok(server) => server,
            Err(e) => {
                tracing::debug!(%upstream, error = %e, "chaos proxy cannot reach upstream");
                return;
            }
        },
        () = cut(&mut ctl, epoch) => return,
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // The first error (including a cut) drops the other pipe, and both sockets with it.
    let _ = tokio::try_join!(
        pipe(client_read, server_write, ctl.clone(), epoch),
        pipe(server_read, client_write, ctl, epoch),
    );
}

async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut ctl: watch::Receiver<Control>,
    epoch: u64,
) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => read?,
            () = cut(&mut ctl, epoch) => return Err(cut_error()),
        };
        if n == 0 {
            // Pass the half-close on; the other direction keeps going until it ends too.
            let _ = to.shutdown().await;
            return Ok(());
        }
        // Checked after every read, so bytes sent after `break_all` returns never pass.
        let delay = may_forward(&mut ctl, epoch).await.ok_or_else(cut_error)?;
        if !delay.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cut(&mut ctl, epoch) => return Err(cut_error()),
            }
        }
        tokio::select! {
            written = to.write_all(&buf[..n]) => written?,
            () = cut(&mut ctl, epoch) => return Err(cut_error()),
        }
    }
}

fn cut_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "cut by the chaos proxy")
}
