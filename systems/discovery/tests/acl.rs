//! The registry under the least-privilege user of `deploy/redis-acl.conf`: every script and
//! command it runs is allowed, and nothing else is needed.

mod common;

use common::{delete, get, post};
use discovery::server;
use reqwest::StatusCode;
use serde_json::json;
use service_kit::ServerConfig;
use test_support::RedisServer;

const DEPLOYED: &str = include_str!("../../../deploy/redis-acl.conf");

/// A server with the deployed users, the harness logging in as the operator (`default`).
fn acl_server() -> RedisServer {
    let operator = DEPLOYED
        .lines()
        .find(|l| l.starts_with("user default "))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix('>')))
        .expect("the operator's password");
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/redis-acl.conf");
    RedisServer::builder()
        .args(["--aclfile", file])
        .admin("default", operator)
        .start()
        .expect("redis-server with the deployed ACL")
}

fn services_url(redis: &RedisServer) -> String {
    let password = DEPLOYED
        .lines()
        .find(|l| l.starts_with("user services "))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix('>')))
        .expect("the services' password");
    redis.url_as("services", password)
}

#[tokio::test]
async fn the_registry_works_as_the_deployed_services_user() {
    let redis = acl_server();
    let config = server::Config {
        redis_url: services_url(&redis),
        ..server::Config::default()
    };
    let router = server::router(&config, &ServerConfig::new("service-discovery", 0))
        .await
        .expect("router");
    let server = service_kit::spawn(router).await.expect("spawned");
    let http = reqwest::Client::new();
    let body = json!({"name": "user-service", "port": 4000, "heartbeatInterval": 30});
    let (status, registered) = post(&http, &server.url("/register"), &body).await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    let (status, beat) = post(&http, &server.url("/heartbeat"), &body).await;
    assert_eq!(status, StatusCode::OK, "{beat}");
    let (status, listed) = get(&http, &server.url("/services")).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(listed.to_string().contains("user-service"), "{listed}");
    let (status, one) = get(&http, &server.url("/services/user-service")).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let (status, removed) = delete(&http, &server.url("/services/user-service/4000")).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    let (status, gone) = get(&http, &server.url("/services/user-service")).await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["services"], json!([]), "{gone}");
}
