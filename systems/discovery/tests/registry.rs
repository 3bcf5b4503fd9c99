//! The discovery server's API on a real Redis: bodies, bad input, expiry at the heartbeat
//! deadline, several servers on one Redis, and Redis down.

mod common;

use common::{DEADLINE, delete, get, post, redis_ms};
use discovery::server;
use reqwest::StatusCode;
use serde_json::{Value, json};
use service_kit::{ServerConfig, Spawned};
use test_support::{RedisServer, wait_until};

async fn spawn_server(redis: &RedisServer) -> Spawned {
    let config = server::Config {
        redis_url: redis.url(),
        ..server::Config::default()
    };
    let router = server::router(&config, &ServerConfig::new("service-discovery", 0))
        .await
        .expect("router");
    service_kit::spawn(router).await.expect("spawned")
}

#[tokio::test]
async fn registering_listing_and_removing_answer_the_contract_bodies() {
    let redis = RedisServer::start().expect("redis");
    let server = spawn_server(&redis).await;
    let http = reqwest::Client::new();
    let body = json!({"name": "user-service", "port": 4000, "heartbeatInterval": 30});
    let (status, registered) = post(&http, &server.url("/register"), &body).await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    assert_eq!(registered["id"], "user-service@127.0.0.1:4000");
    assert_eq!(registered["heartbeatInterval"], 30);
    assert!(registered["registeredAt"].is_u64());

    let given_host = json!({"name": "user-service", "port": 4001, "host": "users-2"});
    let (status, beat) = post(&http, &server.url("/heartbeat"), &given_host).await;
    assert_eq!(status, StatusCode::OK, "{beat}");
    assert_eq!(
        (&beat["ok"], &beat["nextHeartbeatIn"]),
        (&json!(true), &json!(30))
    );
    assert!(beat["lastHeartbeat"].is_u64());

    let (_, listed) = get(&http, &server.url("/services/user-service")).await;
    let services = listed["services"].as_array().expect("services");
    assert_eq!(services.len(), 2, "{listed}");
    let first = &services[0];
    for field in [
        "id",
        "name",
        "ip",
        "port",
        "heartbeatInterval",
        "registeredAt",
        "lastHeartbeat",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert_eq!(
        services[1]["ip"], "users-2",
        "host wins over the caller's address"
    );
    let (_, all) = get(&http, &server.url("/services")).await;
    assert_eq!(all["user-service"][0]["status"], "alive", "{all}");
    let (_, unknown) = get(&http, &server.url("/services/nobody")).await;
    assert_eq!(unknown, json!({"services": []}));

    let (status, removed) = delete(&http, &server.url("/services/user-service/4000")).await;
    assert_eq!(
        (status, removed),
        (
            StatusCode::OK,
            json!({"message": "Service removed successfully"})
        )
    );
    let (status, missing) = delete(&http, &server.url("/services/user-service/4000")).await;
    assert_eq!(
        (status, missing),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Service instance not found"})
        )
    );
    let (status, missing) = delete(&http, &server.url("/services/nobody/4000")).await;
    assert_eq!(
        (status, missing),
        (StatusCode::NOT_FOUND, json!({"error": "Service not found"}))
    );
    let (_, left) = get(&http, &server.url("/services/user-service")).await;
    assert_eq!(left["services"].as_array().map(Vec::len), Some(1), "{left}");
}

#[tokio::test]
async fn bad_input_is_refused_with_a_json_400_and_changes_nothing() {
    let redis = RedisServer::start().expect("redis");
    let server = spawn_server(&redis).await;
    let http = reqwest::Client::new();
    let ok = json!({"name": "order-service", "port": 5000});
    assert_eq!(
        post(&http, &server.url("/register"), &ok).await.0,
        StatusCode::OK
    );
    let (_, before) = get(&http, &server.url("/services")).await;
    let required = json!({"error": "Name and port are required"});
    let bad: Vec<(Value, Option<&Value>)> = vec![
        (json!({}), Some(&required)),
        (json!({"name": "x"}), Some(&required)),
        (json!({"port": 5001}), Some(&required)),
        (json!({"name": "", "port": 5001}), Some(&required)),
        (json!({"name": "a b", "port": 5001}), Some(&required)),
        (
            json!({"name": "x".repeat(65), "port": 5001}),
            Some(&required),
        ),
        (json!({"name": "x", "port": 0}), Some(&required)),
        (json!({"name": "x", "port": 65536}), Some(&required)),
        (json!({"name": "x", "port": "5001"}), Some(&required)),
        (
            json!({"name": "x", "port": 5001, "heartbeatInterval": 0}),
            None,
        ),
        (
            json!({"name": "x", "port": 5001, "heartbeatInterval": -1}),
            None,
        ),
        (
            json!({"name": "x", "port": 5001, "heartbeatInterval": 1e9}),
            None,
        ),
        (
            json!({"name": "x", "port": 5001, "heartbeatInterval": "30"}),
            None,
        ),
        (json!({"name": "x", "port": 5001, "host": ""}), None),
        (json!({"name": "x", "port": 5001, "host": "a/b"}), None),
        (json!([1, 2]), Some(&required)),
    ];
    for path in ["/register", "/heartbeat"] {
        for (body, expected) in &bad {
            let (status, answer) = post(&http, &server.url(path), body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
            assert!(answer["error"].is_string(), "{answer}");
            if let Some(expected) = expected {
                assert_eq!(&answer, *expected, "{path} {body}");
            }
        }
    }
    let not_json = http
        .post(server.url("/register"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let (status, _) = delete(&http, &server.url("/services/order-service/http")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, after) = get(&http, &server.url("/services")).await;
    assert_eq!(before, after, "nothing changed");
}

#[tokio::test]
async fn an_instance_is_gone_once_its_heartbeat_deadline_passes() {
    let redis = RedisServer::start().expect("redis");
    let server = spawn_server(&redis).await;
    let http = reqwest::Client::new();
    let body = json!({"name": "user-service", "port": 4000, "heartbeatInterval": 0.4});
    let (_, beat) = post(&http, &server.url("/heartbeat"), &body).await;
    let deadline = beat["lastHeartbeat"].as_u64().expect("ms") + 600;
    let (_, listed) = get(&http, &server.url("/services/user-service")).await;
    if redis_ms(&redis).await < deadline {
        assert_eq!(
            listed["services"].as_array().map(Vec::len),
            Some(1),
            "{listed}"
        );
    }
    wait_until(
        DEADLINE,
        "the deadline to pass on Redis's clock",
        || async { redis_ms(&redis).await > deadline },
    )
    .await
    .expect("time passes");
    let (_, listed) = get(&http, &server.url("/services/user-service")).await;
    assert_eq!(
        listed,
        json!({"services": []}),
        "gone at its deadline, no sweep needed"
    );
    let (_, all) = get(&http, &server.url("/services")).await;
    assert_eq!(all, json!({}));
}

#[tokio::test]
async fn two_servers_on_one_redis_agree_and_a_new_one_loses_nothing() {
    let redis = RedisServer::start().expect("redis");
    let (one, two) = (spawn_server(&redis).await, spawn_server(&redis).await);
    let http = reqwest::Client::new();
    for port in [4000, 4001] {
        let body = json!({"name": "user-service", "port": port});
        post(&http, &one.url("/register"), &body).await;
    }
    let body = json!({"name": "order-service", "port": 5000});
    post(&http, &two.url("/register"), &body).await;
    delete(&http, &two.url("/services/user-service/4001")).await;
    for path in [
        "/services",
        "/services/user-service",
        "/services/order-service",
    ] {
        assert_eq!(
            get(&http, &one.url(path)).await,
            get(&http, &two.url(path)).await,
            "{path}"
        );
    }
    one.stop().await.expect("stopped");
    let restarted = spawn_server(&redis).await;
    assert_eq!(
        get(&http, &restarted.url("/services")).await,
        get(&http, &two.url("/services")).await
    );
    let (_, users) = get(&http, &restarted.url("/services/user-service")).await;
    assert_eq!(users["services"][0]["port"], 4000);
}

#[tokio::test]
async fn redis_down_answers_503_json_and_the_registry_comes_back_with_it() {
    let mut redis = RedisServer::start().expect("redis");
    let server = spawn_server(&redis).await;
    let http = reqwest::Client::new();
    let body = json!({"name": "user-service", "port": 4000});
    post(&http, &server.url("/register"), &body).await;
    redis.kill();
    for (status, answer) in [
        post(&http, &server.url("/register"), &body).await,
        post(&http, &server.url("/heartbeat"), &body).await,
        get(&http, &server.url("/services")).await,
        get(&http, &server.url("/services/user-service")).await,
        delete(&http, &server.url("/services/user-service/4000")).await,
    ] {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|e| e.contains("Registry unavailable")),
            "{answer}"
        );
    }
    let (status, health) = get(&http, &server.url("/health")).await;
    assert_eq!((status, &health["redis"]), (StatusCode::OK, &json!("down")));
    redis.restart().expect("redis back");
    wait_until(DEADLINE, "the registry answers again", || async {
        post(&http, &server.url("/register"), &body).await.0 == StatusCode::OK
    })
    .await
    .expect("back");
}
