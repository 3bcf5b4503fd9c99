//! The per-replica limiter (no Redis, or Redis unreachable): its memory is bounded however many
//! clients come, it forgets idle clients on a timer rather than in the request path, and an
//! IPv6 client is one budget per /64 (a host gets 2^64 addresses for free).

use std::net::IpAddr;
use std::time::Duration;

use resilience::rate_limit::{LOCAL_CAPACITY, RateLimitConfig, RateLimiter, ip_key};
use test_support::wait_until;

use crate::common::secs;
use crate::key;

fn local(cfg: RateLimitConfig) -> RateLimiter {
    RateLimiter::builder("local").config(cfg).build().unwrap()
}

#[tokio::test]
async fn the_local_map_never_holds_more_than_its_capacity() {
    // One call an hour: no client's budget refills during the test, so none is idle.
    let cfg = RateLimitConfig::builder()
        .rate(1, Duration::from_secs(3600))
        .build()
        .unwrap();
    let limiter = local(cfg);
    for n in 0..LOCAL_CAPACITY + 2_000 {
        let client = key(&format!("2001:db8::{n:x}"));
        assert!(limiter.check(&client).await.is_ok(), "client {n}");
        assert!(
            limiter.local_clients() <= LOCAL_CAPACITY,
            "after client {n}"
        );
    }
    // The newest client is tracked: its second call is refused.
    let last = key(&format!("2001:db8::{:x}", LOCAL_CAPACITY + 1_999));
    assert!(limiter.check(&last).await.is_err());
}

#[tokio::test]
async fn idle_clients_are_forgotten_without_further_requests() {
    // 1000 a second, burst 1: a client's budget is full again a millisecond after its call.
    let cfg = RateLimitConfig::builder()
        .per_second(1000)
        .burst(1)
        .build()
        .unwrap();
    let limiter = local(cfg);
    for n in 0..100 {
        limiter.check(&key(&format!("10.0.0.{n}"))).await.unwrap();
    }
    assert!(limiter.local_clients() > 0);
    wait_until(secs(10), "idle clients to be swept", || async {
        limiter.local_clients() == 0
    })
    .await
    .unwrap();
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn an_ipv6_client_is_keyed_by_its_64_bit_prefix() {
    assert_eq!(
        ip_key(ip("2001:db8:1:2::1")),
        ip_key(ip("2001:db8:1:2:ffff::9"))
    );
    assert_ne!(ip_key(ip("2001:db8:1:2::1")), ip_key(ip("2001:db8:1:3::1")));
    assert_eq!(ip_key(ip("2001:db8:1:2::1")).as_str(), "2001:db8:1:2::/64");
}

#[test]
fn an_ipv4_client_is_keyed_by_its_address_whatever_the_socket() {
    assert_eq!(ip_key(ip("10.0.0.1")).as_str(), "10.0.0.1");
    assert_ne!(ip_key(ip("10.0.0.1")), ip_key(ip("10.0.0.2")));
    assert_eq!(ip_key(ip("::ffff:10.0.0.1")), ip_key(ip("10.0.0.1")));
}
