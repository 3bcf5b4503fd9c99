//! The shipping-service's rate limit: 10 a minute per client, shared in Redis, the client
//! named by `X-Forwarded-For` only behind a trusted proxy.

mod common;

use std::net::IpAddr;

use common::answer;
use common::shipping::{Env, shipment};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use service_kit::time::now_ms;
use shop::common::{RATE_LIMIT_MESSAGE, TrustedProxies};
use shop::shipping::Config;

fn header(headers: &HeaderMap, name: &str) -> u64 {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a numeric {name} in {headers:?}"))
}

#[tokio::test]
async fn fifteen_concurrent_requests_from_one_client_give_ten_shipments() {
    let env = Env::start();
    let config = Config {
        rate_limit_per_minute: 10,
        ..env.config()
    };
    let app = env.spawn(&config).await;
    let url = app.url("/api/shipping");
    let requests = (0..15).map(|n| {
        let request = env.http.post(&url).json(&shipment(&format!("o-{n}")));
        tokio::spawn(async move { answer(request.send().await).await })
    });
    let (mut created, mut limited) = (0, 0);
    for request in requests {
        let (status, headers, body) = request.await.expect("joins");
        assert_eq!(header(&headers, "x-ratelimit-limit"), 10);
        assert!(header(&headers, "x-ratelimit-remaining") < 10);
        assert!(header(&headers, "x-ratelimit-reset") > now_ms() / 1000 - 1);
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert_eq!(body["error"], RATE_LIMIT_MESSAGE);
                assert!(body["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0));
                assert!(header(&headers, "retry-after") >= 1);
                assert_eq!(header(&headers, "x-ratelimit-remaining"), 0);
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((created, limited), (10, 5));
}

/// Sends `n` `GET`s as `http` with `X-Forwarded-For: forwarded`; the statuses.
async fn statuses(http: &reqwest::Client, url: &str, forwarded: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let request = http.get(url).header("x-forwarded-for", forwarded);
        statuses.push(request.send().await.expect("request").status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_have_their_own_budgets() {
    let env = Env::start();
    let config = Config {
        rate_limit_per_minute: 10,
        ..env.config()
    };
    let app = env.spawn(&config).await;
    let url = app.url("/api/shipping/none");
    let first = statuses(&env.http, &url, "203.0.113.1", 11).await;
    assert_eq!(first[..10], [404; 10]);
    assert_eq!(first[10], 429);
    let second = statuses(&env.http, &url, "198.51.100.7, 203.0.113.2", 10).await;
    assert_eq!(second, [404; 10], "the last address is the client");
}

#[tokio::test]
async fn an_untrusted_peer_cannot_name_its_client() {
    let env = Env::start();
    let config = Config {
        rate_limit_per_minute: 10,
        trusted_proxies: "127.0.0.1".parse::<TrustedProxies>().expect("valid"),
        ..env.config()
    };
    let app = env.spawn(&config).await;
    let url = app.url("/api/shipping/none");
    let untrusted = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let mut seen = Vec::new();
    for n in 0..11 {
        seen.extend(statuses(&untrusted, &url, &format!("203.0.113.{n}"), 1).await);
    }
    assert_eq!(seen[..10], [404; 10]);
    assert_eq!(seen[10], 429, "every request counted against 127.0.0.2");
    let trusted = statuses(&env.http, &url, "203.0.113.50", 1).await;
    assert_eq!(trusted, [404]);
}

#[tokio::test]
async fn the_limit_holds_locally_while_redis_is_down() {
    let mut env = Env::start();
    let config = Config {
        rate_limit_per_minute: 10,
        ..env.config()
    };
    let app = env.spawn(&config).await;
    env.redis.kill();
    let url = app.url("/api/shipping/none");
    let seen = statuses(&env.http, &url, "203.0.113.9", 25).await;
    assert!(
        seen.iter().all(|s| [404, 429].contains(s)),
        "no 5xx: {seen:?}"
    );
    assert!(seen.contains(&429), "still limited: {seen:?}");
}
