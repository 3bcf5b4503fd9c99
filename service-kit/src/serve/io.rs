//! [`Guarded`]: a connection's socket as hyper sees it, enforcing the head limits and timeouts
//! on the bytes hyper reads.
//!
//! While a request head is being received the bytes go through a [`Scanner`]; a head it refuses
//! is hidden from hyper, answered here with a JSON error and the connection closed (hyper sees
//! the end of the stream and writes nothing). Between the end of a head and the end of its
//! answer the bytes pass unchecked (a body, or a pipelined request). Deadlines: an idle
//! connection (no byte of a new head since it opened or since the last answer ended) is closed
//! after `idle_timeout`; a head not complete `header_timeout` after its first byte gets a 408.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker, ready};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::limits::Limits;
use super::reply;
use super::scan::{Refusal, Scan, Scanner};

/// Requests on one connection, told by the service side: how many hyper started (it may parse a
/// pipelined head the guard let through unchecked), how many answers finished and when the last
/// did, and the connection's task to wake so that it starts the idle deadline (hyper does not
/// read again after an answer until something wakes it).
#[derive(Debug)]
pub struct Progress(Mutex<Finished>);

#[derive(Debug)]
struct Finished {
    started: u64,
    count: u64,
    last: Instant,
    waker: Option<Waker>,
}

impl Progress {
    /// No answer yet; the connection opened now.
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(Finished {
            started: 0,
            count: 0,
            last: Instant::now(),
            waker: None,
        })))
    }

    /// Hyper handed a request to the service.
    pub fn start(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .started += 1;
    }

    /// One more answer was sent completely (or abandoned).
    pub fn done(&self) {
        let mut p = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        p.count += 1;
        p.last = Instant::now();
        if let Some(waker) = p.waker.take() {
            waker.wake();
        }
    }

    /// Requests started, answers finished and when the last was; registers `waker` for the
    /// next answer.
    fn get(&self, waker: &Waker) -> (u64, u64, Instant) {
        let mut p = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        p.waker = Some(waker.clone());
        (p.started, p.count, p.last)
    }
}

enum Mode {
    /// Receiving a head; `since` is when the connection went idle (no byte yet) or the head's
    /// first byte arrived.
    Head {
        scanner: Scanner,
        since: Instant,
    },
    /// Heads complete so far; waiting for their answers.
    Busy {
        heads: u64,
    },
    /// Writing our own answer, then the end of the stream.
    Refusing {
        reply: Vec<u8>,
        written: usize,
    },
    Closed,
}

/// The socket, with the limits applied on reads.
pub struct Guarded {
    io: TcpStream,
    limits: Limits,
    progress: Arc<Progress>,
    mode: Mode,
    heads: u64,
    timer: Pin<Box<Sleep>>,
}

impl Guarded {
    /// Wraps an accepted socket; must be called inside the runtime (it creates a timer).
    pub fn new(io: TcpStream, limits: Limits, progress: Arc<Progress>) -> Self {
        let now = Instant::now();
        Self {
            io,
            limits,
            progress,
            mode: Mode::Head {
                scanner: Scanner::new(),
                since: now,
            },
            heads: 0,
            timer: Box::pin(tokio::time::sleep_until((now + limits.idle_timeout).into())),
        }
    }

    /// Back to receiving a head once every request's answer is finished.
    fn catch_up(&mut self, cx: &Context<'_>) {
        if matches!(self.mode, Mode::Refusing { .. } | Mode::Closed) {
            return;
        }
        let (started, done, at) = self.progress.get(cx.waker());
        if started > self.heads {
            // Hyper parsed a pipelined head that passed unchecked: busy until it is answered.
            self.heads = started;
            self.mode = Mode::Busy { heads: started };
        }
        if let Mode::Busy { heads } = self.mode
            && done >= heads
        {
            self.mode = Mode::Head {
                scanner: Scanner::new(),
                since: at,
            };
        }
    }

    fn refuse(&mut self, status: u16, message: &str) {
        tracing::debug!(status, "request head refused: {message}");
        self.mode = Mode::Refusing {
            reply: reply::json(status, message, &[]),
            written: 0,
        };
    }

    /// Writes our answer, shuts the socket's write side and reports the end of the stream.
    fn poll_refusing(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Mode::Refusing { reply, written } = &mut self.mode {
            if *written < reply.len() {
                let n = ready!(Pin::new(&mut self.io).poll_write(cx, &reply[*written..]))?;
                if n == 0 {
                    self.mode = Mode::Closed;
                    break;
                }
                *written += n;
            } else {
                // A peer that went away cannot be told; the stream ends either way.
                let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                self.mode = Mode::Closed;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Checks newly read bytes; `Err` when the head is refused.
    fn scan(&mut self, new: &[u8]) -> Result<(), Refusal> {
        let Mode::Head { scanner, since } = &mut self.mode else {
            return Ok(());
        };
        if !scanner.started() {
            *since = Instant::now();
        }
        if let Scan::End(_) = scanner.scan(new, &self.limits)? {
            // Bytes after the head are a body or a pipelined request, passed unchecked.
            self.heads += 1;
            self.mode = Mode::Busy { heads: self.heads };
        }
        Ok(())
    }

    /// Waits for the current deadline; `Ready` once it passed (and was acted on).
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Mode::Head { scanner, since } = &self.mode else {
            return Poll::Pending;
        };
        let (started, since) = (scanner.started(), *since);
        let limit = if started {
            self.limits.header_timeout
        } else {
            self.limits.idle_timeout
        };
        let deadline = tokio::time::Instant::from_std(since + limit);
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        ready!(self.timer.as_mut().poll(cx));
        if started {
            self.refuse(408, "request head not received in time");
        } else {
            self.mode = Mode::Closed;
        }
        Poll::Ready(())
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.catch_up(cx);
        match this.mode {
            Mode::Refusing { .. } => return this.poll_refusing(cx),
            Mode::Closed => return Poll::Ready(Ok(())),
            Mode::Head { .. } | Mode::Busy { .. } => {}
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if let Err(refusal) = this.scan(&buf.filled()[before..]) {
                    buf.set_filled(before);
                    this.refuse(refusal.status, refusal.message);
                    return this.poll_refusing(cx);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                ready!(this.poll_deadline(cx));
                this.poll_refusing(cx)
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
