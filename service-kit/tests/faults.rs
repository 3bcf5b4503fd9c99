//! `GET|PUT|DELETE /faults` and a handler deciding with them, over real sockets.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use service_kit::faults::{self, Extra, FaultControl, Faults, FaultsConfig, InvalidFaults};
use service_kit::{App, Loader, ServerConfig, Spawned};

/// A service's own setting: answers are tagged with a colour (1 to 9).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Shade {
    shade: u8,
}

#[derive(Debug, Default, Deserialize)]
struct ShadeUpdate {
    shade: Option<u8>,
}

impl Extra for Shade {
    type Update = ShadeUpdate;

    fn updated(&self, update: &ShadeUpdate) -> Result<Self, InvalidFaults> {
        match update.shade {
            Some(shade) if !(1..=9).contains(&shade) => {
                Err(InvalidFaults::new("shade", "must be between 1 and 9"))
            }
            shade => Ok(Self {
                shade: shade.unwrap_or(self.shade),
            }),
        }
    }
}

async fn work(State(control): State<Arc<FaultControl<Shade>>>) -> StatusCode {
    control.check().await.outcome.status()
}

/// A service with `/work` and `/faults`, its defaults from `vars` like the environment.
async fn start(vars: &[(&str, &str)], max_body_bytes: usize) -> Spawned {
    let loader = Loader::from_vars(vars.iter().copied()).expect("loads");
    let config = FaultsConfig::from_loader(&loader).expect("valid");
    let base = Faults::with_extra(Shade { shade: 3 });
    let control = Arc::new(FaultControl::from_config(base, &config).expect("in range"));
    let routes = Router::new()
        .route("/work", get(work))
        .with_state(Arc::clone(&control))
        .merge(faults::routes(control));
    let server = ServerConfig {
        max_body_bytes,
        ..ServerConfig::new("faults-test", 0)
    };
    service_kit::spawn(App::new(&server).build(routes))
        .await
        .expect("server starts")
}

async fn answer(response: reqwest::Result<reqwest::Response>) -> (StatusCode, Value) {
    let response = response.expect("request");
    (response.status(), response.json().await.expect("JSON body"))
}

async fn put_raw(app: &Spawned, body: &str) -> (StatusCode, Value) {
    let request = reqwest::Client::new()
        .put(app.url("/faults"))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    answer(request.send().await).await
}

async fn get_faults(app: &Spawned) -> Value {
    answer(reqwest::get(app.url("/faults")).await).await.1
}

#[tokio::test]
async fn get_put_and_delete_faults() {
    let app = start(&[("FAULTS__DELAY_MS", "2")], 65536).await;
    let defaults = json!({"shade": 3, "failure_rate": 0.0, "delay_ms": 2, "down": false});
    assert_eq!(get_faults(&app).await, defaults);
    let text = reqwest::get(app.url("/faults")).await.expect("request");
    let text = text.text().await.expect("text");
    assert_eq!(
        text,
        r#"{"shade":3,"failure_rate":0.0,"delay_ms":2,"down":false}"#
    );

    let (status, body) = put_raw(&app, r#"{"down": true, "shade": 5}"#).await;
    assert_eq!(status, StatusCode::OK);
    let changed = json!({"shade": 5, "failure_rate": 0.0, "delay_ms": 2, "down": true});
    assert_eq!(body, changed);
    let (status, body) = put_raw(&app, r#"{"delay_ms": null, "failure_rate": 1}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&body["delay_ms"], &body["failure_rate"]),
        (&json!(2), &json!(1.0))
    );
    assert_eq!(get_faults(&app).await, body);
    let work = reqwest::get(app.url("/work")).await.expect("request");
    assert_eq!(work.status(), StatusCode::SERVICE_UNAVAILABLE);
    put_raw(&app, r#"{"down": false}"#).await;
    let work = reqwest::get(app.url("/work")).await.expect("request");
    assert_eq!(work.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let client = reqwest::Client::new();
    let (status, body) = answer(client.delete(app.url("/faults")).send().await).await;
    assert_eq!((status, &body), (StatusCode::OK, &defaults));
    assert_eq!(get_faults(&app).await, defaults);
    let work = reqwest::get(app.url("/work")).await.expect("request");
    assert_eq!(work.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_updates_answer_json_4xx_and_change_nothing() {
    let app = start(&[], 1024).await;
    put_raw(&app, r#"{"failure_rate": 0.25}"#).await;
    let before = get_faults(&app).await;
    let cases = [
        (r#"{"down": tru"#, "malformed JSON body"),
        (r#"{"down": "yes"}"#, "invalid request body"),
        (r#"{"delay_ms": 1.5}"#, "invalid request body"),
        (r#"{"shade": "5"}"#, "invalid request body"),
        (r#"{"down": true, "colour": "red"}"#, "invalid request body"),
        (r#"[]"#, "invalid request body"),
        (r#"[0.5, 10, true]"#, "invalid request body"),
        (r#"[{"down": true}]"#, "invalid request body"),
        (r#"{"failure_rate": -0.0}"#, "invalid fault settings"),
        (
            r#"{"down": true, "failure_rate": -0e0}"#,
            "invalid fault settings",
        ),
        (
            r#"{"down": true, "failure_rate": 1.01}"#,
            "invalid fault settings",
        ),
        (r#"{"failure_rate": -0.5}"#, "invalid fault settings"),
        (
            r#"{"down": true, "delay_ms": 60001}"#,
            "invalid fault settings",
        ),
        (r#"{"down": true, "shade": 10}"#, "invalid fault settings"),
    ];
    for (body, error) in cases {
        let (status, answer) = put_raw(&app, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["error"], error, "{body}");
        assert_eq!(answer["code"], "bad_request", "{body}");
        assert!(answer["detail"].is_string(), "{body}: {answer}");
    }
    let oversized = format!(r#"{{"down": true, "padding": "{}"}}"#, "x".repeat(2048));
    let (status, answer) = put_raw(&app, &oversized).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer["error"], "request body too large");
    let untyped = reqwest::Client::new()
        .put(app.url("/faults"))
        .body(r#"{"down": true}"#);
    let (status, answer) = self::answer(untyped.send().await).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(answer["error"].is_string(), "{answer}");
    assert_eq!(get_faults(&app).await, before);
}

#[tokio::test]
async fn a_seed_makes_random_failures_repeatable() {
    let vars = [("FAULTS__FAILURE_RATE", "0.5"), ("FAULTS__SEED", "2026")];
    let statuses = async |app: &Spawned| {
        let mut seen = Vec::new();
        for _ in 0..24 {
            let work = reqwest::get(app.url("/work")).await.expect("request");
            seen.push(work.status().as_u16());
        }
        seen
    };
    let first = statuses(&start(&vars, 65536).await).await;
    assert_eq!(first, statuses(&start(&vars, 65536).await).await);
    assert!(first.contains(&200) && first.contains(&500), "{first:?}");
}
