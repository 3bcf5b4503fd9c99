//! Configuration, keys, the tower layer and metrics: no Redis needed.

use std::convert::Infallible;
use std::time::Duration;

use breaker_redis::{RedisStore, RedisStoreOptions};
use resilience::ConfigError;
use resilience::rate_limit::{
    ClientKey, InvalidKey, MAX_KEY_LEN, RateLimitConfig, RateLimitLayer, RateLimitSettings,
    RateLimited, RateLimiter,
};
use tower::{Service, ServiceBuilder, ServiceExt};

use crate::key;

fn setting(result: Result<RateLimitConfig, ConfigError>) -> &'static str {
    result.unwrap_err().setting
}

#[test]
fn invalid_quotas_are_rejected_with_the_setting_named() {
    let b = RateLimitConfig::builder;
    assert_eq!(setting(b().build()), "per_second");
    assert_eq!(setting(b().per_second(0).build()), "per_second");
    assert_eq!(setting(b().per_second(10).burst(0).build()), "burst");
    assert_eq!(setting(b().rate(5, Duration::ZERO).build()), "rate");
    assert_eq!(
        setting(b().rate(5, Duration::from_micros(1500)).build()),
        "rate"
    );
    assert_eq!(
        setting(b().rate(5, Duration::from_secs(90_000)).build()),
        "rate"
    );
    assert_eq!(setting(b().per_second(2_000_000).build()), "per_second");
    assert_eq!(
        setting(b().per_second(1).key_prefix("a{b}").build()),
        "key_prefix"
    );
    assert_eq!(
        setting(b().per_second(1).store_timeout(Duration::ZERO).build()),
        "store_timeout"
    );
    let name = RateLimiter::builder("has space")
        .config(b().per_second(1).build().unwrap())
        .build();
    assert_eq!(name.unwrap_err().setting, "name");
    let q = b().per_second(10).build().unwrap().quota();
    assert_eq!(
        (q.count(), q.period(), q.burst()),
        (10, Duration::from_secs(1), 10)
    );
}

#[test]
fn settings_read_from_toml() {
    let s: RateLimitSettings = toml::from_str(
        "rate = \"100/1m\"\nburst = 20\nkey_prefix = \"rl\"\nstore_timeout = \"50ms\"",
    )
    .unwrap();
    let cfg = s.build().unwrap();
    assert_eq!(
        (cfg.quota().count(), cfg.quota().period()),
        (100, Duration::from_secs(60))
    );
    assert_eq!((cfg.quota().burst(), cfg.key_prefix()), (20, "rl"));
    assert_eq!(cfg.store_timeout(), Duration::from_millis(50));
    let s: RateLimitSettings = toml::from_str("per_second = 7").unwrap();
    assert_eq!(s.build().unwrap().quota().burst(), 7);
    for bad in [
        "",
        "per_second = 1\nrate = \"1/1s\"",
        "rate = \"ten/1s\"",
        "rate = \"10\"",
    ] {
        let s: RateLimitSettings = toml::from_str(bad).unwrap();
        assert!(s.build().is_err(), "{bad:?} must not build");
    }
    assert!(toml::from_str::<RateLimitSettings>("per_minute = 1").is_err());
}

#[test]
fn client_keys_are_checked() {
    assert!(ClientKey::new("10.0.0.1").is_ok());
    assert!(ClientKey::new("2001:db8::1").is_ok());
    assert!(ClientKey::new("GET:/orders/:id").is_ok());
    assert_eq!(ClientKey::new(""), Err(InvalidKey::Empty));
    assert_eq!(ClientKey::new("a{b"), Err(InvalidKey::Forbidden('{')));
    assert_eq!(ClientKey::new("a}b"), Err(InvalidKey::Forbidden('}')));
    assert_eq!(ClientKey::new("GET /x"), Err(InvalidKey::Forbidden(' ')));
    assert_eq!(ClientKey::new("a\nb"), Err(InvalidKey::Forbidden('\n')));
    assert_eq!(
        ClientKey::new("x".repeat(MAX_KEY_LEN + 1)),
        Err(InvalidKey::TooLong(MAX_KEY_LEN + 1))
    );
    assert!(ClientKey::new("x".repeat(MAX_KEY_LEN)).is_ok());
}

fn local_limiter(name: &str, per_hour: u32) -> RateLimiter {
    let cfg = RateLimitConfig::builder()
        .rate(per_hour, Duration::from_secs(3600))
        .build();
    RateLimiter::builder(name)
        .config(cfg.unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_layer_limits_per_extracted_key() {
    let inner = tower::service_fn(|req: String| async move { Ok::<_, Infallible>(req.len()) });
    let mut svc = ServiceBuilder::new()
        .layer(RateLimitLayer::new(
            local_limiter("layer", 2),
            |req: &String| ClientKey::new(req.split('/').next().unwrap_or_default()).ok(),
        ))
        .service(inner);
    for req in ["alice/a", "alice/bb", "bob/c"] {
        let n = svc
            .ready()
            .await
            .unwrap()
            .call(req.to_owned())
            .await
            .unwrap();
        assert_eq!(n, req.len());
    }
    let err = svc
        .ready()
        .await
        .unwrap()
        .call("alice/d".to_owned())
        .await
        .unwrap_err();
    let limited = err.downcast_ref::<RateLimited>().expect("RateLimited");
    assert_eq!(limited.limiter, "layer");
    assert!(limited.retry_after > Duration::from_secs(60));
    // A request the extractor names no client for is not limited.
    for _ in 0..3 {
        let unnamed = svc.ready().await.unwrap().call("a b/x".to_owned()).await;
        assert_eq!(unnamed.unwrap(), 5);
    }
}

#[test]
fn allowed_rejected_and_degraded_are_measured() {
    let probe = crate::common::metrics::recorded(async |_| {
        let local = local_limiter("metered", 2);
        for _ in 0..3 {
            let _ = local.check(&key("c")).await;
        }
        // A store on a port nobody listens on: degraded from the first check.
        let port = test_support::free_port();
        let opts = RedisStoreOptions {
            connection_timeout: Duration::from_millis(200),
            ..Default::default()
        };
        let store = RedisStore::connect_with(&format!("redis://127.0.0.1:{port}"), opts)
            .await
            .unwrap();
        let cfg = RateLimitConfig::builder()
            .per_second(1)
            .store_timeout(Duration::from_millis(300))
            .build();
        let dead = RateLimiter::builder("dead")
            .config(cfg.unwrap())
            .store(store)
            .build()
            .unwrap();
        assert!(dead.check(&key("c")).await.unwrap().degraded);
    });
    let m = probe.read();
    let metric = |name, limiter| crate::common::metrics::value(&m, name, ("limiter", limiter));
    assert_eq!(metric("rate_limit_allowed_total", "metered"), Some(2.0));
    assert_eq!(metric("rate_limit_rejected_total", "metered"), Some(1.0));
    assert_eq!(metric("rate_limit_degraded", "dead"), Some(1.0));
    assert_eq!(metric("rate_limit_allowed_total", "dead"), Some(1.0));
}
