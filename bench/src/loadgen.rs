//! A closed-loop HTTP/1.1 load generator for loopback: a fixed number of keep-alive connections,
//! each sending its next GET as soon as the previous answer's body has been read. Bounded in
//! connections and in time: it always stops.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::stats::Latency;

/// A request taking longer than this counts as an error and its connection is replaced.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What one run measured, over the measured window only (the warm-up is not counted).
#[derive(Default)]
pub struct Load {
    /// Requests started and answered within the window.
    pub requests: u64,
    /// Of those, answers that were not 2xx.
    pub non_2xx: u64,
    /// Connection failures, request errors and timeouts.
    pub errors: u64,
    /// Request latencies (send to the last byte of the body).
    pub latency: Latency,
    /// `requests` per second of window.
    pub rps: f64,
}

impl Load {
    fn add(&mut self, other: &Load) {
        self.requests += other.requests;
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
        self.latency.merge(&other.latency);
    }
}

/// `GET path` on `addr` (127.0.0.1 only) over `connections` connections: `warmup`, then
/// `duration` measured.
pub async fn run(
    addr: SocketAddr,
    path: &str,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Load> {
    if !addr.ip().is_loopback() {
        bail!("the load generator only targets loopback, not {addr}");
    }
    let started = Instant::now();
    let window = Window {
        from: started + warmup,
        end: started + warmup + duration,
    };
    let mut set = JoinSet::new();
    for _ in 0..connections {
        let path = path.to_owned();
        set.spawn(async move { connection(addr, &path, window).await });
    }
    let mut total = Load::default();
    let bound = warmup + duration + REQUEST_TIMEOUT + Duration::from_secs(5);
    let joined = tokio::time::timeout(bound, async {
        while let Some(done) = set.join_next().await {
            total.add(&done.context("a load connection panicked")?);
        }
        anyhow::Ok(())
    })
    .await;
    joined.context("the load generator overran its time bound")??;
    total.rps = total.requests as f64 / duration.as_secs_f64();
    Ok(total)
}

#[derive(Clone, Copy)]
struct Window {
    from: Instant,
    end: Instant,
}

impl Window {
    fn counts(&self, started: Instant, done: Instant) -> bool {
        started >= self.from && done <= self.end
    }
}

/// One connection's loop, reconnecting after an error until the window ends.
async fn connection(addr: SocketAddr, path: &str, window: Window) -> Load {
    let mut load = Load::default();
    let host = addr.to_string();
    while Instant::now() < window.end {
        let (mut sender, driver) = match connect(addr).await {
            Ok(pair) => pair,
            Err(_) => {
                load.errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while Instant::now() < window.end {
            let started = Instant::now();
            let answer = tokio::time::timeout(REQUEST_TIMEOUT, get(&mut sender, &host, path)).await;
            let done = Instant::now();
            match answer {
                Ok(Ok(ok)) => {
                    if window.counts(started, done) {
                        load.requests += 1;
                        load.non_2xx += u64::from(!ok);
                        load.latency.record(done - started);
                    }
                }
                Ok(Err(_)) | Err(_) => {
                    load.errors += 1;
                    break;
                }
            }
        }
        driver.abort();
    }
    load
}

type Sender = SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> anyhow::Result<(Sender, tokio::task::AbortHandle)> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok((sender, driver.abort_handle()))
}

/// One request; `Ok(true)` for a 2xx answer, its body read to the end.
async fn get(sender: &mut Sender, host: &str, path: &str) -> anyhow::Result<bool> {
    sender.ready().await?;
    let request = Request::get(path)
        .header(header::HOST, host)
        .body(Empty::new())?;
    let response = sender.send_request(request).await?;
    let ok = response.status().is_success();
    response.into_body().collect().await?;
    Ok(ok)
}

/// One `GET path` on `addr`, returning the body as text (for `/metrics`).
pub async fn fetch(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let (mut sender, driver) = connect(addr).await?;
    sender.ready().await?;
    let request = Request::get(path)
        .header(header::HOST, addr.to_string())
        .body(Empty::new())?;
    let response = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let response = sender.send_request(request).await?;
        anyhow::Ok(response.into_body().collect().await?.to_bytes())
    })
    .await
    .context("GET timed out")??;
    driver.abort();
    Ok(String::from_utf8_lossy(&response).into_owned())
}
