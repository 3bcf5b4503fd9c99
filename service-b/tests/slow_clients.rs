//! The real `service-b` binary under a 256-descriptor limit, facing 1,000 connections that send
//! half a request head from one client: the service keeps answering others, and closes every
//! one of those connections (refused over the per-client cap, or answered 408 at the header
//! timeout).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use test_support::{ChildProcess, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;

const DEADLINE: Duration = Duration::from_secs(30);

async fn connect_from(from: Ipv4Addr, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((from, 0))).expect("bind");
    socket
        .connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_clients_do_not_stop_a_service_limited_to_256_descriptors() {
    test_support::raise_open_files(1_200);
    let port = free_port();
    let mut cmd = Command::new("prlimit");
    cmd.arg("--nofile=256:256")
        .arg(env!("CARGO_BIN_EXE_service-b"))
        .env_clear()
        .envs([
            ("PORT", port.to_string()),
            ("BIND_ADDR", "127.0.0.1".to_owned()),
            ("HTTP_HEADER_TIMEOUT", "2s".to_owned()),
            ("HTTP_MAX_CONNECTIONS", "200".to_owned()),
            ("HTTP_MAX_CONNECTIONS_PER_IP", "50".to_owned()),
        ]);
    let service = ChildProcess::spawn(cmd, "service-b").expect("prlimit (util-linux) starts");
    service
        .wait_for_line_async("listening on", DEADLINE)
        .await
        .expect("serves");

    let attacker = Ipv4Addr::new(127, 0, 0, 40);
    let mut slow = JoinSet::new();
    for _ in 0..1_000 {
        let mut stream = connect_from(attacker, port).await;
        // A refused connection may already be closed: the write may fail, the read tells.
        let _ = stream
            .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await;
        slow.spawn(async move {
            let mut answer = Vec::new();
            // Ended by the server: a close after our answer, or a reset when the refusal was
            // not written (more refusals at once than the server writes).
            let read = timeout(DEADLINE, stream.read_to_end(&mut answer)).await;
            let _ = read.expect("closed by the server");
            String::from_utf8_lossy(&answer).into_owned()
        });
    }
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(Ipv4Addr::new(127, 0, 0, 41)))
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let health = http
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .expect("/health answers within 1 s");
    assert_eq!(health.status(), 200);

    let (mut timed_out, mut refused) = (0, 0);
    while let Some(result) = slow.join_next().await {
        let answer = result.expect("task");
        if answer.starts_with("HTTP/1.1 408") {
            timed_out += 1;
        } else {
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 429"),
                "{answer}"
            );
            refused += 1;
        }
    }
    assert_eq!(
        timed_out, 50,
        "the client's 50 places, each closed by the header timeout"
    );
    assert_eq!(refused, 950, "the rest refused over the per-client cap");
    assert!(service.is_running(), "{}", service.output());
}
