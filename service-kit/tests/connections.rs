//! Slow, idle and too many connections, and heads hyper would refuse, over real loopback
//! sockets: the server's limits (`HTTP_*`) answer with JSON and close, and `/health` keeps
//! answering.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use serde_json::Value;
use service_kit::{App, Limits, ServerConfig, Spawned};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;

/// Long enough for anything the server must do; only a server that never does it meets it.
const DEADLINE: Duration = Duration::from_secs(20);

async fn start(limits: Limits) -> Spawned {
    let server = ServerConfig::new("kit-test", 0);
    let slow = get(|| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        "done"
    });
    let router = App::new(&server).build(Router::new().route("/slow", slow));
    service_kit::spawn_with(router, limits)
        .await
        .expect("server starts")
}

/// A connection to `to` from the loopback address `127.0.0.<from>` (any 127/8 address is local).
async fn connect_from(from: u8, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, from), 0)))
        .expect("bind");
    socket.connect(to).await.expect("connect")
}

/// Everything the server sends until it closes the connection, or panics at the deadline.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    timeout(DEADLINE, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

/// The status and JSON body of a raw answer.
fn parse(answer: &str) -> (u16, Value) {
    let status = answer
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer:?}"));
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_heads_leave_health_answering_and_are_each_closed_by_the_header_timeout() {
    // 1,000 client sockets and the server's 1,000 in this one process.
    test_support::raise_open_files(2_200);
    let app = start(Limits {
        header_timeout: Duration::from_secs(2),
        max_connections: 1_100,
        max_connections_per_ip: 100,
        ..Limits::default()
    })
    .await;
    let mut slow = Vec::with_capacity(1_000);
    for i in 0..1_000 {
        // Ten clients of 100 connections each, from 127.0.0.2 to 127.0.0.11.
        let mut stream = connect_from(2 + (i / 100) as u8, app.addr()).await;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("partial head sent");
        slow.push(stream);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let health = http
        .get(app.url("/health"))
        .send()
        .await
        .expect("/health answers within 1 s");
    assert_eq!(health.status(), 200);

    let mut closing = JoinSet::new();
    for mut stream in slow {
        closing.spawn(async move { read_until_closed(&mut stream).await });
    }
    let mut closed = 0;
    while let Some(answer) = closing.join_next().await {
        let (status, body) = parse(&answer.expect("task"));
        assert_eq!(
            (status, &body["code"]),
            (408, &Value::from("request_timeout")),
            "{body}"
        );
        closed += 1;
    }
    assert_eq!(closed, 1_000);
}

#[tokio::test]
async fn connections_over_the_per_client_cap_are_refused_with_json_and_others_are_not() {
    let app = start(Limits {
        max_connections: 50,
        max_connections_per_ip: 3,
        ..Limits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(20, app.addr()).await);
    }
    let mut excess = connect_from(20, app.addr()).await;
    let answer = read_until_closed(&mut excess).await;
    let (status, body) = parse(&answer);
    assert_eq!(
        (status, &body["code"]),
        (429, &Value::from("too_many_connections"))
    );
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{answer}"
    );

    // Another client is served meanwhile.
    let mut other = connect_from(21, app.addr()).await;
    other
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("sent");
    assert_eq!(parse(&read_until_closed(&mut other).await).0, 200);

    // A closed connection frees its place.
    drop(held.pop());
    let admitted = async {
        loop {
            let mut again = connect_from(20, app.addr()).await;
            again
                .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .expect("sent");
            if parse(&read_until_closed(&mut again).await).0 == 200 {
                return;
            }
        }
    };
    timeout(DEADLINE, admitted).await.expect("a place is freed");
}

#[tokio::test]
async fn connections_over_the_service_cap_get_503_with_retry_after() {
    let app = start(Limits {
        max_connections: 2,
        max_connections_per_ip: 2,
        ..Limits::default()
    })
    .await;
    let _a = connect_from(30, app.addr()).await;
    let _b = connect_from(31, app.addr()).await;
    let mut excess = connect_from(32, app.addr()).await;
    let answer = read_until_closed(&mut excess).await;
    let (status, body) = parse(&answer);
    assert_eq!(
        (status, &body["code"]),
        (503, &Value::from("too_many_connections"))
    );
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_without_an_answer() {
    let app = start(Limits {
        idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let mut stream = connect_from(1, app.addr()).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(
        answer.matches("HTTP/1.1").count(),
        1,
        "nothing after the answer: {answer}"
    );

    // A connection that never sends anything is closed too, silently.
    let mut silent = connect_from(1, app.addr()).await;
    assert_eq!(read_until_closed(&mut silent).await, "");
}

#[tokio::test]
async fn heads_hyper_would_refuse_get_json_errors() {
    let app = start(Limits::default()).await;
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9_000));
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    let cases: [(&[u8], u16, &str); 7] = [
        (b"GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (long_target.as_bytes(), 414, "uri_too_long"),
        (big_header.as_bytes(), 431, "headers_too_large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, "bad_request"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400, "bad_request"),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "bad_request",
        ),
    ];
    for (head, status, code) in cases {
        let mut stream = connect_from(1, app.addr()).await;
        stream.write_all(head).await.expect("sent");
        let answer = read_until_closed(&mut stream).await;
        let (got, body) = parse(&answer);
        let shown = String::from_utf8_lossy(&head[..head.len().min(60)]).into_owned();
        assert_eq!(
            (got, &body["code"]),
            (status, &Value::from(code)),
            "{shown}: {answer}"
        );
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
    }
    // The server still serves.
    let health = reqwest::get(app.url("/health")).await.expect("health");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn shutdown_lets_a_running_request_finish_and_closes_idle_connections() {
    let app = start(Limits::default()).await;
    let mut idle = connect_from(1, app.addr()).await;
    let mut busy = connect_from(1, app.addr()).await;
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    // The request is running once the server has read its head; a second request on the idle
    // connection proves the server is up before stopping it.
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.expect("an answer");
    assert_eq!(&first, b"HTTP/1.1 200");
    timeout(DEADLINE, app.stop())
        .await
        .expect("the server stops")
        .expect("cleanly");
    let answer = read_until_closed(&mut busy).await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"),
        "{answer}"
    );
    read_until_closed(&mut idle).await;
}

#[tokio::test]
async fn pipelined_requests_are_all_answered_before_the_idle_timeout_applies() {
    // Each /slow takes 300 ms, longer than the idle timeout: a request in flight is not idle.
    let app = start(Limits {
        idle_timeout: Duration::from_millis(200),
        ..Limits::default()
    })
    .await;
    let mut stream = connect_from(1, app.addr()).await;
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    let answer = read_until_closed(&mut stream).await;
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
    assert!(answer.ends_with("done"), "{answer}");
}
