use serde_json::json;

use super::*;

fn record(state: RecordState, until_ms: u64) -> Record {
    Record {
        state,
        fingerprint: "fp".into(),
        order_id: "order-1".into(),
        until_ms,
        status: 201,
        body: json!({"orderId": "order-1"}),
    }
}

#[test]
fn a_finished_order_is_replayed_and_a_running_one_is_in_progress() {
    let done = decide(&record(RecordState::Done, 0), "fp", 100);
    let replay = Answer::new(StatusCode::CREATED, json!({"orderId": "order-1"}));
    assert_eq!(done, Decision::Answer(Begin::Replay(replay)));
    let running = decide(&record(RecordState::Pending, 200), "fp", 100);
    assert_eq!(running, Decision::Answer(Begin::InProgress));
}

#[test]
fn an_abandoned_or_retryable_order_runs_again_under_its_id() {
    for state in [RecordState::Pending, RecordState::Retry] {
        let decision = decide(&record(state, 50), "fp", 100);
        assert_eq!(decision, Decision::TakeOver("order-1".into()));
    }
}

#[test]
fn another_request_under_the_key_is_a_mismatch() {
    let decision = decide(&record(RecordState::Done, 0), "other", 100);
    assert_eq!(decision, Decision::Answer(Begin::Mismatch));
}

#[test]
fn fingerprints_ignore_key_order_and_tell_bodies_apart() {
    let a: Value = serde_json::from_str(r#"{"a":1,"b":[1,2]}"#).expect("json");
    let b: Value = serde_json::from_str(r#"{"b":[1,2],"a":1}"#).expect("json");
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_ne!(fingerprint(&a), fingerprint(&json!({"a": 2, "b": [1, 2]})));
}

#[test]
fn keys_are_visible_ascii_of_bounded_length() {
    assert!(valid_key("order-2026-abc_1"));
    for bad in ["", "with space", "é", &"k".repeat(256)] {
        assert!(!valid_key(bad), "{bad:?}");
    }
}

#[test]
fn the_local_records_are_bounded_oldest_first() {
    let mut local = Local::default();
    let ttl = Duration::from_secs(60);
    for i in 0..=LOCAL_CAPACITY {
        local.insert(&format!("k{i}"), record(RecordState::Done, 0), ttl);
    }
    assert_eq!(local.records.len(), LOCAL_CAPACITY);
    assert!(local.get("k0").is_none());
    assert!(local.get(&format!("k{LOCAL_CAPACITY}")).is_some());
}

#[test]
fn the_local_records_expire() {
    let mut local = Local::default();
    local.insert("k", record(RecordState::Done, 0), Duration::ZERO);
    assert!(local.get("k").is_none());
}
