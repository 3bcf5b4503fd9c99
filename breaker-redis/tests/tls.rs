//! Breakers on a real `redis-server` that speaks only TLS (`--port 0 --tls-port`), with
//! certificates made for each test: server-only TLS, mutual TLS, a wrong CA, `#insecure`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use breaker_redis::store::{RedisTls, TlsError};
use breaker_redis::{
    Breaker, Config, ErrorClass, RedisStore, RedisStoreOptions, State, StoreError, TripPolicy,
};
use test_support::{RedisServer, TestCerts, wait_until};

fn tls_server(certs: &TestCerts, auth_clients: bool) -> RedisServer {
    RedisServer::builder()
        .tls(certs, auth_clients)
        .start()
        .expect("a TLS redis-server")
}

fn ca(certs: &TestCerts) -> RedisTls {
    RedisTls::default()
        .with_ca(std::fs::read(certs.ca()).unwrap())
        .expect("a PEM CA")
}

fn with_client(tls: RedisTls, certs: &TestCerts) -> RedisTls {
    tls.with_client(
        std::fs::read(certs.client_cert()).unwrap(),
        std::fs::read(certs.client_key()).unwrap(),
    )
    .expect("a PEM certificate and key")
}

async fn store(url: &str, tls: RedisTls) -> Result<RedisStore, StoreError> {
    let options = RedisStoreOptions {
        response_timeout: Duration::from_secs(2),
        connection_timeout: Duration::from_secs(2),
        tls,
    };
    RedisStore::connect_with(url, options).await
}

async fn state(server: &RedisServer, name: &str) -> Option<String> {
    let mut conn = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .ok()?;
    redis::cmd("HGET")
        .arg(format!("breaker:{{{name}}}"))
        .arg("state")
        .query_async(&mut conn)
        .await
        .ok()?
}

/// Two failures trip a breaker whose store talks TLS; the state shows in Redis.
async fn trips_over(server: &RedisServer, store: RedisStore, name: &str) {
    store
        .load_scripts()
        .await
        .expect("the scripts load over TLS");
    let config = Config::builder()
        .trip(TripPolicy::consecutive_failures(2))
        .build()
        .unwrap();
    let breaker = Breaker::builder(name)
        .config(config)
        .store(store)
        .build()
        .unwrap();
    for _ in 0..2 {
        breaker.acquire().await.expect("closed").failure().await;
    }
    let rejected = breaker.acquire().await.expect_err("tripped");
    assert_eq!(rejected.state, State::Open);
    assert!(!breaker.is_degraded(), "the shared store answered");
    wait_until(
        Duration::from_secs(10),
        "the open state in Redis",
        || async { state(server, name).await.as_deref() == Some("open") },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_breaker_shares_its_state_over_tls() {
    let certs = TestCerts::generate().unwrap();
    let server = tls_server(&certs, false);
    let url = server.tls_url().expect("a TLS URL");
    let store = store(&url, ca(&certs)).await.expect("a store");
    trips_over(&server, store, "over-tls").await;
}

#[tokio::test]
async fn mutual_tls_works_with_a_client_certificate_and_fails_clearly_without() {
    let certs = TestCerts::generate().unwrap();
    let server = tls_server(&certs, true);
    let url = server.tls_url().unwrap();

    let store_with = store(&url, with_client(ca(&certs), &certs)).await.unwrap();
    trips_over(&server, store_with, "mutual-tls").await;

    let without = store(&url, ca(&certs)).await.unwrap();
    let error = without
        .load_scripts()
        .await
        .expect_err("the server wants a client certificate");
    assert_eq!(error.class(), ErrorClass::Connection, "{error}");
    let text = error.to_string();
    // The server's alert, as rustls reports it.
    assert!(text.contains("CertificateRequired"), "{text}");
}

#[tokio::test]
async fn a_server_signed_by_another_ca_is_refused_naming_the_certificate() {
    let certs = TestCerts::generate().unwrap();
    let other = TestCerts::generate().unwrap();
    let server = tls_server(&certs, false);
    let store = store(&server.tls_url().unwrap(), ca(&other)).await.unwrap();
    let error = store.load_scripts().await.expect_err("an unknown issuer");
    assert_eq!(error.class(), ErrorClass::Connection, "{error}");
    let text = error.to_string();
    // UnknownIssuer, or BadSignature when the other CA has the same name.
    assert!(text.contains("invalid peer certificate"), "{text}");
}

#[tokio::test]
async fn an_insecure_url_is_refused_unless_allowed() {
    let certs = TestCerts::generate().unwrap();
    let server = tls_server(&certs, false);
    let insecure = format!("{}#insecure", server.tls_url().unwrap());

    let refused = store(&insecure, RedisTls::default()).await.unwrap_err();
    assert!(
        matches!(refused, StoreError::Tls(TlsError::Insecure)),
        "{refused}"
    );

    let allowed = store(&insecure, RedisTls::default().allow_insecure(true))
        .await
        .expect("allowed explicitly");
    allowed
        .load_scripts()
        .await
        .expect("no certificate check at all");
}

#[tokio::test]
async fn bad_tls_settings_are_refused_before_connecting() {
    let certs = TestCerts::generate().unwrap();
    let not_pem = RedisTls::default().with_ca(b"-----BEGIN NOTHING-----".to_vec());
    assert!(matches!(not_pem, Err(TlsError::Ca(_))), "{not_pem:?}");
    let key_as_cert = RedisTls::default().with_client(
        std::fs::read(certs.client_key()).unwrap(),
        std::fs::read(certs.client_key()).unwrap(),
    );
    assert!(matches!(key_as_cert, Err(TlsError::Cert(_))));
    let cert_as_key = RedisTls::default().with_client(
        std::fs::read(certs.client_cert()).unwrap(),
        std::fs::read(certs.client_cert()).unwrap(),
    );
    assert!(matches!(cert_as_key, Err(TlsError::Key(_))));
    let plain = store("redis://127.0.0.1:6379/", ca(&certs))
        .await
        .unwrap_err();
    assert!(
        matches!(plain, StoreError::Tls(TlsError::NotTls)),
        "{plain}"
    );
}
